//! A section's table of cells: one row per model and worker count, each
//! figure the median over the trials the cell is measured by
//! ([`measured_trials`]): its clean ok trials when it has enough of them.

use std::collections::BTreeMap;

use super::views::{CellRow, OpenRow, FLOOR_WARNING_RATIO};
use crate::schema::{Record, Status};
use crate::stats::{median, median_interval, tukey_outliers, Estimate};

/// Clean trials a cell needs for its figures to come from those alone: 3
/// against 3 is the fewest whose ratio interval (Mann-Whitney, from the
/// slowest to the fastest pair) covers the 90% a comparison's verdict
/// needs (1 - 2 / C(6, 3) = 90%; 3 against 2 covers only 80%).
pub const MIN_CLEAN_TRIALS: usize = 3;

/// The trials a cell's figures come from: its ok trials, and of those
/// only the ones the machine did not disturb when there are at least
/// [`MIN_CLEAN_TRIALS`] of them. With fewer, every ok trial counts, and a
/// comparison calls the cell not comparable ([`CellRow::clean_figures`]).
pub fn measured_trials<'r>(trials: &[&'r Record]) -> Vec<&'r Record> {
    let ok = trials.iter().copied().filter(|r| r.status == Status::Ok);
    let clean: Vec<&Record> = ok.clone().filter(|r| !is_disturbed(r)).collect();
    if clean.len() >= MIN_CLEAN_TRIALS {
        clean
    } else {
        ok.collect()
    }
}

fn is_disturbed(record: &Record) -> bool {
    record.machine.as_ref().is_some_and(|m| m.disturbed)
}

/// The row of one cell.
pub(super) fn cell_row(
    model: &str,
    n: u32,
    trials: &[&Record],
    speedup: Option<Estimate>,
    speedup_vs_seq: Option<Estimate>,
) -> CellRow {
    let ok = measured_trials(trials);
    let trials_ok = trials.iter().filter(|r| r.status == Status::Ok).count();
    let values = |f: &dyn Fn(&Record) -> Option<f64>| -> Vec<f64> {
        ok.iter().filter_map(|r| f(r)).collect()
    };
    let walls_ns = values(&|r| Some(r.wall_ns as f64));
    let latency_ns = |f: &dyn Fn(&crate::schema::LatencySummary) -> u64| {
        median(&values(&|r| r.latency.as_ref().map(|l| f(l) as f64)))
    };
    let p50_ns = latency_ns(&|l| l.p50_ns);
    let throughputs = values(&|r| Some(r.throughput_ops_s));
    let rounds = values(&|r| r.throughput_rounds_s);
    let dispatch_floor_ns = median(
        &trials
            .iter()
            .filter_map(|r| r.model_overhead.dispatch_floor_ns)
            .collect::<Vec<_>>(),
    );
    let floor_ratio = match (p50_ns, dispatch_floor_ns) {
        (Some(p50), Some(floor)) if floor > 0.0 => Some(p50 / floor),
        _ => None,
    };
    CellRow {
        model: model.to_string(),
        workers: n,
        status: trials
            .iter()
            .map(|r| r.status)
            .find(|s| *s != Status::Ok)
            .unwrap_or(Status::Ok),
        error: trials
            .iter()
            .find_map(|r| crate::format::shown_error(&r.error)),
        trials: trials.len(),
        trials_ok,
        trials_measured: ok.len(),
        disturbed: trials.iter().filter(|r| is_disturbed(r)).count(),
        disturbed_why: trials
            .iter()
            .filter_map(|r| r.machine.as_ref().filter(|m| m.disturbed))
            .map(|m| m.reasons.join("; "))
            .collect(),
        wall_ns: median_interval(&walls_ns),
        throughput_ops_s: median_interval(&throughputs),
        ok_throughputs_ops_s: throughputs.clone(),
        rounds_s: median(&rounds)
            .zip(crate::stats::range(&rounds))
            .map(|(m, (l, h))| (m, l, h)),
        speedup,
        speedup_vs_seq,
        p50_ns,
        p90_ns: latency_ns(&|l| l.p90_ns),
        p99_ns: latency_ns(&|l| l.p99_ns),
        p99_9_ns: latency_ns(&|l| l.p99_9_ns),
        max_ns: latency_ns(&|l| l.max_ns),
        cpu_utilisation: median(&values(&|r| r.cpu_utilisation())),
        outliers: tukey_outliers(&walls_ns),
        dispatch_floor_ns,
        floor_ratio,
        measures_executor: floor_ratio.is_some_and(|r| r < FLOOR_WARNING_RATIO),
        async_op: ok.iter().any(|r| r.async_op),
        counters: {
            let mut by_name: BTreeMap<String, Vec<f64>> = BTreeMap::new();
            for record in trials {
                for (name, value) in &record.counters {
                    by_name.entry(name.clone()).or_default().push(*value);
                }
            }
            by_name
                .into_iter()
                .filter_map(|(name, values)| median(&values).map(|m| (name, m)))
                .collect()
        },
        jain_index: median(&values(&|r| r.fairness.as_ref().map(|f| f.jain_index))),
        max_min_ratio: median(&values(&|r| {
            r.fairness.as_ref().and_then(|f| f.max_min_ratio)
        })),
        starvation: trials.iter().any(|r| {
            r.fairness
                .as_ref()
                .is_some_and(|f| !f.starved_workers.is_empty())
        }),
        in_flight: median(&values(&|r| {
            let mean_ns = r.latency.as_ref()?.mean_ns;
            (r.wall_ns > 0).then(|| mean_ns * r.ops as f64 / r.wall_ns as f64)
        })),
        open: open_row(&ok),
        switches_per_op: median(&values(&|r| {
            r.breakdown.as_ref().map(|b| b.switches_per_op)
        })),
        runqueue_fraction: median(&values(&|r| {
            r.breakdown.as_ref().map(|b| b.runqueue_fraction)
        })),
        ipc: median(&values(&|r| r.breakdown.as_ref()?.ipc)),
        cache_misses_per_op: median(&values(&|r| r.breakdown.as_ref()?.cache_misses_per_op)),
    }
}

/// The open-loop summary of a cell's ok trials, if they ran open.
fn open_row(ok: &[&Record]) -> Option<OpenRow> {
    let open: Vec<(&Record, &crate::schema::OpenLoop)> = ok
        .iter()
        .filter_map(|r| r.open_loop.as_ref().map(|o| (*r, o)))
        .collect();
    let first = open.first()?;
    let values = |f: &dyn Fn(&Record, &crate::schema::OpenLoop) -> Option<f64>| {
        median(&open.iter().filter_map(|(r, o)| f(r, o)).collect::<Vec<_>>())
    };
    Some(OpenRow {
        requested_rate_ops_s: first.1.requested_rate_ops_s,
        achieved_rate_ops_s: values(&|r, _| Some(r.throughput_ops_s)).unwrap_or(0.0),
        uncorrected_p99_ns: values(&|_, o| o.uncorrected_latency.as_ref().map(|l| l.p99_ns as f64)),
        pacing_p99_ns: values(&|_, o| o.pacing_error.as_ref().map(|l| l.p99_ns as f64)),
        late_starts: values(&|_, o| Some(o.late_starts as f64)),
    })
}
