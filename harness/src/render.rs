//! Rendering a results folder's report from the harness: hands `reports`
//! the models' names, order and colours, and turns what it refuses into
//! bad input (exit 2). `run`, `exec` and `report` all render through
//! [`render_report`].

use std::path::{Path, PathBuf};

use reports::analysis::Analysis;
use reports::folder::ResultsFolder;

use crate::error::{is_unusable_path, UsageError};

/// A report written.
pub struct Rendered {
    /// Its `index.html`.
    pub index: PathBuf,
    /// The analysis the report shows.
    pub analysis: Analysis,
}

/// Reads a results folder and writes its report into `out`. An unreadable
/// folder or a refused `out` is bad input (exit 2); a failed write is not.
pub fn render_report(dir: &Path, out: &Path, lenient: bool) -> anyhow::Result<Rendered> {
    let (folder, warnings) =
        ResultsFolder::open_with(dir, lenient).map_err(|e| UsageError::new(e.to_string()))?;
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
    match reports::report::write_report(&folder, out, &crate::models::report_series()) {
        Ok(written) => {
            for warning in &written.warnings {
                eprintln!("warning: {warning}");
            }
            Ok(Rendered {
                index: written.index,
                analysis: written.analysis,
            })
        }
        Err(reports::error::ReportError::Refused(refused)) => {
            Err(UsageError::new(refused.to_string()).into())
        }
        Err(reports::error::ReportError::Io { path, source }) if is_unusable_path(&source) => {
            Err(UsageError::new(format!(
                "cannot write the report of {} to '{}': {source}",
                dir.display(),
                path.display()
            ))
            .into())
        }
        Err(e) => {
            Err(anyhow::Error::new(e).context(format!("writing the report of {}", dir.display())))
        }
    }
}
