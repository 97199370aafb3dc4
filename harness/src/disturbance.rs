//! Was a trial disturbed by the rest of the machine? The machine's view of
//! a trial ([`MachineView`]) is computed from what the model read at the
//! edges of its timed region: the worker threads' run-queue wait (beyond
//! what the run's own oversubscription explains), other processes' CPU on
//! the run's CPUs (`/proc/stat` less corebench's own, its helpers' and its
//! children's), stolen time, CPU pressure and cgroup throttling. A
//! [`DisturbanceRule`] turns it into a verdict with reasons.
//!
//! Every attempt is judged on its own window only. Other processes' CPU,
//! counted by `/proc/stat` in ticks of 10 ms, is judged only over windows
//! of 20 ticks per CPU or more, less what the ticks' rounding can account
//! for, and so is stolen time; a shorter trial is judged by the signals
//! with nanosecond resolution: its workers' own run-queue wait and, in
//! the runner, its CPU time per op. A host that slowed down without anyone
//! else on its CPUs (a neighbour on the host, the clock) shows only as
//! more CPU time per op than the cell's other trials
//! ([`cpu_per_op_ratio`]).
//!
//! Before a disturbed trial runs again, [`wait_for_quiet`] looks at the
//! machine in short windows until nothing else is using its CPUs, for a
//! bounded time.

use reports::schema::{DisturbanceRule, MachineView};

use crate::error::UsageError;

use std::time::{Duration, Instant};

use crate::models::TrialOutcome;
use crate::os::machine::{tick_ns, MachineDelta, MachineSnapshot};
use crate::os::schedstat::runqueue_fraction;

/// What a run does with a trial the machine disturbed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OnDisturbance {
    /// Run it again, up to `--max-retries` times; keep the last attempt,
    /// marked, if none came clean.
    #[default]
    Retry,
    /// Keep it, marked disturbed.
    Flag,
    /// Record the machine's view but judge nothing.
    Ignore,
}

/// `--on-disturbance`, `--max-retries` and the rule's thresholds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DisturbancePolicy {
    /// What to do with a disturbed trial.
    pub on_disturbance: OnDisturbance,
    /// Re-runs of one trial at most.
    pub max_retries: u32,
    /// When a trial counts as disturbed.
    pub rule: DisturbanceRule,
}

impl Default for DisturbancePolicy {
    fn default() -> Self {
        DisturbancePolicy {
            on_disturbance: OnDisturbance::Retry,
            max_retries: 3,
            rule: DisturbanceRule::default(),
        }
    }
}

/// Parses `--disturbance runqueue=0.1,others=0.1,steal=0.02,pressure=0.2,cpu-per-op=1.15`
/// (any subset) over the defaults.
pub fn parse_disturbance_rule(text: &str) -> Result<DisturbanceRule, UsageError> {
    let mut rule = DisturbanceRule::default();
    let valid = "runqueue, others, steal, pressure (fractions from 0 to 1) and cpu-per-op (a ratio of 1 or more)";
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (key, value) = item.split_once('=').ok_or_else(|| {
            UsageError::new(format!(
                "bad --disturbance item '{item}': expected KEY=VALUE with KEY one of {valid}"
            ))
        })?;
        let number: f64 = value
            .trim()
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| {
                UsageError::new(format!(
                    "bad --disturbance value '{item}': expected a number"
                ))
            })?;
        let fraction = || {
            (number <= 1.0).then_some(number).ok_or_else(|| {
                UsageError::new(format!(
                    "bad --disturbance value '{item}': a fraction from 0 to 1"
                ))
            })
        };
        match key.trim() {
            "runqueue" => rule.max_runqueue_excess_fraction = fraction()?,
            "others" => rule.max_others_share = fraction()?,
            "steal" => rule.max_steal_fraction = fraction()?,
            "pressure" => rule.max_cpu_pressure_fraction = fraction()?,
            "cpu-per-op" if number >= 1.0 => rule.max_cpu_per_op_ratio = number,
            other => {
                return Err(UsageError::new(format!(
                    "bad --disturbance item '{item}': unknown key '{other}' or value out of range; valid: {valid}"
                )))
            }
        }
    }
    Ok(rule)
}

