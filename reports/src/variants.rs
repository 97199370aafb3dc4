//! Implementations side by side: when a run measured several specs of one
//! workload (`sync/counter:impl=atomic` and `impl=sharded`, the channel
//! crates of `comm/channel`, the three `stream/pipeline` implementations),
//! their latency spectra belong on one chart, not one per section.
//!
//! A [`VariantGroup`] is every spec of one workload id under one scaling,
//! load and placement, when there are two or more. All of its lines are
//! taken at one cell, the same model and worker count for every spec: the
//! cell the most specs measured, then the most workers, then the model
//! first in the report's order ([`SeriesOrder`]). Besides the op latency spectrum, each latency
//! histogram the workload kept itself (`message_latency`,
//! `event_latency`) gets its own chart. Lines are labelled by the
//! parameters that differ between the specs.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::analysis::{merged_histogram, spectrum_of, Spectrum};
use crate::schema::{Record, SeriesOrder, Status};
use crate::slug::unique_slug;
use crate::stats::median;

/// Several specs of one workload, compared at one cell.
#[derive(Debug, Clone, Serialize)]
pub struct VariantGroup {
    /// A slug for anchors and chart file names.
    pub id: String,
    /// The workload id.
    pub workload_id: String,
    /// `strong` or `weak`.
    pub scaling: String,
    /// `closed` or `open:RATE`.
    pub load: String,
    /// Placement strategy.
    pub placement: String,
    /// The model every line was taken under.
    pub model: String,
    /// The worker count every line was taken at.
    pub workers: u32,
    /// One per spec measured at that cell, in spec order.
    pub lines: Vec<VariantLine>,
    /// Specs of the group with no ok trial at that cell.
    pub missing: Vec<String>,
}

/// One spec at the group's cell.
#[derive(Debug, Clone, Serialize)]
pub struct VariantLine {
    /// The parameters that set it apart, e.g. `impl=atomic`.
    pub label: String,
    /// The canonical spec.
    pub spec: String,
    /// Median throughput over the ok trials, ops/s.
    pub throughput_ops_s: Option<f64>,
    /// Op latency, all ok trials merged.
    #[serde(skip)]
    pub op_spectrum: Option<Spectrum>,
    /// The workload's own histograms, all ok trials merged, by name.
    #[serde(skip)]
    pub workload_spectra: BTreeMap<String, Spectrum>,
    /// Op latency p50 / p99 / p99.9, ns.
    pub op_quantiles_ns: Option<[f64; 3]>,
    /// The workload's own histograms' p50 / p99 / p99.9, ns, by name.
    pub workload_quantiles_ns: BTreeMap<String, [f64; 3]>,
}

impl VariantGroup {
    /// The names of the workload histograms any line has, in order.
    pub fn histogram_names(&self) -> Vec<String> {
        let names: BTreeSet<&String> = self
            .lines
            .iter()
            .flat_map(|l| l.workload_spectra.keys())
            .collect();
        names.into_iter().cloned().collect()
    }
}

/// Every group of two or more specs of one workload in `records`.
pub fn variant_groups(records: &[Record], series: &SeriesOrder) -> Vec<VariantGroup> {
    // (workload id, scaling, load, placement) -> spec -> records
    type Key = (String, String, String, String);
    let mut groups: BTreeMap<Key, BTreeMap<String, Vec<&Record>>> = BTreeMap::new();
    for record in records {
        groups
            .entry((
                record.workload.id.clone(),
                record.scaling.clone(),
                record.load.clone(),
                record.placement.strategy.clone(),
            ))
            .or_default()
            .entry(record.workload.spec.clone())
            .or_default()
            .push(record);
    }
    let mut used_ids = Vec::new();
    groups
        .into_iter()
        .filter(|(_, specs)| specs.len() >= 2)
        .filter_map(|((workload_id, scaling, load, placement), specs)| {
            let (model, workers) = common_cell(&specs, series)?;
            let labels = distinguishing_labels(&specs);
            let mut lines = Vec::new();
            let mut missing = Vec::new();
            for (spec, records) in &specs {
                let trials: Vec<&Record> = records
                    .iter()
                    .copied()
                    .filter(|r| r.model == model && r.workers == workers)
                    .filter(|r| r.status == Status::Ok)
                    .collect();
                if trials.is_empty() {
                    missing.push(spec.clone());
                    continue;
                }
                lines.push(line(spec, &labels[spec], &model, workers, &trials));
            }
            let id = unique_slug(
                &format!("{workload_id}-side-by-side-{scaling}-{load}-{placement}"),
                &mut used_ids,
            );
            Some(VariantGroup {
                id,
                workload_id,
                scaling,
                load,
                placement,
                model,
                workers,
                lines,
                missing,
            })
        })
        .collect()
}

/// The (model, workers) cell with ok trials for the most specs; ties go to
/// more workers, then to the model first in the report's order.
fn common_cell(
    specs: &BTreeMap<String, Vec<&Record>>,
    series: &SeriesOrder,
) -> Option<(String, u32)> {
    let mut coverage: BTreeMap<(String, u32), usize> = BTreeMap::new();
    for records in specs.values() {
        let cells: BTreeSet<(String, u32)> = records
            .iter()
            .filter(|r| r.status == Status::Ok)
            .map(|r| (r.model.clone(), r.workers))
            .collect();
        for cell in cells {
            *coverage.entry(cell).or_default() += 1;
        }
    }
    let rank = |model: &str| series.rank(model);
    coverage
        .into_iter()
        .max_by(|((m1, n1), c1), ((m2, n2), c2)| {
            c1.cmp(c2).then(n1.cmp(n2)).then(rank(m2).cmp(&rank(m1)))
        })
        .map(|(cell, _)| cell)
}

