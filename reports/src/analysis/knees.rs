//! Knees: where a speedup curve's slope falls, and why, from the evidence
//! the records hold and nothing else. The host's topology (physical
//! cores, SMT siblings, sockets) and the run's core count say where a
//! slope change is expected; each cell's breakdown (run-queue wait,
//! blocked share, CPU time per op) says what changed there. Where the
//! evidence is missing or mixed, the knee says so and does not guess.

pub use super::views::{Knee, KneeCause};
use super::views::{Law, ModelCurve, TimeSplit};
use crate::fits::{fit_amdahl, Point};
use crate::schema::Host;

/// A slope that falls below this share of what Amdahl's law, fitted to
/// the counts before it, gives there is a knee.
const KNEE_SLOPE_RATIO: f64 = 0.5;
/// The slope before a knee must be at least this (speedup per added
/// worker): a curve that never scaled has no knee, it is flat.
const MIN_SLOPE_BEFORE: f64 = 0.25;
/// A share of the workers' time (run-queue wait, blocked) that grows by
/// this much across a knee counts as evidence.
const SHARE_GROWTH: f64 = 0.10;
/// CPU time per op that grows by this factor across a knee counts.
const INFLATION_GROWTH: f64 = 1.15;

/// What the machine's shape says about where a slope may change.
#[derive(Debug, Clone, Copy, Default)]
pub struct HostShape {
    /// Cores the run could use: past them, workers share CPUs.
    pub cores: u32,
    /// Physical cores, when fewer than the logical ones (SMT).
    pub physical_cores: Option<u32>,
    /// Logical CPUs of one socket, when there are several sockets.
    pub socket_cpus: Option<u32>,
}

impl HostShape {
    /// The shape of `host`, with `cores` usable.
    pub fn of(host: &Host, cores: u32) -> HostShape {
        let physical_cores = host
            .physical_cores
            .filter(|p| *p > 0 && *p < host.logical_cores);
        let mut sockets: Vec<u32> = host.topology.iter().filter_map(|t| t.package_id).collect();
        sockets.sort_unstable();
        let total = sockets.len() as u32;
        sockets.dedup();
        let socket_cpus = (sockets.len() > 1).then(|| total / sockets.len() as u32);
        HostShape {
            cores,
            physical_cores,
            socket_cpus,
        }
    }
}

/// The knees of `curve` on a host of `shape`: at most one, the steepest
/// fall of slope. A knee is a slope that falls below half of what
/// Amdahl's law, fitted to the counts up to it, gives past it: Amdahl's
/// slope falls everywhere, so only a change of shape counts. A fall the
/// chosen USL itself gives (its coherency) is the law's, and no knee,
/// unless the machine's shape puts a limit there.
pub fn knees(curve: &ModelCurve, shape: HostShape) -> Vec<Knee> {
    let points: Vec<(u32, f64)> = curve
        .points
        .iter()
        .filter_map(|p| p.speedup.map(|s| (p.n, s.point)))
        .collect();
    // Each count's speedup interval: a fall counts only where even the
    // steepest slope the intervals allow stays under the bar.
    let interval: Vec<(f64, f64)> = curve
        .points
        .iter()
        .filter_map(|p| p.speedup.map(|s| (s.low, s.high)))
        .collect();
    let slope = |a: (u32, f64), b: (u32, f64)| (b.1 - a.1) / f64::from(b.0 - a.0).max(1.0);
    let steepest_slope = |a: usize, b: usize| {
        (interval[b].1 - interval[a].0) / f64::from(points[b].0 - points[a].0).max(1.0)
    };
    let mut steepest: Option<(usize, f64, f64)> = None;
    for i in 1..points.len().saturating_sub(1) {
        let before = slope(points[i - 1], points[i]);
        let after = slope(points[i], points[i + 1]);
        let prefix: Vec<Point> = points[..=i]
            .iter()
            .map(|&(n, value)| Point {
                n: f64::from(n),
                value,
            })
            .collect();
        let Ok(amdahl) = fit_amdahl(&prefix) else {
            continue;
        };
        let expected_slope = |from: (u32, f64), to: (u32, f64)| {
            let (a, b) = (f64::from(from.0), f64::from(to.0));
            (amdahl.speedup(b) - amdahl.speedup(a)) / (b - a).max(1.0)
        };
        let expected = expected_slope(points[i], points[i + 1]);
        // The bend lasts: from the knee to the last count, too, the slope
        // stays under half of what the law gives (a dip of one noisy
        // point is not a knee).
        let last = points.len() - 1;
        let lasts =
            steepest_slope(i, last) < KNEE_SLOPE_RATIO * expected_slope(points[i], points[last]);
        if before >= MIN_SLOPE_BEFORE
            && expected > 0.0
            && steepest_slope(i, i + 1) < KNEE_SLOPE_RATIO * expected
            && lasts
        {
            let fall = after / expected;
            if steepest.is_none_or(|(_, _, f)| fall < f) {
                steepest = Some((i, before, fall));
            }
        }
    }
    let Some((i, before, _)) = steepest else {
        return Vec::new();
    };
    let (k, next) = (points[i].0, points[i + 1].0);
    let after = slope(points[i], points[i + 1]);
    let split = |n: u32| curve.time_split.iter().find(|s| s.n == n);
    let (cause, why) = cause(k, next, shape, split(k), split(next));
    let topological = matches!(cause, KneeCause::Smt | KneeCause::Socket)
        || cause == KneeCause::Oversubscribed && shape.cores >= k && shape.cores < next;
    if usl_gives_the_fall(curve, points[i - 1], points[i], points[i + 1]) && !topological {
        return Vec::new();
    }
    vec![Knee {
        workers: k,
        next_workers: next,
        slope_before: before,
        slope_after: after,
        cause,
        text: format!(
            "the slope falls after {k} workers, from {before:.2} to {after:.2} speedup per added worker: {why}"
        ),
    }]
}