/// `rule` as `--disturbance` spells it, every key given: what a resolved
/// plan file holds.
pub fn spell_disturbance_rule(rule: &DisturbanceRule) -> String {
    format!(
        "runqueue={},others={},steal={},pressure={},cpu-per-op={}",
        rule.max_runqueue_excess_fraction,
        rule.max_others_share,
        rule.max_steal_fraction,
        rule.max_cpu_pressure_fraction,
        rule.max_cpu_per_op_ratio
    )
}

/// What a trial ran beside, for judging its run-queue wait.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// Cores this run may use.
    pub cores: usize,
    /// Threads of the run's own that compete with the measured ones but
    /// are not measured (the pool's submitter, the loopback server).
    pub extra_threads: usize,
    /// A `--target` server runs on this machine: its CPU is expected load.
    pub target_load_expected: bool,
}

/// The run's own share of waiting for a CPU: `threads` runnable threads
/// on `cores` cores wait `1 - cores / threads` of their time.
pub fn expected_runqueue_fraction(threads: usize, cores: usize) -> f64 {
    if threads == 0 {
        0.0
    } else {
        (1.0 - cores as f64 / threads as f64).max(0.0)
    }
}

/// The machine's view of a finished trial and the verdict of `rule`.
pub fn judge(outcome: &TrialOutcome, context: Context, rule: &DisturbanceRule) -> MachineView {
    let mut view = MachineView {
        attempt: 1,
        target_load_expected: context.target_load_expected,
        ..MachineView::default()
    };
    let threads = outcome.sched.len() + context.extra_threads;
    let mut others_rounding_cores = 0.0;
    let mut steal_rounding = 0.0;
    view.runqueue_excess_fraction = runqueue_fraction(&outcome.sched)
        .map(|fraction| (fraction - expected_runqueue_fraction(threads, context.cores)).max(0.0));
    if let Some(delta) = &outcome.machine {
        view.steal_fraction = delta.steal_fraction();
        view.cgroup_throttled_ns = delta.throttled_ns;
        view.cpu_pressure_stall_fraction = delta.pressure_fraction();
        view.others_cpu_cores = delta.others_cpu_cores(outcome.children_cpu_ns);
        view.others_judged = delta.judgeable();
        others_rounding_cores = delta.rounding_cores();
        // Steal counts in whole ticks per CPU too: judged over the same
        // windows, less a tick per CPU of rounding.
        steal_rounding = if delta.judgeable() && delta.wall_ns > 0 {
            tick_ns() as f64 / delta.wall_ns as f64
        } else {
            f64::INFINITY
        };
    }
    let mut reasons = Vec::new();
    if let Some(excess) = view.runqueue_excess_fraction {
        if excess > rule.max_runqueue_excess_fraction {
            reasons.push(format!(
                "workers waited {:.0}% of their time for a CPU beyond the run's own",
                excess * 100.0
            ));
        }
    }
    if let (Some(others), true, false) = (
        view.others_cpu_cores,
        view.others_judged,
        context.target_load_expected,
    ) {
        if others - others_rounding_cores > rule.max_others_share * context.cores as f64 {
            reasons.push(format!(
                "other processes used {others:.2} of the {} cores",
                context.cores
            ));
        }
    }
    if let Some(steal) = view.steal_fraction {
        if steal - steal_rounding > rule.max_steal_fraction {
            reasons.push(format!(
                "the hypervisor stole {:.1}% of the time",
                steal * 100.0
            ));
        }
    }
    // Pressure counts the run's own waits as well as others': it decides
    // only where the threads' own run-queue figures are missing.
    if let (Some(pressure), None) = (
        view.cpu_pressure_stall_fraction,
        view.runqueue_excess_fraction,
    ) {
        if threads <= context.cores && pressure > rule.max_cpu_pressure_fraction {
            reasons.push(format!(
                "tasks waited for a CPU {:.0}% of the time (CPU pressure)",
                pressure * 100.0
            ));
        }
    }
    view.disturbed = !reasons.is_empty();
    view.reasons = reasons;
    view
}

/// One look at the machine while waiting for a quiet moment: 20 ticks
/// per CPU at the usual 100 Hz, enough to see another process on a core.
const QUIET_WINDOW: Duration = Duration::from_millis(200);

/// How a wait for a quiet moment ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuietWait {
    /// Time spent looking.
    pub waited: Duration,
    /// Whether the last look found the machine quiet.
    pub quiet: bool,
}

