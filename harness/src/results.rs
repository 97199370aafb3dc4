//! Writing a results folder, crash-safely: `host.json` via a temporary file
//! and rename, `records.jsonl` appended one whole line per trial and flushed
//! as the trial ends, so a killed run keeps every finished trial.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use reports::schema::{Host, Record};

use crate::error::UsageError;

/// An open results folder.
pub struct ResultsWriter {
    dir: PathBuf,
    records: File,
}

impl ResultsWriter {
    /// Creates `dir` (and parents), writes `host.json`, and opens
    /// `records.jsonl`. A folder that already holds records is refused, so
    /// two runs never mix.
    pub fn create(dir: &Path, host: &Host) -> Result<Self, UsageError> {
        let unwritable = |e: std::io::Error| {
            UsageError::new(format!(
                "cannot write results to --out '{}': {e}; choose a writable folder",
                dir.display()
            ))
        };
        fs::create_dir_all(dir).map_err(unwritable)?;
        let records_path = dir.join("records.jsonl");
        if records_path.exists() {
            return Err(UsageError::new(format!(
                "--out '{}' already holds results (records.jsonl); choose a new folder",
                dir.display()
            )));
        }
        let host_json = serde_json::to_string_pretty(host).expect("Host serializes");
        write_atomically(&dir.join("host.json"), host_json.as_bytes()).map_err(unwritable)?;
        let records = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&records_path)
            .map_err(unwritable)?;
        Ok(ResultsWriter {
            dir: dir.to_path_buf(),
            records,
        })
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
    {
        let mut file = File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    fs::rename(&temporary, path)
}

/// The default results folder: `corebench-results/<date>-<time>-<host>/`.
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
        "{}-{safe_host}",
        chrono::Local::now().format("%Y%m%d-%H%M%S")
    ))
}
