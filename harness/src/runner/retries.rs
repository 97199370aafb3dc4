//! What running disturbed trials again may cost, and what the run saw of
//! a busy machine. After a disturbed attempt the next trial waits for a
//! quiet moment, so trials line up with the quiet stretches of a machine
//! that is busy part of the time. Re-runs and those waits may add about
//! [`RETRY_SHARE`] to the time the first attempts took;
//! past that, a disturbed attempt is kept, marked, and the run says so
//! once at the end ([`Retries::note`]).

use std::time::Duration;

use reports::analysis::MIN_CLEAN_TRIALS;
use reports::schema::{DisturbanceRule, Record};

use crate::disturbance::wait_for_quiet;

/// Re-runs may add this share of the first attempts' time.
pub const RETRY_SHARE: f64 = 0.5;
/// The longest wait for a quiet moment before one re-run.
const QUIET_MAX_WAIT: Duration = Duration::from_secs(3);
/// Re-runs may add this much besides: one whole wait, so the first cells
/// of a run can wait out a busy moment at all.
const RETRY_ALLOWANCE: Duration = QUIET_MAX_WAIT;
/// Cells named in the end-of-run note, at most.
const NOTE_MAX_CELLS: usize = 6;

/// What is left of the retries' budget, as a cell decides whether to run
/// a disturbed trial again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Room {
    /// Less than half spent: any disturbed trial runs again.
    Plenty,
    /// More than half spent: only cells that still lack the clean trials
    /// a comparison needs ([`MIN_CLEAN_TRIALS`]) run theirs again; the
    /// others' figures will come from the clean trials they have.
    Scarce,
    /// Spent: disturbed trials are kept, marked.
    Spent,
}

impl Room {
    /// Whether a cell with `clean` clean trials so far runs a disturbed
    /// one again.
    pub fn retries(self, clean: usize) -> bool {
        match self {
            Room::Plenty => true,
            Room::Scarce => clean < MIN_CLEAN_TRIALS,
            Room::Spent => false,
        }
    }
}

/// How a run waits before re-running a disturbed trial.
#[derive(Debug, Clone, Copy)]
pub struct QuietRule {
    /// When the machine counts as quiet.
    pub rule: DisturbanceRule,
    /// Cores of the run.
    pub cores: usize,
}

/// The retries' budget and what the run saw.
#[derive(Debug, Default)]
pub struct Retries {
    /// Waits for a quiet moment before a re-run (none: re-run at once).
    quiet: Option<QuietRule>,
    /// Time the first attempts took.
    first: Duration,
    /// Time re-runs and the waits before them took.
    extra: Duration,
    /// Time of every attempt, and of those judged disturbed.
    attempts: Duration,
    disturbed: Duration,
    /// Whether a disturbed attempt was kept because the budget ran out.
    exhausted: bool,
    /// Whether a wait ended with the machine still busy.
    never_quiet: bool,
    /// Whether the last attempt was disturbed: the machine may still be
    /// busy, so the next trial, whichever it is, waits for a quiet moment.
    last_disturbed: bool,
}

impl Retries {
    /// A budget that waits for `quiet` (when given) before each re-run.
    pub fn new(quiet: Option<QuietRule>) -> Self {
        Retries {
            quiet,
            ..Retries::default()
        }
    }

    /// Whether the budget allows one more re-run.
    pub fn allows(&self) -> bool {
        self.room() != Room::Spent
    }

    /// What re-runs and waits may add in all, so far.
    fn limit(&self) -> Duration {
        self.first.mul_f64(RETRY_SHARE) + RETRY_ALLOWANCE
    }

    /// How much of the budget is left.
    pub fn room(&self) -> Room {
        let limit = self.limit().as_secs_f64();
        let spent = self.extra.as_secs_f64();
        if spent > limit {
            Room::Spent
        } else if spent > limit / 2.0 {
            Room::Scarce
        } else {
            Room::Plenty
        }
    }

