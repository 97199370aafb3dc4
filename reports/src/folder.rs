//! Reading a results folder (`host.json` + `records.jsonl`) written on any
//! machine, with errors that say which file and line is wrong.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use crate::error::FolderError;
use crate::input;
use crate::schema::{Host, Record, READABLE_SCHEMA_VERSIONS};
use crate::validate::{validate_host, validate_record};

/// The most a `host.json` may hold: a 1024-core host's topology is well
/// under a megabyte.
pub const HOST_FILE_MAX_BYTES: u64 = 16 << 20;

/// The most one line of `records.jsonl` may hold: a 1024-worker record with
/// every histogram is a few megabytes.
pub const RECORD_LINE_MAX_BYTES: usize = 64 << 20;

/// A results folder, read into memory.
#[derive(Debug, Clone)]
pub struct ResultsFolder {
    /// Where it was read from.
    pub dir: PathBuf,
    /// `host.json`.
    pub host: Host,
    /// `records.jsonl`, in file order.
    pub records: Vec<Record>,
    /// `plan.toml`: the resolved plan it ran; `None` in a folder written
    /// before plan files, or when the file does not read (a warning says
    /// why: the records still do).
    pub plan: Option<crate::schema::PlanFile>,
}

impl ResultsFolder {
    /// Reads `dir/host.json` and `dir/records.jsonl`. A last line cut short
    /// (a run killed mid-write) is ignored; any other bad line is an error.
    pub fn open(dir: &Path) -> Result<Self, FolderError> {
        Self::open_with(dir, false).map(|(folder, _)| folder)
    }

    /// As [`ResultsFolder::open`]; with `lenient`, a record line that is
    /// malformed, invalid (see [`crate::validate`]) or a duplicate is
    /// skipped and described in the returned warnings instead. A schema
    /// version this build cannot read, and a bad host.json, are errors
    /// either way.
    pub fn open_with(dir: &Path, lenient: bool) -> Result<(Self, Vec<String>), FolderError> {
        let host_path = dir.join("host.json");
        let host_bytes = input::read_capped(&host_path, HOST_FILE_MAX_BYTES).map_err(|source| {
            FolderError::Io {
                path: host_path.clone(),
                source,
            }
        })?;
        let host_text = utf8(&host_path, 1, &host_bytes)?;
        check_version(&host_path, 1, host_text)?;
        let host: Host = serde_json::from_str(host_text).map_err(|e| FolderError::Parse {
            path: host_path.clone(),
            line: 1,
            message: e.to_string(),
        })?;
        validate_host(&host).map_err(|e| invalid(&host_path, 1, e))?;

        // Line by line, so the folder's size costs only what its records
        // hold once parsed.
        let records_path = dir.join("records.jsonl");
        let io_error = |source| FolderError::Io {
            path: records_path.clone(),
            source,
        };
        let file = input::open_regular(&records_path).map_err(io_error)?;
        let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
        let mut line = Vec::new();
        let mut records = Vec::new();
        let mut warnings = Vec::new();
        let mut seen: HashMap<RecordKey, usize> = HashMap::new();
        let mut number = 0;
        while let Some(read) =
            input::read_line_capped(&mut reader, &mut line, RECORD_LINE_MAX_BYTES)
                .map_err(io_error)?
        {
            number += 1;
            if line.iter().all(u8::is_ascii_whitespace) && !read.cut(RECORD_LINE_MAX_BYTES) {
                continue;
            }
            let parsed = if read.cut(RECORD_LINE_MAX_BYTES) {
                Err(FolderError::Parse {
                    path: records_path.clone(),
                    line: number,
                    message: format!(
                        "the line is {} bytes, longer than the {} a record may have",
                        read.len_bytes,
                        input::size_words(RECORD_LINE_MAX_BYTES as u64)
                    ),
                })
            } else {
                parse_record(&records_path, number, &line, &mut seen)
            };
            match parsed {
                Ok(record) => records.push(record),
                // A run killed mid-write leaves its last line cut short.
                Err(FolderError::Parse { .. }) if !read.ended => break,
                Err(e @ FolderError::Version { .. }) => return Err(e),
                Err(e) if lenient => warnings.push(format!("skipped {e}")),
                Err(e) => return Err(e),
            }
        }
        let plan = read_plan(dir).unwrap_or_else(|warning| {
            warnings.push(warning);
            None
        });
        Ok((
            ResultsFolder {
                dir: dir.to_path_buf(),
                host,
                records,
                plan,
            },
            warnings,
        ))
    }
}

/// `dir/plan.toml`, if the folder has one; an error is a warning's text.
pub fn read_plan(dir: &Path) -> Result<Option<crate::schema::PlanFile>, String> {
    let path = dir.join("plan.toml");
    if !path.exists() {
        return Ok(None);
    }
    let bytes = input::read_capped(&path, HOST_FILE_MAX_BYTES)
        .map_err(|e| format!("ignored {}: {e}", path.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    toml::from_str(&text)
        .map(Some)
        .map_err(|e| format!("ignored {}: {}", path.display(), e.message()))
}

/// What makes two records the same trial: run, workload spec, model,
/// workers, placement, scaling, load and trial number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RecordKey(String, String, String, u32, String, String, String, u32);

impl RecordKey {
    fn of(r: &Record) -> Self {
        RecordKey(
            r.run_id.clone(),
            r.workload.spec.clone(),
            r.model.clone(),
            r.workers,
            r.placement.strategy.clone(),
            r.scaling.clone(),
            r.load.clone(),
            r.trial,
        )
    }
}

/// One line of records.jsonl as a checked record.
fn parse_record(
    path: &Path,
    number: usize,
    line: &[u8],
    seen: &mut HashMap<RecordKey, usize>,
) -> Result<Record, FolderError> {
    let text = utf8(path, number, line)?;
    check_version(path, number, text)?;
    let record: Record = serde_json::from_str(text).map_err(|e| FolderError::Parse {
        path: path.to_path_buf(),
        line: number,
        message: e.to_string(),
    })?;
    validate_record(&record).map_err(|e| invalid(path, number, e))?;
    if let Some(first) = seen.insert(RecordKey::of(&record), number) {
        return Err(FolderError::Duplicate {
            path: path.to_path_buf(),
            line: number,
            first,
        });
    }
    Ok(record)
}

/// One line as text, or an error naming the file, line and byte.
fn utf8<'a>(path: &Path, line: usize, bytes: &'a [u8]) -> Result<&'a str, FolderError> {
    std::str::from_utf8(bytes).map_err(|e| FolderError::Parse {
        path: path.to_path_buf(),
        line,
        message: format!("not valid UTF-8 at byte {}", e.valid_up_to() + 1),
    })
}

fn invalid(path: &Path, line: usize, e: crate::validate::Invalid) -> FolderError {
    FolderError::Invalid {
        path: path.to_path_buf(),
        line,
        field: e.field,
        problem: e.problem,
    }
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
