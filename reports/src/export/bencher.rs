//! Bencher Metric Format: one benchmark per configuration and cell, with
//! throughput and throughput per single-core speed, so a
//! continuous-benchmarking service can keep the history.

use super::Exporter;
use crate::compare::Comparison;
use crate::error::ExportError;

/// Bencher Metric Format: one benchmark per configuration and cell.
pub struct BencherJson;

impl Exporter<Comparison> for BencherJson {
    fn extension(&self) -> &'static str {
        "json"
    }
    fn description(&self) -> &'static str {
        "Bencher Metric Format"
    }
    fn export(&self, comparison: &Comparison) -> Result<String, ExportError> {
        Ok(serde_json::to_string_pretty(&compare_bmf(comparison))?)
    }
}

/// The comparison in Bencher Metric Format: benchmark name
/// `CONFIGURATION/WORKLOAD/MODEL/Nw` with measures `throughput` (ops/s,
/// with its interval) and, when a calibration ran,
/// `throughput_per_calibration` (throughput over the configuration's
/// single-core speed, `Analysis::single_core_speed`).
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
                    if let Some(k) = comparison.analyses[c]
                        .single_core_speed()
                        .map(|speed| speed.point)
                        .filter(|k| *k > 0.0)
                    {
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
