//! The report's exports of the same cell table the page shows:
//! `summary.csv` (one row per cell, for spreadsheets and scripts) and
//! `summary.md` (Markdown tables to paste into an issue).

use crate::analysis::{Analysis, CellRow};
use crate::export::{markdown_code, markdown_text};
use crate::format::{format_ns, format_rate, speedup_text, with_interval};
use crate::stats::Estimate;

const CSV_HEADER: [&str; 31] = [
    "workload",
    "scaling",
    "load",
    "placement",
    "model",
    "workers",
    "status",
    "trials",
    "trials_ok",
    "wall_ns_median",
    "wall_ns_low",
    "wall_ns_high",
    "throughput_ops_s_median",
    "throughput_ops_s_low",
    "throughput_ops_s_high",
    "speedup",
    "speedup_low",
    "speedup_high",
    "p50_ns",
    "p99_ns",
    "p99_9_ns",
    "cpu_utilisation",
    "outliers_mild",
    "outliers_severe",
    "dispatch_floor_ns",
    "median_op_over_floor",
    "async_op",
    "jain_index",
    "starvation",
    "counters",
    "error",
];

/// `summary.csv`: one row per cell, numbers unformatted, empty when absent.
pub fn summary_csv(analysis: &Analysis) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(CSV_HEADER)?;
    for section in &analysis.sections {
        for row in &section.rows {
            let number = |x: Option<f64>| x.map_or(String::new(), |x| format!("{x}"));
            let estimate = |e: Option<Estimate>| {
                [
                    number(e.map(|e| e.point)),
                    number(e.map(|e| e.low)),
                    number(e.map(|e| e.high)),
                ]
            };
            let mut fields = vec![
                section.workload_spec.clone(),
                section.scaling.clone(),
                section.load.clone(),
                section.placement.clone(),
                row.model.clone(),
                row.workers.to_string(),
                row.status.as_str().to_string(),
                row.trials.to_string(),
                row.trials_ok.to_string(),
            ];
            fields.extend(estimate(row.wall_ns));
            fields.extend(estimate(row.throughput_ops_s));
            fields.extend(estimate(row.speedup));
            fields.extend([
                number(row.p50_ns),
                number(row.p99_ns),
                number(row.p99_9_ns),
                number(row.cpu_utilisation),
                row.outliers.mild.to_string(),
                row.outliers.severe.to_string(),
                number(row.dispatch_floor_ns),
                number(row.floor_ratio),
                row.async_op.to_string(),
                number(row.jain_index),
                row.starvation.to_string(),
                row.counters
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(";"),
                row.error.clone().unwrap_or_default(),
            ]);
            writer.write_record(&fields)?;
        }
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
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
