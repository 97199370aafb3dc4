//! Writing a folder that readers must see whole (a report, a
//! comparison): into a staging folder first, then moved into place, and
//! only where that destroys nothing a user made.
//!
//! A report folder holds a marker file, [`MARKER`], listing what
//! corebench wrote there. [`staged`] writes only into a folder that is
//! new, empty, or marked so; then it replaces only the entries the marker
//! lists and keeps every other one. A results folder, an input, a folder
//! holding an input, and any other folder with files in it are refused
//! with [`OutRefused`], which the CLI turns into exit 2.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{OutRefused, ReportError};

/// The marker file in every report and comparison folder: it says
/// corebench wrote the folder and lists, one name per line, the entries
/// it wrote (the marker itself not included).
pub const MARKER: &str = ".corebench-report";

/// What a report folder of an older corebench (written before the
/// marker) holds: its default `DIR/report/` is still re-rendered in place
/// when every entry is one of these.
fn is_unmarked_report_entry(name: &str) -> bool {
    matches!(
        name,
        "index.html" | "summary.csv" | "summary.md" | "flame" | "data"
    ) || name.ends_with(".svg")
}

/// Whether `dir` is a results folder: what `run` and `exec` write.
fn is_results_folder(dir: &Path) -> bool {
    ["records.jsonl", "host.json"]
        .iter()
        .any(|name| dir.join(name).symlink_metadata().is_ok())
}

/// `path` made absolute with every existing part's links resolved, so two
/// spellings of one place compare equal even when the last parts do not
/// exist yet.
pub fn resolve(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut existing = absolute.as_path();
    let mut missing = Vec::new();
    while existing.symlink_metadata().is_err() {
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                missing.push(name.to_os_string());
                existing = parent;
            }
            _ => break,
        }
    }
    let mut resolved = fs::canonicalize(existing).unwrap_or_else(|_| existing.to_path_buf());
    resolved.extend(missing.iter().rev());
    resolved
}

/// Checks that `out` may take a report or comparison of `inputs` (the
/// results folders it reads); returns the entries of `out` to keep (what
/// corebench did not write, in a folder it marked).
pub fn check_output(out: &Path, inputs: &[&Path]) -> Result<Vec<OsString>, OutRefused> {
    let refuse = |reason: String| OutRefused {
        path: out.to_path_buf(),
        reason,
    };
    let resolved = resolve(out);
    for input in inputs {
        let input = resolve(input);
        if resolved == input {
            return Err(refuse(format!(
                "it is the input folder {}; write the report to {}/report (the default) or to a new folder",
                input.display(),
                input.display()
            )));
        }
        if input.starts_with(&resolved) {
            return Err(refuse(format!(
                "it holds the input folder {}; write the report to a new folder",
                input.display()
            )));
        }
    }
    let meta = match fs::metadata(out) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(refuse(format!("it cannot be read: {e}"))),
    };
    if !meta.is_dir() {
        return Err(refuse(
            "it is a file, not a folder; give a new folder".to_string(),
        ));
    }
    if is_results_folder(out) {
        return Err(refuse(
            "it is a results folder; write the report to its report/ folder (the default) or to a new folder".to_string(),
        ));
    }
    let entries: Vec<OsString> = fs::read_dir(out)
        .map_err(|e| refuse(format!("it cannot be read: {e}")))?
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    // The marker is read as the user's file it may be: never a FIFO, and
    // never more than a list of report entries could need.
    let marker = crate::input::read_capped(&out.join(MARKER), 1 << 20)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    match marker {
        Some(listed) => {
            let ours: Vec<&str> = listed.lines().collect();
            Ok(entries
                .into_iter()
                .filter(|e| e != MARKER && !ours.iter().any(|o| e == *o))
                .collect())
        }
        None => {
            let default_of_an_input = inputs
                .iter()
                .any(|input| resolve(&input.join("report")) == resolved);
            let unmarked_report = entries
                .iter()
                .all(|e| e.to_str().is_some_and(is_unmarked_report_entry));
            if default_of_an_input && unmarked_report {
                return Ok(Vec::new());
            }
            let mut foreign: Vec<String> = entries
                .iter()
                .map(|e| e.to_string_lossy().into_owned())
                .collect();
            foreign.sort();
            let shown = foreign
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            let more = if foreign.len() > 3 {
                format!(" and {} more", foreign.len() - 3)
            } else {
                String::new()
            };
            Err(refuse(format!(
                "it holds files corebench did not write ({shown}{more}); give a new or empty folder"
            )))
        }
    }
}