/// Whether the chosen law is the USL and its own slopes fall as the
/// measured ones do from `a`-`b` to `b`-`c` (within the knee's margin).
fn usl_gives_the_fall(curve: &ModelCurve, a: (u32, f64), b: (u32, f64), c: (u32, f64)) -> bool {
    if curve.law.as_ref().map(|l| l.law) != Some(Law::Usl) {
        return false;
    }
    let law = |n: u32| curve.fitted_speedup(f64::from(n));
    let (Some(la), Some(lb), Some(lc)) = (law(a.0), law(b.0), law(c.0)) else {
        return false;
    };
    let law_ratio = ((lc - lb) / f64::from(c.0 - b.0)) / ((lb - la) / f64::from(b.0 - a.0));
    let measured_ratio =
        ((c.1 - b.1) / f64::from(c.0 - b.0)) / ((b.1 - a.1) / f64::from(b.0 - a.0));
    measured_ratio >= KNEE_SLOPE_RATIO * law_ratio
}

/// The cause of a knee between `k` and `next` workers, and its words.
fn cause(
    k: u32,
    next: u32,
    shape: HostShape,
    at: Option<&TimeSplit>,
    after: Option<&TimeSplit>,
) -> (KneeCause, String) {
    let crosses = |limit: Option<u32>| limit.filter(|l| *l >= k && *l < next);
    // What the breakdown says changed across the knee.
    let mut signs: Vec<(KneeCause, String)> = Vec::new();
    if let (Some(a), Some(b)) = (at, after) {
        if b.runqueue - a.runqueue > SHARE_GROWTH {
            signs.push((
                KneeCause::Oversubscribed,
                format!(
                    "run-queue wait grows from {:.0}% to {:.0}% of the workers' time, more runnable threads than CPUs",
                    a.runqueue * 100.0,
                    b.runqueue * 100.0
                ),
            ));
        }
        if b.blocked - a.blocked > SHARE_GROWTH {
            signs.push((
                KneeCause::Blocked,
                format!(
                    "the blocked share grows from {:.0}% to {:.0}%, which points at locks and barriers",
                    a.blocked * 100.0,
                    b.blocked * 100.0
                ),
            ));
        }
        if let (Some(ia), Some(ib)) = (a.work_inflation.or(Some(1.0)), b.work_inflation) {
            if ib > ia * INFLATION_GROWTH {
                signs.push((
                    KneeCause::SharedHardware,
                    format!("CPU time per op grows from {ia:.2}x to {ib:.2}x of one worker's"),
                ));
            }
        }
    }
    let inflation_only = signs.len() == 1 && signs[0].0 == KneeCause::SharedHardware;
    let waiting = signs
        .iter()
        .any(|(c, _)| matches!(c, KneeCause::Oversubscribed | KneeCause::Blocked));
    // Where the machine's shape puts a limit at the knee, it is the cause
    // the breakdown must agree with: sharing a core or a socket shows as
    // CPU time per op, not as waiting.
    let evidence = |signs: &[(KneeCause, String)]| {
        signs
            .iter()
            .map(|(_, s)| s.clone())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let shared = [
        (
            KneeCause::Smt,
            shape.physical_cores,
            "physical cores, workers share cores with their SMT siblings",
        ),
        (
            KneeCause::Socket,
            shape.socket_cpus,
            "CPUs of one socket, workers reach memory on the other node",
        ),
    ];
    for (cause, limit, what) in shared {
        if let Some(n) = crosses(limit).filter(|_| !waiting) {
            let mut text = format!("past the {n} {what}");
            if inflation_only {
                text.push_str(&format!(" ({})", evidence(&signs)));
            }
            return (cause, text);
        }
    }
    // Past the cores, workers share CPUs: the run's own limit, evidence
    // enough for CPU-bound work, unless the breakdown says they block.
    let blocked = signs.iter().any(|(c, _)| *c == KneeCause::Blocked);
    if let Some(c) = crosses(Some(shape.cores)).filter(|_| !blocked) {
        let queued: Vec<String> = signs
            .iter()
            .filter(|(c, _)| *c == KneeCause::Oversubscribed)
            .map(|(_, s)| s.clone())
            .collect();
        let mut text = format!("past the {c} cores, workers share the CPUs");
        if let Some(q) = queued.first() {
            text.push_str(&format!(" ({q})"));
        }
        return (KneeCause::Oversubscribed, text);
    }
    match signs.len() {
        0 if at.is_none() || after.is_none() => (
            KneeCause::Unknown,
            "the records hold no breakdown of the workers' time there, so nothing says why".to_string(),
        ),
        0 => (
            KneeCause::Unknown,
            "no recorded evidence says why: waiting, CPU time per op and the machine's shape are unchanged across it".to_string(),
        ),
        1 => {
            let (cause, text) = signs.remove(0);
            let text = match cause {
                KneeCause::SharedHardware => format!(
                    "{text} with no more waiting, which points at shared hardware: caches, memory bandwidth, turbo"
                ),
                _ => text,
            };
            (cause, text)
        }
        _ => (
            KneeCause::Mixed,
            format!("the evidence is mixed, so no one cause is named: {}", evidence(&signs)),
        ),
    }
}
