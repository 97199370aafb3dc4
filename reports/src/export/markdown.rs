//! Markdown: the report's tables (`summary.md`) and a comparison's, to
//! paste into an issue, with every label escaped so that none becomes
//! markup.

use super::Exporter;
use crate::analysis::{Analysis, CellRow};
use crate::compare::page::{cell_view, summary_line};
use crate::compare::Comparison;
use crate::error::ExportError;
use crate::format::{format_ns, format_rate, speedup_text, with_interval};
use crate::stats::Estimate;

/// Markdown tables, one per section or model.
pub struct Markdown;

impl Exporter<Analysis> for Markdown {
    fn extension(&self) -> &'static str {
        "md"
    }
    fn description(&self) -> &'static str {
        "Markdown tables"
    }
    fn export(&self, analysis: &Analysis) -> Result<String, ExportError> {
        Ok(summary_markdown(analysis))
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
        Ok(compare_markdown(comparison))
    }
}

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

/// `summary.md`: a heading and a table per section.
pub fn summary_markdown(analysis: &Analysis) -> String {
    let mut out = String::from("# corebench summary\n");
    for section in &analysis.sections {
        out.push_str(&format!(
            "\n## {} ({} scaling, pin {})\n\n",
            markdown_code(&section.workload_spec),
            section.scaling,
            markdown_text(&section.placement)
        ));
        for curve in &section.models {
            out.push_str(&format!(
                "- **{}**: {}\n",
                markdown_text(&curve.model),
                markdown_text(&curve.reading)
            ));
        }
        out.push_str("\n| model | workers | ops/s [interval; coverage] | speedup [interval; coverage] | p99 | CPU | trials ok | status |\n");
        out.push_str("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
        for row in &section.rows {
            out.push_str(&markdown_row(row));
        }
    }
    out
}

fn markdown_row(row: &CellRow) -> String {
    let interval = |e: Option<Estimate>, f: &dyn Fn(f64) -> String| with_interval(e, f);
    format!(
        "| {} | {} | {} | {} | {} | {} | {}/{} | {} |\n",
        markdown_text(&row.model),
        row.workers,
        interval(row.throughput_ops_s, &format_rate),
        speedup_text(row.speedup),
        row.p99_ns.map_or("–".to_string(), format_ns),
        row.cpu_utilisation
            .map_or("–".to_string(), |u| format!("{:.0}%", u * 100.0)),
        row.trials_ok,
        row.trials,
        match &row.error {
            None => row.status.as_str().to_string(),
            Some(e) => format!("{}: {}", row.status.as_str(), markdown_text(e)),
        }
    )
}

/// The comparison as Markdown tables.
pub fn compare_markdown(comparison: &Comparison) -> String {
    let mut out = format!(
        "# corebench comparison\n\n{}\n",
        markdown_text(&summary_line(comparison))
    );
    for line in &comparison.plans {
        out.push_str(&format!("\n{}\n", markdown_text(line)));
    }
    let names: Vec<String> = comparison
        .configs
        .iter()
        .map(|c| markdown_text(&c.name))
        .collect();
    for group in &comparison.groups {
        for model in &group.models {
            out.push_str(&format!(
                "\n## {} ({} scaling), {}\n\n| workers | {} |\n| ---: |{}\n",
                markdown_code(&group.workload_spec),
                group.scaling,
                markdown_text(&model.model),
                names.join(" | "),
                " --- |".repeat(names.len())
            ));
            for row in &model.rows {
                let cells: Vec<String> = row
                    .cells
                    .iter()
                    .enumerate()
                    .map(|(c, cell)| {
                        let view = cell_view(cell, c == comparison.baseline);
                        markdown_text(&format!(
                            "{}, {} ({})",
                            view.throughput, view.ratio, view.mark
                        ))
                    })
                    .collect();
                out.push_str(&format!("| {} | {} |\n", row.workers, cells.join(" | ")));
            }
        }
    }
    out
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
