//! Exports: results as text other tools read, one format per file, each
//! behind the one [`Exporter`] trait. A report folder holds its
//! [`Analysis`] as `summary.csv` and `summary.md`; `corebench compare
//! --format` ([`CompareFormat`]) writes a [`Comparison`] as the page,
//! Markdown, CSV or Bencher Metric Format JSON. Adding a format is one
//! file here with an `impl Exporter` for what it exports, and a
//! [`CompareFormat`] value for `compare`.
//!
//! - [`csv`]: cell tables as CSV;
//! - [`markdown`]: cell tables as Markdown, and the escaping every label
//!   gets;
//! - [`bencher`]: a comparison as Bencher Metric Format;
//! - [`fits`]: a report's fitted laws as `fits.json`.

pub mod bencher;
pub mod csv;
pub mod fits;
pub mod markdown;

use crate::analysis::Analysis;
use crate::compare::Comparison;
use crate::error::ExportError;
pub use bencher::BencherJson;
pub use csv::Csv;
pub use fits::FitsJson;
pub use markdown::{markdown_code, markdown_text, Markdown};

/// One export format of `T`: an [`Analysis`] (a report) or a
/// [`Comparison`].
pub trait Exporter<T: ?Sized> {
    /// The file extension, which is also the format's name on the command
    /// line of `compare` (`csv`, `md`, `json`).
    fn extension(&self) -> &'static str;
    /// What a reader finds in it, for links.
    fn description(&self) -> &'static str;
    /// The file it is written to in a report folder.
    fn file_name(&self) -> String {
        format!("summary.{}", self.extension())
    }
    /// The export's text.
    fn export(&self, input: &T) -> Result<String, ExportError>;
}

/// The exports every report folder holds: `summary.csv`, `summary.md`
/// and `fits.json`.
pub fn report_exporters() -> [&'static dyn Exporter<Analysis>; 3] {
    [&Csv, &Markdown, &FitsJson]
}

/// The formats of `corebench compare --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompareFormat {
    /// An offline HTML report with SVG charts.
    Html,
    /// Markdown tables.
    Md,
    /// One row per cell and configuration.
    Csv,
    /// Bencher Metric Format.
    Json,
}

impl CompareFormat {
    /// The exporter of a text format; `None` for the page, which is a
    /// folder ([`crate::compare::page`]).
    pub fn exporter(self) -> Option<&'static dyn Exporter<Comparison>> {
        match self {
            CompareFormat::Html => None,
            CompareFormat::Md => Some(&Markdown),
            CompareFormat::Csv => Some(&Csv),
            CompareFormat::Json => Some(&BencherJson),
        }
    }
}
