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
        waits: crate::waits::pooled(trials),
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
        "{} reaches {reached:.2}x of {ideal:.2}x at {} workers; of the lost {lost:.2}x, {:.2}x is workers blocked{} and {:.2}x waiting for a CPU",
        curve.model,
        point.n,
        blocked.min(lost),
        top_wait_phrase(split, blocked.min(lost)),
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

/// ", 0.38x of it in Barrier::wait called from amdahl::run_op": the
/// top wait site's part of `blocked`, where the cell was wall-profiled.
fn top_wait_phrase(split: &TimeSplit, blocked: f64) -> String {
    let Some(top) = split.waits.as_ref().and_then(|w| w.sites.first()) else {
        return String::new();
    };
    if blocked < 0.01 {
        return String::new();
    }
    format!(
        ", {:.2}x of it in {}",
        blocked * top.share_of_blocked.min(1.0),
        crate::waits::site_phrase(top)
    )
}

/// What a blocking call inside async tasks cost, where the wall profile
/// saw one: "tokio's runtime threads were blocked inside tasks 31% of
/// their time, in `thread::sleep` called from `sleep::{async_block#0}`:
/// a blocking call on an executor thread, which stalls every task queued
/// there".
pub(super) fn blocking_in_tasks(curve: &ModelCurve) -> Option<String> {
    let (n, waits) = curve
        .time_split
        .iter()
        .filter_map(|s| Some((s.n, s.waits.as_ref()?)))
        .max_by(|a, b| {
            let share = |w: &crate::waits::CellWaits| w.profile.blocked_in_tasks_fraction;
            share(a.1)
                .partial_cmp(&share(b.1))
                .unwrap_or(std::cmp::Ordering::Equal)
        })?;
    let share = waits.profile.blocked_in_tasks_fraction?;
    if share < BLOCKING_IN_TASKS_NOTED {
        return None;
    }
    let site = waits.sites.iter().find(|s| s.in_async_task)?;
    Some(format!(
        "{}'s runtime threads were blocked inside tasks {:.0}% of their time at {n} workers, in {}: a blocking call on an executor thread, which stalls every task queued there",
        curve.model,
        share * 100.0,
        crate::waits::site_phrase(site)
    ))
}

/// The share of a runtime's sampled time blocked inside tasks from which
/// the reading says so.
const BLOCKING_IN_TASKS_NOTED: f64 = 0.05;
