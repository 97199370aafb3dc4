//! CSV: the report's cell table (`summary.csv`, one row per cell) and a
//! comparison (one row per cell and configuration), numbers unformatted
//! and empty where absent, for spreadsheets and scripts.

use super::Exporter;
use crate::analysis::Analysis;
use crate::compare::Comparison;
use crate::error::ExportError;
use crate::stats::Estimate;

/// Comma-separated values: one row per cell.
pub struct Csv;

impl Exporter<Analysis> for Csv {
    fn extension(&self) -> &'static str {
        "csv"
    }
    fn description(&self) -> &'static str {
        "one row per cell"
    }
    fn export(&self, analysis: &Analysis) -> Result<String, ExportError> {
        Ok(summary_csv(analysis)?)
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
        Ok(compare_csv(comparison)?)
    }
}

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
pub fn summary_csv(analysis: &Analysis) -> Result<String, ::csv::Error> {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
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

/// The comparison as CSV: one row per cell and configuration.
pub fn compare_csv(comparison: &Comparison) -> Result<String, ::csv::Error> {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
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
        "missing_reason",
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
                        cell.missing.clone().unwrap_or_default(),
                    ])?;
                }
            }
        }
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