/// Looks at the machine in windows of [`QUIET_WINDOW`] until one is quiet
/// by `rule` ([`looks_quiet`]) or `max_wait` has passed. Run between
/// trials, when none of the run's workers is running, so whatever used
/// the CPUs was someone else. Returns early on a signal.
pub fn wait_for_quiet(rule: &DisturbanceRule, cores: usize, max_wait: Duration) -> QuietWait {
    let started = Instant::now();
    loop {
        let before = MachineSnapshot::take();
        std::thread::sleep(QUIET_WINDOW.min(max_wait));
        let window = MachineSnapshot::take().since(&before);
        let quiet = looks_quiet(&window, rule, cores);
        let waited = started.elapsed();
        if quiet || waited >= max_wait || crate::interrupt::requested().is_some() {
            return QuietWait { waited, quiet };
        }
    }
}

/// Whether a window between trials shows the machine quiet: other
/// processes used at most the rule's share of the cores, tasks barely
/// waited for a CPU, and the hypervisor stole at most the rule's share
/// (and more than one tick, the resolution of a short window).
pub fn looks_quiet(window: &MachineDelta, rule: &DisturbanceRule, cores: usize) -> bool {
    let others_ok = window
        .others_cpu_cores(0)
        .is_none_or(|others| others <= rule.max_others_share * cores as f64);
    let pressure_ok = window
        .pressure_fraction()
        .is_none_or(|p| p <= rule.max_cpu_pressure_fraction);
    let steal_ok = window.steal_ns <= tick_ns()
        || window
            .steal_fraction()
            .is_none_or(|s| s <= rule.max_steal_fraction);
    others_ok && pressure_ok && steal_ok
}

