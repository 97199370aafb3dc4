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

/// `text` as Markdown shows it literally: what Markdown would render as
/// HTML (tags, entities, autolinks, and links or images, `[x](y)`) or as
/// a table cell break is escaped, and a line break becomes a space, so a
/// label or an error text can never inject markup into a page that
/// renders the export. Brackets that make no link (`[0.2, 0.3]`) stay.
pub fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            ']' if matches!(chars.peek(), Some('(' | '[')) => out.push_str("\\]"),
            '\\' | '`' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// `text` as a Markdown code span: shown as typed, with a fence longer
/// than any run of backticks inside it (CommonMark's rule), on one line.
pub fn markdown_code(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ");
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_never_become_markup() {
        assert_eq!(
            markdown_text("<img src=x onerror=alert(1)> & [click](http://x) | a`b\nc"),
            "&lt;img src=x onerror=alert(1)&gt; &amp; [click\\](http://x) \\| a\\`b c"
        );
        assert_eq!(
            markdown_text("f = 0.30 [0.20, 0.51]: ok"),
            "f = 0.30 [0.20, 0.51]: ok"
        );
        assert_eq!(markdown_code("exec/a<b>"), "`exec/a<b>`");
        assert_eq!(markdown_code("a``b"), "```a``b```");
        assert_eq!(markdown_code("`x"), "`` `x ``");
    }
}
