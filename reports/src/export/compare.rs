//! The comparison's exports: Markdown tables, CSV (one row per cell and
//! configuration), and Bencher Metric Format JSON for continuous
//! benchmarking services.

use crate::compare::Comparison;
use crate::compare_report::{cell_view, summary_line};
use crate::export::{markdown_code, markdown_text};

/// The comparison as Markdown tables.
pub fn compare_markdown(comparison: &Comparison) -> String {
    let mut out = format!(
        "# corebench comparison\n\n{}\n",
        markdown_text(&summary_line(comparison))
    );
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

/// The comparison as CSV: one row per cell and configuration.
pub fn compare_csv(comparison: &Comparison) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "workload",
        "scaling",
        "load",
        "model",
        "workers",
        "configuration",
        "baseline",
        "present",
        "status",
        "throughput_ops_s_median",
        "throughput_ops_s_low",
        "throughput_ops_s_high",
        "ratio",
        "ratio_low",
        "ratio_high",
        "normalised_ratio",
        "change",
    ])?;
    let number = |x: Option<f64>| x.map_or(String::new(), |x| format!("{x}"));
    for group in &comparison.groups {
        for model in &group.models {
            for row in &model.rows {
                for (c, cell) in row.cells.iter().enumerate() {
                    writer.write_record([
                        group.workload_spec.clone(),
                        group.scaling.clone(),
                        group.load.clone(),
                        model.model.clone(),
                        row.workers.to_string(),
                        comparison.configs[c].name.clone(),
                        (c == comparison.baseline).to_string(),
                        cell.present.to_string(),
                        cell.status
                            .map_or(String::new(), |s| s.as_str().to_string()),
                        number(cell.throughput_ops_s.map(|t| t.point)),
                        number(cell.throughput_ops_s.map(|t| t.low)),
                        number(cell.throughput_ops_s.map(|t| t.high)),
                        number(cell.ratio.map(|r| r.point)),
                        number(cell.ratio.map(|r| r.low)),
                        number(cell.ratio.map(|r| r.high)),
                        number(cell.normalised_ratio),
                        cell.change
                            .map_or(String::new(), |c| c.as_str().to_string()),
                    ])?;
                }
            }
        }
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The comparison in Bencher Metric Format: benchmark name
/// `CONFIGURATION/WORKLOAD/MODEL/Nw` with measures `throughput` (ops/s,
/// with its interval) and, when a calibration ran, `throughput_per_calibration`
/// (throughput over the configuration's `cpu/calibrate` throughput).
pub fn compare_bmf(comparison: &Comparison) -> serde_json::Value {
    let mut root = serde_json::Map::new();
    for group in &comparison.groups {
        for model in &group.models {
            for row in &model.rows {
                for (c, cell) in row.cells.iter().enumerate() {
                    let Some(t) = cell.throughput_ops_s else {
                        continue;
                    };
                    let config = &comparison.configs[c];
                    let mut measures = serde_json::Map::new();
                    measures.insert(
                        "throughput".into(),
                        serde_json::json!({"value": t.point, "lower_value": t.low, "upper_value": t.high}),
                    );
                    if let Some(k) = config.calibration_ops_s().filter(|k| *k > 0.0) {
                        measures.insert(
                            "throughput_per_calibration".into(),
                            serde_json::json!({"value": t.point / k, "lower_value": t.low / k, "upper_value": t.high / k}),
                        );
                    }
                    let name = format!(
                        "{}/{}{}/{}/{}w",
                        config.name,
                        group.workload_spec,
                        if crate::schema::is_weak_scaling(&group.scaling) {
                            " (weak)"
                        } else {
                            ""
                        },
                        model.model,
                        row.workers
                    );
                    root.insert(name, serde_json::Value::Object(measures));
                }
            }
        }
    }
    serde_json::Value::Object(root)
}