/// CPU time per op of a trial over the median of the cell's earlier clean
/// trials; `None` before there are any.
pub fn cpu_per_op_ratio(cpu_per_op_ns: f64, earlier: &[f64]) -> Option<f64> {
    let median = reports::stats::median(earlier)?;
    (median > 0.0).then(|| cpu_per_op_ns / median)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::schedstat::{SchedStat, ThreadSched};

    fn outcome(runqueue_ns: u64, others_busy_ticks: u64) -> TrialOutcome {
        let mut outcome = TrialOutcome::new(
            vec![],
            crate::recorder::new_histogram(),
            Default::default(),
            0,
            Default::default(),
        );
        outcome.sched = (0..2)
            .map(|tid| ThreadSched {
                tid,
                sched: SchedStat {
                    on_cpu_ns: 1_000_000_000 - runqueue_ns,
                    runqueue_ns,
                    timeslices: 10,
                    ..SchedStat::default()
                },
                wall_ns: 1_000_000_000,
                counts: None,
                mostly_on_cpu: None,
            })
            .collect();
        let tick = crate::os::machine::tick_ns();
        outcome.machine = Some(MachineDelta {
            wall_ns: 1_000_000_000,
            cpus: 2,
            busy_ns: 2_000_000_000 - 2 * runqueue_ns + others_busy_ticks * tick,
            total_ns: 2_000_000_000,
            min_ticks: 100,
            own_ns: 2_000_000_000 - 2 * runqueue_ns,
            ..MachineDelta::default()
        });
        outcome
    }

    fn context() -> Context {
        Context {
            cores: 2,
            extra_threads: 0,
            target_load_expected: false,
        }
    }

    #[test]
    fn a_quiet_trial_is_clean_and_a_hog_on_one_core_is_found() {
        let rule = DisturbanceRule::default();
        let quiet = judge(&outcome(0, 0), context(), &rule);
        assert!(!quiet.disturbed, "{:?}", quiet.reasons);
        assert_eq!(quiet.others_cpu_cores, Some(0.0));
        // A hog sharing one core with a worker for the whole second: the
        // worker waits half its time and others use half a core.
        let ticks_per_second = 1_000_000_000 / crate::os::machine::tick_ns();
        let hog = judge(
            &outcome(250_000_000, ticks_per_second / 2),
            context(),
            &rule,
        );
        assert!(hog.disturbed);
        assert!(
            (hog.others_cpu_cores.unwrap() - 0.5).abs() < 0.02,
            "{hog:?}"
        );
        assert!(hog.reasons.iter().any(|r| r.contains("other processes")));
        assert!(hog.reasons.iter().any(|r| r.contains("waited")));
    }

    #[test]
    fn the_runs_own_oversubscription_is_not_a_disturbance() {
        assert_eq!(expected_runqueue_fraction(4, 2), 0.5);
        assert_eq!(expected_runqueue_fraction(2, 2), 0.0);
        let rule = DisturbanceRule::default();
        let mut busy = outcome(500_000_000, 0);
        busy.sched.extend(busy.sched.clone());
        let view = judge(&busy, context(), &rule);
        assert!(!view.disturbed, "{:?}", view.reasons);
    }

    #[test]
    fn a_local_target_is_expected_load() {
        let rule = DisturbanceRule::default();
        let ticks_per_second = 1_000_000_000 / crate::os::machine::tick_ns();
        let mut with_target = context();
        with_target.target_load_expected = true;
        let view = judge(&outcome(0, ticks_per_second), with_target, &rule);
        assert!(!view.disturbed && view.target_load_expected);
    }

    #[test]
    fn a_short_trial_is_judged_on_its_own_window_never_on_others_ticks() {
        let rule = DisturbanceRule::default();
        // 40 ms on 2 CPUs: 4 ticks each, 2 of them someone else's (or the
        // kernel's loopback work): too few ticks to judge.
        let mut short = outcome(0, 0);
        let tick = crate::os::machine::tick_ns();
        let machine = short.machine.as_mut().unwrap();
        machine.wall_ns = 40_000_000;
        machine.total_ns = 8 * tick;
        machine.own_ns = 6 * tick;
        machine.busy_ns = 8 * tick;
        machine.min_ticks = 4;
        // And a tick stolen: 12.5% of its 8 ticks, and no more than rounding.
        machine.steal_ns = tick;
        let view = judge(&short, context(), &rule);
        assert!(!view.others_judged);
        assert!(!view.disturbed, "{:?}", view.reasons);
        // Its workers' own run-queue wait still counts, at any length.
        for thread in &mut short.sched {
            thread.sched.runqueue_ns = thread.wall_ns / 2;
        }
        assert!(judge(&short, context(), &rule).disturbed);
    }

    #[test]
    fn a_quarter_second_trial_is_judged_allowing_for_its_ticks_rounding() {
        let rule = DisturbanceRule::default();
        let tick = crate::os::machine::tick_ns();
        let trial = |others_ticks: u64| {
            let mut trial = outcome(0, 0);
            let machine = trial.machine.as_mut().unwrap();
            machine.wall_ns = 25 * tick;
            machine.total_ns = 50 * tick;
            machine.own_ns = 40 * tick;
            machine.busy_ns = (40 + others_ticks) * tick;
            machine.min_ticks = 25;
            judge(&trial, context(), &rule)
        };
        // Two ticks of a daemon, or of rounding: 0.08 cores, not a hog.
        let quiet = trial(2);
        assert!(quiet.others_judged && !quiet.disturbed, "{quiet:?}");
        // A hog on one core throughout.
        let hog = trial(25);
        assert!(hog.disturbed, "{hog:?}");
        assert!(hog.reasons[0].contains("other processes used 1.00 of the 2 cores"));
    }

    #[test]
    fn a_window_between_trials_is_quiet_unless_someone_else_used_a_core() {
        let rule = DisturbanceRule::default();
        let tick = crate::os::machine::tick_ns();
        let window = |others_ticks: u64, steal_ticks: u64| MachineDelta {
            wall_ns: 200_000_000,
            cpus: 2,
            busy_ns: others_ticks * tick,
            steal_ns: steal_ticks * tick,
            total_ns: 2 * 200_000_000,
            min_ticks: 20,
            ..MachineDelta::default()
        };
        assert!(looks_quiet(&window(0, 0), &rule, 2));
        // A tick of a daemon, or one tick stolen: the resolution, not load.
        assert!(looks_quiet(&window(1, 1), &rule, 2));
        // A hog on one core for the whole window.
        assert!(!looks_quiet(&window(20, 0), &rule, 2));
        // The hypervisor took a tenth of the time.
        assert!(!looks_quiet(&window(0, 4), &rule, 2));
    }

    #[test]
    fn cpu_per_op_is_held_to_the_cells_running_median() {
        assert_eq!(cpu_per_op_ratio(100.0, &[]), None);
        assert_eq!(cpu_per_op_ratio(200.0, &[100.0, 90.0, 110.0]), Some(2.0));
    }
}
