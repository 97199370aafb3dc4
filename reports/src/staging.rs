//! Writing a folder that readers must see whole (a report, a
//! comparison): into a staging folder first, then moved into place.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::ReportError;

/// Writes a folder that readers must see whole: `write` fills a staging
/// folder beside `out` (`.NAME.tmpPID`), which then takes `out`'s place by
/// renames; an old `out` is moved aside first and removed after. On an
/// error the staging folder is removed and `out` is left as it was.
pub fn staged<T>(
    out: &Path,
    write: impl FnOnce(&Path) -> Result<T, ReportError>,
) -> Result<T, ReportError> {
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
    let result = write(&staging);
    let value = match result {
        Ok(value) => value,
        Err(e) => {
            let _ = fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    let old = parent.join(format!(".{name}.old{pid}"));
    let moved_aside = out.exists() && fs::rename(out, &old).is_ok();
    if let Err(source) = fs::rename(&staging, out) {
        if moved_aside {
            let _ = fs::rename(&old, out);
        }
        let _ = fs::remove_dir_all(&staging);
        return Err(ReportError::Io {
            path: out.to_path_buf(),
            source,
        });
    }
    if moved_aside {
        let _ = fs::remove_dir_all(&old);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_old_report_and_no_staging_folder() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("report");
        staged(&out, |staging| {
            fs::write(staging.join("index.html"), "old").map_err(|source| ReportError::Io {
                path: staging.to_path_buf(),
                source,
            })
        })
        .unwrap();
        let failed = staged(&out, |staging| {
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
        staged(&out, |staging| {
            fs::write(staging.join("index.html"), "new").map_err(|source| ReportError::Io {
                path: staging.to_path_buf(),
                source,
            })
        })
        .unwrap();
        assert_eq!(fs::read_to_string(out.join("index.html")).unwrap(), "new");
    }
}
