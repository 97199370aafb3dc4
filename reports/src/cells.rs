//! Grouping trials into cells and summarising each cell.
//!
//! A cell is one (workload, model, workers, placement, scaling, load); its
//! records are its trials. [`summarise_cells`] gives each cell its medians
//! over the trials that ended `ok`, and its speedup against the same model
//! at one worker and against `seq`.

use std::collections::BTreeMap;

use crate::schema::{Record, Status};
use crate::stats::median;

/// What identifies a cell.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellKey {
    /// The workload's canonical spec.
    pub workload: String,
    /// Strong or weak.
    pub scaling: String,
    /// Closed or open.
    pub load: String,
    /// Placement strategy.
    pub placement: String,
    /// Execution model.
    pub model: String,
    /// Worker count.
    pub workers: u32,
}

impl CellKey {
    /// The key of the cell a record belongs to.
    pub fn of(record: &Record) -> Self {
        CellKey {
            workload: record.workload.spec.clone(),
            scaling: record.scaling.clone(),
            load: record.load.clone(),
            placement: record.placement.strategy.clone(),
            model: record.model.clone(),
            workers: record.workers,
        }
    }

    fn with(&self, model: &str, workers: u32) -> Self {
        CellKey {
            model: model.to_string(),
            workers,
            ..self.clone()
        }
    }
}

/// One cell's summary over its trials.
#[derive(Debug, Clone, PartialEq)]
pub struct CellSummary {
    /// Which cell.
    pub key: CellKey,
    /// Trials recorded.
    pub trials: usize,
    /// Trials that ended `ok`.
    pub trials_ok: usize,
    /// The worst status among its trials (`ok` only if all were).
    pub status: Status,
    /// The first error text, if any trial was not ok.
    pub error: Option<String>,
    /// Median wall time of ok trials.
    pub median_wall_ns: Option<f64>,
    /// Median throughput of ok trials.
    pub median_throughput_ops_s: Option<f64>,
    /// The smallest and largest throughput of ok trials (rounds/s for a
    /// lockstep workload, like `median_rounds_s`).
    pub throughput_spread: Option<(f64, f64)>,
    /// Lockstep workloads: median rounds per second, which speedup agrees
    /// with (ops count one worker's part of a round).
    pub median_rounds_s: Option<f64>,
    /// Trials the machine disturbed (kept after retries, or flagged).
    pub disturbed: usize,
    /// Median p99 latency of ok trials.
    pub median_p99_ns: Option<f64>,
    /// Median CPU utilisation of ok trials.
    pub median_cpu_utilisation: Option<f64>,
    /// Median dispatch floor of the model on this cell.
    pub dispatch_floor_ns: Option<f64>,
    /// Speedup against the same model at one worker: T(1)/T(n) for strong
    /// scaling, n T(1)/T(n) (scaled speedup) for weak scaling.
    pub speedup: Option<f64>,
    /// The same, against `seq` at one worker.
    pub speedup_vs_seq: Option<f64>,
}

