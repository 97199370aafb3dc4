//! Writing a results folder, crash-safely. A run first claims its folder
//! (it must be new or empty) by creating `records.jsonl` with `create_new`,
//! so two runs can never write one folder; then `host.json` is written via
//! a temporary file and rename, and records are appended one whole line per
//! trial and flushed as the trial ends, so a killed run keeps every
//! finished trial.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use reports::schema::{Host, Record};

/// Why a results folder could not be claimed or written.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// The folder holds something already: another run's results, a
    /// half-written folder, or anything else. Bad input (exit 2).
    #[error("--out '{dir}' is not empty ({found}); a run writes only into a new or empty folder, so choose another")]
    NotEmpty {
        /// The folder.
        dir: PathBuf,
        /// What it holds, e.g. `records.jsonl`.
        found: String,
    },
    /// Another run claimed the folder first.
    #[error("--out '{dir}' was claimed by another run at the same moment; choose another folder")]
    Claimed {
        /// The folder.
        dir: PathBuf,
    },
    /// The OS refused a write.
    #[error("cannot write results to '{path}': {error}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        error: std::io::Error,
    },
}

/// An open results folder, claimed by this run.
pub struct ResultsWriter {
    dir: PathBuf,
    records: File,
}

impl ResultsWriter {
    /// Claims `dir` for this run: creates it (and its parents) if needed,
    /// refuses it unless it is empty, and creates `records.jsonl` with
    /// `create_new`, which only one process can do. No lock file, so a
    /// crash leaves nothing stale. Call before anything else is written.
    pub fn claim(dir: &Path) -> Result<Self, ResultsError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |error| ResultsError::Io { path, error }
        };
        fs::create_dir_all(dir).map_err(io(dir))?;
        let mut entries: Vec<String> = fs::read_dir(dir)
            .map_err(io(dir))?
            .filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned()))
            .collect();
        if !entries.is_empty() {
            entries.sort();
            let shown: Vec<&str> = entries.iter().take(3).map(String::as_str).collect();
            let more = entries.len().saturating_sub(shown.len());
            let found = if more > 0 {
                format!("{} and {more} more", shown.join(", "))
            } else {
                shown.join(", ")
            };
            return Err(ResultsError::NotEmpty {
                dir: dir.to_path_buf(),
                found,
            });
        }
        let records_path = dir.join("records.jsonl");
        let records = OpenOptions::new()
            .append(true)
            .create_new(true)
            .open(&records_path)
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::AlreadyExists => ResultsError::Claimed {
                    dir: dir.to_path_buf(),
                },
                _ => ResultsError::Io {
                    path: records_path.clone(),
                    error: source,
                },
            })?;
        Ok(ResultsWriter {
            dir: dir.to_path_buf(),
            records,
        })
    }

    /// Writes `host.json`, whole or not at all.
    pub fn write_host(&self, host: &Host) -> Result<(), ResultsError> {
        let path = self.dir.join("host.json");
        let json = serde_json::to_string_pretty(host).expect("Host serializes");
        write_atomically(&path, json.as_bytes()).map_err(|error| ResultsError::Io { path, error })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends one record as one line, in one write, and flushes it.
    pub fn append(&mut self, record: &Record) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.records.write_all(&line)?;
        self.records.flush()
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder and
/// a rename, so readers see the old file or the new one, never half.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.tmp{}", std::process::id()));
    let written = File::create(&temporary)
        .and_then(|mut file| file.write_all(bytes).and_then(|_| file.sync_all()))
        .and_then(|_| fs::rename(&temporary, path));
    if written.is_err() {
        // A full disk must not leave the temporary file behind.
        let _ = fs::remove_file(&temporary);
    }
    written
}

/// The default results folder:
/// `corebench-results/<date>-<time>-<host>-<pid>/`, so two runs started in
/// the same second get folders of their own.
pub fn default_out_dir(hostname: &str) -> PathBuf {
    let safe_host: String = hostname
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    PathBuf::from("corebench-results").join(format!(
        "{}-{safe_host}-{}",
        chrono::Local::now().format("%Y%m%d-%H%M%S"),
        std::process::id()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_claimed_once_and_only_when_empty() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("new");
        let _first = ResultsWriter::claim(&out).unwrap();
        let again = ResultsWriter::claim(&out).err().unwrap();
        assert!(matches!(again, ResultsError::NotEmpty { .. }), "{again}");
        assert!(again.to_string().contains("records.jsonl"), "{again}");

        let only_host = dir.path().join("only-host");
        fs::create_dir(&only_host).unwrap();
        fs::write(only_host.join("host.json"), "{}").unwrap();
        let refused = ResultsWriter::claim(&only_host).err().unwrap();
        assert!(refused.to_string().contains("host.json"), "{refused}");

        let empty = dir.path().join("empty");
        fs::create_dir(&empty).unwrap();
        assert!(ResultsWriter::claim(&empty).is_ok());
    }

    #[test]
    fn a_failed_atomic_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // A folder where the file should go: the rename fails.
        let target = dir.path().join("host.json");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("x"), "x").unwrap();
        assert!(write_atomically(&target, b"{}").is_err());
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["host.json"]);
    }
}