/// Per spec, the `key=value` pairs of the parameters whose values differ
/// across the specs.
fn distinguishing_labels(specs: &BTreeMap<String, Vec<&Record>>) -> BTreeMap<String, String> {
    let params: BTreeMap<&String, &BTreeMap<String, serde_json::Value>> = specs
        .iter()
        .filter_map(|(spec, records)| Some((spec, &records.first()?.workload.params)))
        .collect();
    let keys: BTreeSet<&String> = params.values().flat_map(|p| p.keys()).collect();
    let differing: Vec<&String> = keys
        .into_iter()
        .filter(|key| {
            let values: BTreeSet<String> = params
                .values()
                .map(|p| p.get(*key).map_or(String::new(), value_text))
                .collect();
            values.len() > 1
        })
        .collect();
    params
        .into_iter()
        .map(|(spec, p)| {
            let label = differing
                .iter()
                .filter_map(|key| Some(format!("{key}={}", value_text(p.get(*key)?))))
                .collect::<Vec<_>>()
                .join(", ");
            (
                spec.clone(),
                if label.is_empty() {
                    spec.clone()
                } else {
                    label
                },
            )
        })
        .collect()
}

fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn line(spec: &str, label: &str, model: &str, workers: u32, trials: &[&Record]) -> VariantLine {
    let quantiles = |h: &hdrhistogram::Histogram<u64>| {
        [0.5, 0.99, 0.999].map(|q| h.value_at_quantile(q) as f64)
    };
    let op = merged_histogram(trials, |r| r.histogram.as_ref());
    let names: BTreeSet<&String> = trials
        .iter()
        .flat_map(|r| r.workload_histograms.keys())
        .collect();
    let own: BTreeMap<String, hdrhistogram::Histogram<u64>> = names
        .into_iter()
        .filter_map(|name| {
            let merged = merged_histogram(trials, |r| r.workload_histograms.get(name))?;
            Some((name.clone(), merged))
        })
        .collect();
    let throughputs: Vec<f64> = trials.iter().map(|r| r.throughput_ops_s).collect();
    VariantLine {
        label: label.to_string(),
        spec: spec.to_string(),
        throughput_ops_s: median(&throughputs),
        op_quantiles_ns: op.as_ref().map(quantiles),
        op_spectrum: op.as_ref().map(|h| spectrum_of(model, workers, h, false)),
        workload_quantiles_ns: own
            .iter()
            .map(|(name, h)| (name.clone(), quantiles(h)))
            .collect(),
        workload_spectra: own
            .iter()
            .map(|(name, h)| (name.clone(), spectrum_of(model, workers, h, false)))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::test_record;

    /// A record of `w/x:impl=IMPL,bound=8` with `value_ns` as every op's
    /// latency and as its own `message_latency`.
    fn record(implementation: &str, model: &str, workers: u32, value_ns: u64) -> Record {
        let mut record = test_record(model, workers, 1_000_000, "strong", Status::Ok);
        record.workload.spec = format!("w/x:bound=8,impl={implementation}");
        record.workload.params = BTreeMap::from([
            ("impl".to_string(), serde_json::json!(implementation)),
            ("bound".to_string(), serde_json::json!(8)),
        ]);
        let mut histogram = hdrhistogram::Histogram::<u64>::new(3).unwrap();
        histogram.record_n(value_ns, 100).unwrap();
        let encoded = crate::histogram::encode(&histogram).unwrap();
        record.histogram = Some(encoded.clone());
        record
            .workload_histograms
            .insert("message_latency".to_string(), encoded);
        record
    }

    #[test]
    fn specs_of_one_workload_meet_at_the_cell_most_of_them_measured() {
        let records = vec![
            record("a", "threads", 1, 1_000),
            record("a", "threads", 2, 2_000),
            record("b", "threads", 1, 3_000),
            record("b", "threads", 2, 4_000),
            // Only c ran under tokio, and at 4 workers: not a common cell.
            record("c", "tokio", 4, 5_000),
            // Another workload with one spec: no group.
            {
                let mut other = record("a", "threads", 2, 1);
                other.workload.id = "w/y".into();
                other.workload.spec = "w/y".into();
                other
            },
        ];
        let groups = variant_groups(&records, &crate::series::tests::known());
        assert_eq!(groups.len(), 1);
        let group = &groups[0];
        assert_eq!((group.model.as_str(), group.workers), ("threads", 2));
        let labels: Vec<&str> = group.lines.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(labels, ["impl=a", "impl=b"], "bound is the same everywhere");
        assert_eq!(group.missing, ["w/x:bound=8,impl=c"]);
        let p50 = |line: &VariantLine| line.op_quantiles_ns.unwrap()[0];
        assert!((p50(&group.lines[0]) - 2_000.0).abs() <= 2.0);
        assert!((p50(&group.lines[1]) - 4_000.0).abs() <= 4.0);
        assert_eq!(group.histogram_names(), ["message_latency"]);
        assert!(
            (group.lines[1].workload_quantiles_ns["message_latency"][1] - 4_000.0).abs() <= 4.0
        );
    }

    #[test]
    fn ties_go_to_more_workers_then_to_the_first_model() {
        let records = vec![
            record("a", "tokio", 2, 1),
            record("b", "tokio", 2, 1),
            record("a", "threads", 2, 1),
            record("b", "threads", 2, 1),
            record("a", "threads", 1, 1),
            record("b", "threads", 1, 1),
        ];
        let group = &variant_groups(&records, &crate::series::tests::known())[0];
        assert_eq!((group.model.as_str(), group.workers), ("threads", 2));
        assert!(group.missing.is_empty());
    }
}