    /// Before an attempt (a re-run when `again`) of a cell with `clean`
    /// clean trials so far: false when it is a re-run the budget no longer
    /// allows ([`Room::retries`]; the disturbed attempt is to be kept as
    /// it is). Otherwise, after a disturbed attempt, waits within the
    /// budget for a quiet moment, so that the next trial starts in one
    /// rather than in the same busy stretch (when the budget is scarce,
    /// only for a cell still short of clean trials); then returns true.
    pub fn before_attempt(&mut self, again: bool, clean: usize) -> bool {
        let room = self.room();
        if !room.retries(clean) {
            return !again;
        }
        if let (Some(QuietRule { rule, cores }), true) = (self.quiet, self.last_disturbed) {
            let left = self.limit().saturating_sub(self.extra);
            let wait = wait_for_quiet(&rule, cores, QUIET_MAX_WAIT.min(left));
            self.extra += wait.waited;
            self.never_quiet |= !wait.quiet;
            self.last_disturbed = !wait.quiet;
        }
        true
    }

    /// A disturbed attempt was kept, marked, because the budget did not
    /// allow running it again.
    pub fn kept_disturbed(&mut self) {
        self.exhausted = true;
    }

    /// After an attempt that took `took`: a re-run when `again`.
    pub fn after_attempt(&mut self, again: bool, took: Duration, disturbed: bool) {
        if again {
            self.extra += took;
        } else {
            self.first += took;
        }
        self.attempts += took;
        if disturbed {
            self.disturbed += took;
        }
        self.last_disturbed = disturbed;
    }

    /// Once, at the end of a run that kept disturbed trials: the share of
    /// the trials' time the machine was busy, and the cells that kept them.
    pub fn note(&self, records: &[Record]) -> Option<String> {
        let mut cells: Vec<String> = Vec::new();
        let mut kept = 0;
        for record in records {
            if record.machine.as_ref().is_some_and(|m| m.disturbed) {
                kept += 1;
                let cell = format!(
                    "{} under {} at {}",
                    record.workload.id,
                    record.model,
                    reports::format::workers_phrase(record.workers)
                );
                if !cells.contains(&cell) {
                    cells.push(cell);
                }
            }
        }
        if kept == 0 {
            return None;
        }
        let busy_pct = if self.attempts.is_zero() {
            0.0
        } else {
            100.0 * self.disturbed.as_secs_f64() / self.attempts.as_secs_f64()
        };
        let why = if self.exhausted {
            format!(
                "; re-runs stopped at their budget (about {:.0}% more time)",
                RETRY_SHARE * 100.0
            )
        } else if self.never_quiet {
            "; it did not go quiet while re-runs waited".to_string()
        } else {
            String::new()
        };
        let more = cells.len().saturating_sub(NOTE_MAX_CELLS);
        let mut named = cells[..cells.len().min(NOTE_MAX_CELLS)].join(", ");
        if more > 0 {
            named.push_str(&format!(" and {more} more"));
        }
        Some(format!(
            "the machine was busy for {busy_pct:.0}% of the trials' time{why}. {kept} disturbed trial(s) were kept, marked, in {} cell(s): {named}; their cells' figures come from their clean trials where there are enough",
            cells.len()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn re_runs_may_add_about_half_the_first_attempts_time() {
        let mut retries = Retries::new(None);
        retries.after_attempt(false, Duration::from_secs(10), true);
        assert!(retries.allows());
        assert_eq!(retries.room(), Room::Plenty);
        assert!(retries.before_attempt(true, 0));
        // 5 s of the 10 s, plus the 3 s allowance: 8 s in all.
        retries.after_attempt(true, Duration::from_secs(7), true);
        // Past half of it, only cells short of clean trials re-run theirs.
        assert_eq!(retries.room(), Room::Scarce);
        assert!(Room::Scarce.retries(MIN_CLEAN_TRIALS - 1));
        assert!(!Room::Scarce.retries(MIN_CLEAN_TRIALS));
        assert!(retries.before_attempt(true, 0));
        retries.after_attempt(true, Duration::from_millis(1500), false);
        assert!(!retries.allows());
        assert!(
            !retries.before_attempt(true, 0),
            "no re-run past the budget"
        );
        assert!(
            retries.before_attempt(false, 0),
            "a first attempt always runs"
        );
    }
}