/// Writes a folder that readers must see whole, into `out`, reading
/// `inputs` (see [`check_output`]): `write` fills a staging folder beside
/// `out` (`.NAME.tmpPID`), which then takes `out`'s place by renames,
/// with the marker written and the entries corebench did not write moved
/// over; an old `out` is moved aside first and removed after. On an error
/// the staging folder is removed and `out` is left as it was.
pub fn staged<T>(
    out: &Path,
    inputs: &[&Path],
    write: impl FnOnce(&Path) -> Result<T, ReportError>,
) -> Result<T, ReportError> {
    let keep = check_output(out, inputs)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReportError::Io { path, source }
    };
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".to_string());
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io(&parent))?;
    let pid = std::process::id();
    let staging = parent.join(format!(".{name}.tmp{pid}"));
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir(&staging).map_err(io(&staging))?;
    let fail = |e: ReportError| {
        let _ = fs::remove_dir_all(&staging);
        Err(e)
    };
    let value = match write(&staging).and_then(|value| mark(&staging).map(|()| value)) {
        Ok(value) => value,
        Err(e) => return fail(e),
    };
    if let Some(clash) = keep.iter().find(|e| staging.join(e).exists()) {
        return fail(ReportError::Refused(OutRefused {
            path: out.to_path_buf(),
            reason: format!(
                "it holds {}, which corebench did not write, where the report writes its own; move it away",
                clash.to_string_lossy()
            ),
        }));
    }
    let carry = |from: &Path, to: &Path| {
        for entry in &keep {
            let _ = fs::rename(from.join(entry), to.join(entry));
        }
    };
    carry(out, &staging);
    let old = parent.join(format!(".{name}.old{pid}"));
    let moved_aside = out.exists() && fs::rename(out, &old).is_ok();
    if let Err(source) = fs::rename(&staging, out) {
        if moved_aside {
            let _ = fs::rename(&old, out);
        }
        carry(&staging, out);
        return fail(ReportError::Io {
            path: out.to_path_buf(),
            source,
        });
    }
    if moved_aside {
        let _ = fs::remove_dir_all(&old);
    }
    Ok(value)
}

/// Writes the marker into a finished staging folder: every entry in it.
fn mark(staging: &Path) -> Result<(), ReportError> {
    let io = |source| ReportError::Io {
        path: staging.join(MARKER),
        source,
    };
    let mut names: Vec<String> = fs::read_dir(staging)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    let mut text = String::new();
    for name in names {
        text.push_str(&name);
        text.push('\n');
    }
    fs::write(staging.join(MARKER), text).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_old_report_and_no_staging_folder() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("report");
        staged(&out, &[], |staging| {
            fs::write(staging.join("index.html"), "old").map_err(|source| ReportError::Io {
                path: staging.to_path_buf(),
                source,
            })
        })
        .unwrap();
        let failed = staged(&out, &[], |staging| {
            fs::write(staging.join("index.html"), "half").unwrap();
            Err::<(), _>(ReportError::Io {
                path: staging.to_path_buf(),
                source: std::io::Error::other("killed mid-way"),
            })
        });
        assert!(failed.is_err());
        assert_eq!(fs::read_to_string(out.join("index.html")).unwrap(), "old");
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["report"], "no staging folder is left");
        staged(&out, &[], |staging| {
            fs::write(staging.join("index.html"), "new").map_err(|source| ReportError::Io {
                path: staging.to_path_buf(),
                source,
            })
        })
        .unwrap();
        assert_eq!(fs::read_to_string(out.join("index.html")).unwrap(), "new");
    }
}