/// Summarises every cell in `records`: by workload, scaling, load and
/// placement, then in report order of models (`seq` first) and workers.
pub fn summarise_cells(
    records: &[Record],
    series: &crate::schema::SeriesOrder,
) -> Vec<CellSummary> {
    let mut cells: BTreeMap<CellKey, Vec<&Record>> = BTreeMap::new();
    for record in records {
        cells.entry(CellKey::of(record)).or_default().push(record);
    }
    let medians: BTreeMap<CellKey, Option<f64>> = cells
        .iter()
        .map(|(k, rs)| (k.clone(), median_of(rs, |r| r.wall_ns as f64)))
        .collect();

    let mut summaries: Vec<CellSummary> = cells
        .iter()
        .map(|(key, trials)| {
            let ok: Vec<&Record> = trials
                .iter()
                .copied()
                .filter(|r| r.status == Status::Ok)
                .collect();
            let worst = trials
                .iter()
                .map(|r| r.status)
                .find(|s| *s != Status::Ok)
                .unwrap_or(Status::Ok);
            let wall = medians.get(key).copied().flatten();
            let speedup_against = |base: &CellKey| {
                let base_wall = medians.get(base).copied().flatten()?;
                let n = f64::from(key.workers);
                let t_n = wall?;
                let ratio = base_wall / t_n;
                Some(if crate::schema::is_weak_scaling(&key.scaling) {
                    n * ratio
                } else {
                    ratio
                })
            };
            CellSummary {
                key: key.clone(),
                trials: trials.len(),
                trials_ok: ok.len(),
                status: worst,
                error: trials
                    .iter()
                    .find_map(|r| crate::format::shown_error(&r.error)),
                median_wall_ns: wall,
                median_throughput_ops_s: median_of(&ok, |r| r.throughput_ops_s),
                median_rounds_s: median(
                    &ok.iter()
                        .filter_map(|r| r.throughput_rounds_s)
                        .collect::<Vec<_>>(),
                ),
                throughput_spread: {
                    let rates: Vec<f64> = ok
                        .iter()
                        .map(|r| r.throughput_rounds_s.unwrap_or(r.throughput_ops_s))
                        .collect();
                    let min = rates.iter().copied().reduce(f64::min);
                    min.zip(rates.iter().copied().reduce(f64::max))
                },
                disturbed: trials
                    .iter()
                    .filter(|r| r.machine.as_ref().is_some_and(|m| m.disturbed))
                    .count(),
                median_p99_ns: median(
                    &ok.iter()
                        .filter_map(|r| r.latency.as_ref().map(|l| l.p99_ns as f64))
                        .collect::<Vec<_>>(),
                ),
                median_cpu_utilisation: median(
                    &ok.iter()
                        .filter_map(|r| r.cpu_utilisation())
                        .collect::<Vec<_>>(),
                ),
                dispatch_floor_ns: median(
                    &trials
                        .iter()
                        .filter_map(|r| r.model_overhead.dispatch_floor_ns)
                        .collect::<Vec<_>>(),
                ),
                speedup: speedup_against(&key.with(&key.model, 1)),
                speedup_vs_seq: speedup_against(&key.with("seq", 1)),
            }
        })
        .collect();
    summaries.sort_by_key(|c| {
        let k = &c.key;
        let group = (
            k.workload.clone(),
            k.scaling.clone(),
            k.load.clone(),
            k.placement.clone(),
        );
        (group, series.rank(&k.model), k.model.clone(), k.workers)
    });
    summaries
}

fn median_of(records: &[&Record], value: impl Fn(&Record) -> f64) -> Option<f64> {
    let values: Vec<f64> = records
        .iter()
        .filter(|r| r.status == Status::Ok)
        .map(|r| value(r))
        .collect();
    median(&values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(model: &str, workers: u32, wall_ns: u64, scaling: &str, status: Status) -> Record {
        crate::schema::test_record(model, workers, wall_ns, scaling, status)
    }

    #[test]
    fn speedups_come_from_median_wall_times() {
        let records = vec![
            record("seq", 1, 1000, "strong", Status::Ok),
            record("threads", 1, 1100, "strong", Status::Ok),
            record("threads", 1, 1000, "strong", Status::Ok),
            record("threads", 1, 9000, "strong", Status::Ok),
            record("threads", 4, 400, "strong", Status::Ok),
            record("threads", 4, 250, "strong", Status::Ok),
            record("threads", 4, 50, "strong", Status::Failed),
        ];
        let cells = summarise_cells(&records, &crate::series::tests::known());
        let four = cells.iter().find(|c| c.key.workers == 4).unwrap();
        // T(1) = median(1000, 1100, 9000) = 1100; T(4) = median(250, 400)
        // = 325; the failed trial is not timed.
        assert_eq!(four.median_wall_ns, Some(325.0));
        assert!((four.speedup.unwrap() - 1100.0 / 325.0).abs() < 1e-9);
        assert!((four.speedup_vs_seq.unwrap() - 1000.0 / 325.0).abs() < 1e-9);
        assert_eq!(four.status, Status::Failed);
        assert_eq!((four.trials, four.trials_ok), (3, 2));
        assert_eq!(four.median_cpu_utilisation, Some(0.5));
    }

    #[test]
    fn weak_scaling_reports_scaled_speedup() {
        let records = vec![
            record("threads", 1, 1000, "weak", Status::Ok),
            record("threads", 8, 1250, "weak", Status::Ok),
        ];
        let cells = summarise_cells(&records, &crate::series::tests::known());
        let eight = cells.iter().find(|c| c.key.workers == 8).unwrap();
        assert!((eight.speedup.unwrap() - 8.0 * 1000.0 / 1250.0).abs() < 1e-9);
        assert_eq!(eight.speedup_vs_seq, None);
    }
}
