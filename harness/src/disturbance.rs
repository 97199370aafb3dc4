//! Was a trial disturbed by the rest of the machine? The machine's view of
//! a trial ([`MachineView`]) is computed from what the model read at the
//! edges of its timed region: the worker threads' run-queue wait (beyond
//! what the run's own oversubscription explains), other processes' CPU on
//! the run's CPUs (`/proc/stat` less corebench's own, its helpers' and its
//! children's), stolen time, CPU pressure and cgroup throttling. A
//! [`DisturbanceRule`] turns it into a verdict with reasons.
//!
//! Other processes' CPU is judged only over windows of 50 ticks per CPU or
//! more; a shorter trial is judged by its round so far ([`RoundWindow`]).
//! A host that slowed down without anyone else on its CPUs (a neighbour on
//! the host, the clock) shows only as more CPU time per op than the cell's
//! other trials; the runner checks that ([`cpu_per_op_ratio`]).

use reports::schema::{DisturbanceRule, MachineView};

use crate::error::UsageError;

use crate::models::TrialOutcome;
use crate::os::machine::MachineDelta;
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

/// The window a short trial is judged by: its round so far.
#[derive(Debug, Default, Clone)]
pub struct RoundWindow {
    window: Option<MachineDelta>,
    children_ns: u64,
}

impl RoundWindow {
    /// Starts a new round.
    pub fn reset(&mut self) {
        *self = RoundWindow::default();
    }

    /// Adds a trial's window; returns the round's so far.
    pub fn add(&mut self, delta: &MachineDelta, children_ns: u64) -> (MachineDelta, u64) {
        match &mut self.window {
            Some(window) => window.add(delta),
            None => self.window = Some(*delta),
        }
        self.children_ns += children_ns;
        (self.window.expect("just set"), self.children_ns)
    }
}

/// The machine's view of a finished trial and the verdict of `rule`.
pub fn judge(
    outcome: &TrialOutcome,
    context: Context,
    rule: &DisturbanceRule,
    round: &mut RoundWindow,
) -> MachineView {
    let mut view = MachineView {
        attempt: 1,
        target_load_expected: context.target_load_expected,
        ..MachineView::default()
    };
    let threads = outcome.sched.len() + context.extra_threads;
    view.runqueue_excess_fraction = runqueue_fraction(&outcome.sched)
        .map(|fraction| (fraction - expected_runqueue_fraction(threads, context.cores)).max(0.0));
    if let Some(delta) = &outcome.machine {
        view.steal_fraction = delta.steal_fraction();
        view.cgroup_throttled_ns = delta.throttled_ns;
        view.cpu_pressure_stall_fraction = delta.pressure_fraction();
        let (window, children_ns) = if delta.judgeable() {
            (*delta, outcome.children_cpu_ns)
        } else {
            round.add(delta, outcome.children_cpu_ns)
        };
        view.others_cpu_cores = window.others_cpu_cores(children_ns);
        view.others_judged = window.judgeable();
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
        if others > rule.max_others_share * context.cores as f64 {
            reasons.push(format!(
                "other processes used {others:.2} of the {} cores",
                context.cores
            ));
        }
    }
    if let Some(steal) = view.steal_fraction {
        if steal > rule.max_steal_fraction {
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
        let quiet = judge(
            &outcome(0, 0),
            context(),
            &rule,
            &mut RoundWindow::default(),
        );
        assert!(!quiet.disturbed, "{:?}", quiet.reasons);
        assert_eq!(quiet.others_cpu_cores, Some(0.0));
        // A hog sharing one core with a worker for the whole second: the
        // worker waits half its time and others use half a core.
        let ticks_per_second = 1_000_000_000 / crate::os::machine::tick_ns();
        let hog = judge(
            &outcome(250_000_000, ticks_per_second / 2),
            context(),
            &rule,
            &mut RoundWindow::default(),
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
        let view = judge(&busy, context(), &rule, &mut RoundWindow::default());
        assert!(!view.disturbed, "{:?}", view.reasons);
    }

    #[test]
    fn a_local_target_is_expected_load() {
        let rule = DisturbanceRule::default();
        let ticks_per_second = 1_000_000_000 / crate::os::machine::tick_ns();
        let mut with_target = context();
        with_target.target_load_expected = true;
        let view = judge(
            &outcome(0, ticks_per_second),
            with_target,
            &rule,
            &mut RoundWindow::default(),
        );
        assert!(!view.disturbed && view.target_load_expected);
    }

    #[test]
    fn cpu_per_op_is_held_to_the_cells_running_median() {
        assert_eq!(cpu_per_op_ratio(100.0, &[]), None);
        assert_eq!(cpu_per_op_ratio(200.0, &[100.0, 90.0, 110.0]), Some(2.0));
    }
}
