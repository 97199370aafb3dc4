//! Exports: results as text other tools read, behind one [`Exporter`]
//! trait. A report folder holds its [`Analysis`] as `summary.csv` and
//! `summary.md`; `corebench compare --format md|csv|json` writes a
//! [`Comparison`] as Markdown, CSV or Bencher Metric Format JSON. Adding a
//! format means one type here and an `impl Exporter` for what it exports.
//!
//! - [`summary`]: the report's cell table;
//! - [`compare`]: the comparison's tables and benchmark JSON.

pub mod compare;
pub mod summary;

use crate::analysis::Analysis;
use crate::compare::Comparison;
use crate::error::ExportError;

/// One export format of `T`: an [`Analysis`] (a report) or a
/// [`Comparison`].
pub trait Exporter<T: ?Sized> {
    /// The file extension, which is also the format's name on the command
    /// line of `compare` (`csv`, `md`, `json`).
    fn extension(&self) -> &'static str;
    /// What a reader finds in it, for links.
    fn description(&self) -> &'static str;
    /// The export's text.
    fn export(&self, input: &T) -> Result<String, ExportError>;
}

/// Comma-separated values: one row per cell.
pub struct Csv;
/// Markdown tables, one per section or model.
pub struct Markdown;
/// Bencher Metric Format: one benchmark per configuration and cell.
pub struct BencherJson;

impl Exporter<Analysis> for Csv {
    fn extension(&self) -> &'static str {
        "csv"
    }
    fn description(&self) -> &'static str {
        "one row per cell"
    }
    fn export(&self, analysis: &Analysis) -> Result<String, ExportError> {
        Ok(summary::summary_csv(analysis)?)
    }
}

impl Exporter<Analysis> for Markdown {
    fn extension(&self) -> &'static str {
        "md"
    }
    fn description(&self) -> &'static str {
        "Markdown tables"
    }
    fn export(&self, analysis: &Analysis) -> Result<String, ExportError> {
        Ok(summary::summary_markdown(analysis))
    }
}

impl Exporter<Comparison> for Csv {
    fn extension(&self) -> &'static str {
        "csv"
    }
    fn description(&self) -> &'static str {
        "one row per cell and configuration"
    }
    fn export(&self, comparison: &Comparison) -> Result<String, ExportError> {
        Ok(compare::compare_csv(comparison)?)
    }
}

impl Exporter<Comparison> for Markdown {
    fn extension(&self) -> &'static str {
        "md"
    }
    fn description(&self) -> &'static str {
        "Markdown tables"
    }
    fn export(&self, comparison: &Comparison) -> Result<String, ExportError> {
        Ok(compare::compare_markdown(comparison))
    }
}

impl Exporter<Comparison> for BencherJson {
    fn extension(&self) -> &'static str {
        "json"
    }
    fn description(&self) -> &'static str {
        "Bencher Metric Format"
    }
    fn export(&self, comparison: &Comparison) -> Result<String, ExportError> {
        Ok(serde_json::to_string_pretty(&compare::compare_bmf(
            comparison,
        ))?)
    }
}

/// The exports every report folder holds, as `summary.EXT`.
pub fn report_exporters() -> [&'static dyn Exporter<Analysis>; 2] {
    [&Csv, &Markdown]
}
