//! The errors of reading, drawing and writing results, in one low-level
//! module every other one may use: nothing here depends on the rest of the
//! crate, so no module has to import another's error type through it.

use std::path::PathBuf;

/// Why a results folder could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    /// A file is missing or unreadable.
    #[error("cannot read {path}: {source} (is this a corebench results folder?)")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file or line is not valid JSON of the schema.
    #[error("{path}:{line}: not a valid record: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line (1 for host.json).
        line: usize,
        /// What serde said.
        message: String,
    },
    /// A record (or host.json) breaks a rule of the schema.
    #[error("{path}:{line}: field `{field}`: {problem}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// The field.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The same trial appears twice.
    #[error("{path}:{line}: duplicate of line {first} (same run, cell and trial)")]
    Duplicate {
        /// The file.
        path: PathBuf,
        /// 1-based line of the second copy.
        line: usize,
        /// 1-based line of the first.
        first: usize,
    },
    /// The schema version is one this build cannot read.
    #[error("{path}:{line}: schema_version {found} is not readable by this corebench (reads {readable:?})")]
    Version {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What the file says.
        found: u64,
        /// What this build reads.
        readable: &'static [u32],
    },
}

/// Why a histogram could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
pub enum HistogramError {
    /// Not valid base64.
    #[error("histogram is not valid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// Not a V2 (DEFLATE) HdrHistogram.
    #[error("histogram does not decode: {0:?}")]
    Decode(hdrhistogram::serialization::DeserializeError),
    /// Encoding failed.
    #[error("histogram does not encode: {0:?}")]
    Encode(hdrhistogram::serialization::V2DeflateSerializeError),
}

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("drawing the {chart} chart: {message}")]
pub struct ChartError {
    /// Which chart.
    pub chart: &'static str,
    /// What plotters said.
    pub message: String,
}

/// Why a report (or a comparison, see `compare_report`) could not be
/// written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A chart could not be drawn.
    #[error(transparent)]
    Chart(#[from] ChartError),
    /// The template failed.
    #[error("rendering the page: {0}")]
    Template(#[from] minijinja::Error),
    /// An export failed.
    #[error(transparent)]
    Export(#[from] ExportError),
    /// The output folder may not be written (see `staging`).
    #[error(transparent)]
    Refused(#[from] OutRefused),
}

/// Why an output folder was refused: writing there would replace what
/// corebench did not write (a results folder, an input, a user's files).
#[derive(Debug, thiserror::Error)]
#[error("will not write into '{path}': {reason}")]
pub struct OutRefused {
    /// The folder given.
    pub path: PathBuf,
    /// Why, and what to use instead.
    pub reason: String,
}

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The CSV writer failed.
    #[error("writing the CSV export: {0}")]
    Csv(#[from] csv::Error),
    /// The JSON writer failed.
    #[error("writing the JSON export: {0}")]
    Json(#[from] serde_json::Error),
}
