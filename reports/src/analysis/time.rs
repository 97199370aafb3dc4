//! Where the workers' time went, per cell: the split of the kernel's
//! accounting into user, system, run-queue and blocked time, the CPU time
//! per op against one worker's, and the speedup a model lost at its
//! largest count, attributed.

use super::views::{ModelCurve, TimeSplit};
use crate::schema::{Record, Status};
use crate::stats::median;

/// The ok trials' breakdowns.
fn breakdowns<'r>(trials: &[&'r Record]) -> Vec<&'r crate::schema::Breakdown> {
    trials
        .iter()
        .filter(|r| r.status == Status::Ok)
        .filter_map(|r| r.breakdown.as_ref())
        .collect()
}

/// Median on-CPU time per op of a cell's ok trials, ns.
pub(super) fn on_cpu_ns_per_op(trials: &[&Record]) -> Option<f64> {
    let per_op: Vec<f64> = breakdowns(trials)
        .iter()
        .map(|b| b.on_cpu_ns_per_op)
        .collect();
    median(&per_op)
}

/// Median split of a cell's worker time over its ok trials with a
/// breakdown. Work inflation is its median on-CPU time per op over the
/// same model's at one worker (`alone_ns_per_op`): computed here, from the
/// cell's own records, so it does not depend on the order trials ran in.
pub(super) fn time_split(
    n: u32,
    trials: &[&Record],
    alone_ns_per_op: Option<f64>,
) -> Option<TimeSplit> {
    let splits = breakdowns(trials);
    let m = |f: fn(&crate::schema::Breakdown) -> f64| {
        median(&splits.iter().map(|b| f(b)).collect::<Vec<_>>())
    };
    let on_cpu = m(|b| b.on_cpu_fraction)?;
    let (user, sys) = (m(|b| b.user_fraction)?, m(|b| b.sys_fraction)?);
    // user and sys count in 10 ms ticks: they split the exact on-CPU time.
    let user_share = if user + sys > 0.0 {
        user / (user + sys)
    } else {
        1.0
    };
    let runqueue = m(|b| b.runqueue_fraction)?;
    // The record's own figure: the kernel's accounting, kept per trial.
    let blocked = m(|b| b.blocked_fraction)?;
    Some(TimeSplit {
        n,
        threads: splits.iter().map(|b| b.threads).max().unwrap_or(n),
        user: on_cpu * user_share,
        system: on_cpu * (1.0 - user_share),
        runqueue,
        blocked,
        switches_per_op: m(|b| b.switches_per_op)?,
        work_inflation: (n > 1)
            .then_some(alone_ns_per_op)
            .flatten()
            .filter(|alone| *alone > 0.0)
            .zip(m(|b| b.on_cpu_ns_per_op))
            .map(|(alone, here)| here / alone),
    })
}

/// Attributes the speedup a model lost at its largest worker count within
/// the cores: "threads reach 1.54x of 2.00x at 2 workers; of the lost
/// 0.46x, 0.40x is workers blocked and 0.06x waiting for a CPU".
pub(super) fn lost_speedup(curve: &ModelCurve, cores: u32) -> Option<String> {
    let point = curve
        .points
        .iter()
        .filter(|p| p.n > 1 && p.n <= cores)
        .max_by_key(|p| p.n)?;
    let split = curve.time_split.iter().find(|s| s.n == point.n)?;
    let ideal = f64::from(point.n);
    let reached = point.speedup?.point;
    let lost = ideal - reached;
    if lost <= 0.02 * ideal {
        return Some(format!(
            "{} reaches {reached:.2}x of {ideal:.2}x at {} workers",
            curve.model, point.n
        ));
    }
    // The split is a share of its threads' time: k threads give at most
    // k of the n workers' capacity, and n - k is lost to tasks sharing them.
    let threads = f64::from(split.threads.clamp(1, point.n));
    let blocked = threads * split.blocked;
    let waiting = threads * split.runqueue;
    let mut text = format!(
        "{} reaches {reached:.2}x of {ideal:.2}x at {} workers; of the lost {lost:.2}x, {:.2}x is workers blocked and {:.2}x waiting for a CPU",
        curve.model,
        point.n,
        blocked.min(lost),
        waiting.min(lost)
    );
    if threads < ideal {
        text.push_str(&format!(
            ", and {:.2}x is {} tasks sharing {} runtime thread{}",
            (ideal - threads).min(lost),
            point.n,
            split.threads,
            if split.threads == 1 { "" } else { "s" }
        ));
    }
    if let Some(inflation) = split.work_inflation.filter(|i| *i > 1.05) {
        text.push_str(&format!(
            ", and each op took {inflation:.2}x the CPU time it takes alone"
        ));
    }
    Some(text)
}
