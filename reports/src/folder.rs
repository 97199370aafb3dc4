//! Reading a results folder (`host.json` + `records.jsonl`) written on any
//! machine, with errors that say which file and line is wrong.

use std::fs;
use std::path::{Path, PathBuf};

pub use crate::error::FolderError;
use crate::schema::{Host, Record, READABLE_SCHEMA_VERSIONS};

/// A results folder, read into memory.
#[derive(Debug, Clone)]
pub struct ResultsFolder {
    /// Where it was read from.
    pub dir: PathBuf,
    /// `host.json`.
    pub host: Host,
    /// `records.jsonl`, in file order.
    pub records: Vec<Record>,
}

impl ResultsFolder {
    /// Reads `dir/host.json` and `dir/records.jsonl`. A last line cut short
    /// (a run killed mid-write) is ignored; any other bad line is an error.
    pub fn open(dir: &Path) -> Result<Self, FolderError> {
        Self::open_with(dir, false).map(|(folder, _)| folder)
    }

    /// As [`ResultsFolder::open`]; with `lenient`, a malformed record line
    /// is skipped and described in the returned warnings instead. A schema
    /// version this build cannot read is an error either way.
    pub fn open_with(dir: &Path, lenient: bool) -> Result<(Self, Vec<String>), FolderError> {
        let host_path = dir.join("host.json");
        let host_text = read(&host_path)?;
        check_version(&host_path, 1, &host_text)?;
        let host = serde_json::from_str(&host_text).map_err(|e| FolderError::Parse {
            path: host_path.clone(),
            line: 1,
            message: e.to_string(),
        })?;

        let records_path = dir.join("records.jsonl");
        let text = read(&records_path)?;
        let lines: Vec<&str> = text.lines().collect();
        let mut records = Vec::new();
        let mut warnings = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let is_last = i + 1 == lines.len() && !text.ends_with('\n');
            let parsed = check_version(&records_path, i + 1, line).and_then(|_| {
                serde_json::from_str(line).map_err(|e| FolderError::Parse {
                    path: records_path.clone(),
                    line: i + 1,
                    message: e.to_string(),
                })
            });
            match parsed {
                Ok(record) => records.push(record),
                Err(_) if is_last => break,
                Err(e @ FolderError::Parse { .. }) if lenient => {
                    warnings.push(format!("skipped {e}"));
                }
                Err(e) => return Err(e),
            }
        }
        Ok((
            ResultsFolder {
                dir: dir.to_path_buf(),
                host,
                records,
            },
            warnings,
        ))
    }
}

fn read(path: &Path) -> Result<String, FolderError> {
    fs::read_to_string(path).map_err(|source| FolderError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn check_version(path: &Path, line: usize, text: &str) -> Result<(), FolderError> {
    #[derive(serde::Deserialize)]
    struct Versioned {
        schema_version: u64,
    }
    let found = serde_json::from_str::<Versioned>(text)
        .map_err(|e| FolderError::Parse {
            path: path.to_path_buf(),
            line,
            message: e.to_string(),
        })?
        .schema_version;
    if READABLE_SCHEMA_VERSIONS
        .iter()
        .any(|v| u64::from(*v) == found)
    {
        Ok(())
    } else {
        Err(FolderError::Version {
            path: path.to_path_buf(),
            line,
            found,
            readable: READABLE_SCHEMA_VERSIONS,
        })
    }
}
