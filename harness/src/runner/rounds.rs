//! The round loop every measured trial goes through: the cells of a
//! section (the runner's own cells, or the programs `corebench exec`
//! runs) run trial 1 of every cell, then trial 2, and so on, in an order
//! shuffled anew each round with a recorded seed, so a burst of outside
//! load spreads over every cell instead of landing on one.
//!
//! A disturbed attempt is not run again at once, inside the same busy
//! moment: its cell goes back to the end of the round, and after any
//! disturbed attempt the loop waits, for a bounded time, until the machine
//! looks quiet before the next trial ([`Retries`]).

use std::collections::VecDeque;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use reports::schema::Record;

use reports::analysis::MIN_CLEAN_TRIALS;

use super::retries::Retries;
use crate::supervisor::Supervisor;

/// How one attempt at a trial ended.
#[derive(Debug)]
pub enum TrialEnd {
    /// The trial's record, final.
    Kept(Box<Record>),
    /// Disturbed, and the cell's policy runs it again: the loop puts the
    /// cell back at the end of the round, or to its next turn when the
    /// retries' budget does not allow a re-run yet. The cell holds the
    /// attempt, to keep it after all if the budget runs out
    /// ([`TrialSource::keep_disturbed`]).
    Disturbed,
}

/// A cell as the round loop drives it.
pub trait TrialSource {
    /// A label for progress and errors.
    fn label(&self) -> String;

    /// Whether it has trials left.
    fn wants_more(&self) -> bool;

    /// Trials it will not run after all (it stopped early).
    fn skipped(&self) -> u32;

    /// Runs its next trial in round `round` (or the disturbed attempt it
    /// holds, again) and says how it ended; `None` when the run was
    /// interrupted.
    fn next_trial(&mut self, round: u32, supervisor: &mut Supervisor) -> Option<TrialEnd>;

    /// Whether it holds a disturbed attempt to run again.
    fn holds_disturbed(&self) -> bool {
        false
    }

    /// Its trials kept clean so far: a cell short of the clean trials a
    /// comparison needs is the one the retries' budget is spent on.
    fn clean_so_far(&self) -> usize {
        0
    }

    /// The disturbed attempt it holds, kept as it is: the retries' budget
    /// ran out before it could run again.
    fn keep_disturbed(&mut self) -> Option<Record> {
        None
    }
}

/// How a section's rounds ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounds {
    /// Every cell ran every trial it wanted.
    Done,
    /// A signal stopped the run; what finished was emitted.
    Interrupted,
}

/// Runs `sources` round by round until none wants more, handing each
/// record to `emit` the moment its trial ends (so a killed run keeps every
/// finished trial). Round `r`'s order is shuffled with `seed_of_round(r)`;
/// a disturbed attempt's cell goes back to the end of its round.
///
/// A re-run the retries' budget does not allow yet is put off, not given
/// up: the budget grows with every first attempt, so early in a section
/// it is small. A cell still short of clean trials keeps its disturbed
/// attempt and runs it again at its next turn the budget allows; a cell
/// with enough clean trials keeps the attempt, marked. When a whole round
/// runs nothing but put-off re-runs the budget refuses, they are kept.
pub fn run_rounds<S: TrialSource>(
    sources: &mut [S],
    seed_of_round: impl Fn(u32) -> u64,
    supervisor: &mut Supervisor,
    retries: &mut Retries,
    progress: &ProgressBar,
    mut emit: impl FnMut(Record, &str) -> anyhow::Result<()>,
) -> anyhow::Result<Rounds> {
    for round in 0.. {
        let mut order: Vec<usize> = (0..sources.len())
            .filter(|&i| sources[i].wants_more())
            .collect();
        if order.is_empty() {
            break;
        }
        fastrand::Rng::with_seed(seed_of_round(round)).shuffle(&mut order);
        let mut queue: VecDeque<usize> = order.into_iter().collect();
        let mut put_off: Vec<usize> = Vec::new();
        let mut ran = false;
        while let Some(index) = queue.pop_front() {
            let source = &mut sources[index];
            let label = source.label();
            let again = source.holds_disturbed();
            if again {
                progress.set_message(format!("{label} · disturbed: waiting for a quiet moment"));
            }
            if !retries.before_attempt(again, source.clean_so_far()) {
                if source.clean_so_far() < MIN_CLEAN_TRIALS {
                    put_off.push(index);
                } else {
                    retries.kept_disturbed();
                    keep_held(source, &label, progress, &mut emit)?;
                }
                continue;
            }
            progress.set_message(if again {
                format!("{label} · again (disturbed)")
            } else {
                label.clone()
            });
            let started = Instant::now();
            let Some(end) = source.next_trial(round, supervisor) else {
                return Ok(Rounds::Interrupted);
            };
            ran = true;
            let disturbed = match &end {
                TrialEnd::Disturbed => true,
                TrialEnd::Kept(record) => record.machine.as_ref().is_some_and(|m| m.disturbed),
            };
            retries.after_attempt(again, started.elapsed(), disturbed);
            match end {
                TrialEnd::Kept(record) => kept(*record, source, &label, progress, &mut emit)?,
                // Where the budget allows it now, later in this round;
                // otherwise at the cell's next turn.
                TrialEnd::Disturbed => {
                    if retries.room().retries(source.clean_so_far()) {
                        queue.push_back(index);
                    }
                }
            }
        }
        if !ran {
            for index in put_off {
                let source = &mut sources[index];
                let label = source.label();
                retries.kept_disturbed();
                keep_held(source, &label, progress, &mut emit)?;
            }
        }
    }
    Ok(Rounds::Done)
}

/// Hands a finished trial's record on and counts it (and, when the cell
/// stopped early, the trials it will not run).
fn kept<S: TrialSource>(
    record: Record,
    source: &S,
    label: &str,
    progress: &ProgressBar,
    emit: &mut impl FnMut(Record, &str) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    emit(record, label)?;
    progress.inc(1);
    if !source.wants_more() {
        progress.inc(u64::from(source.skipped()));
    }
    Ok(())
}

/// Keeps the disturbed attempt `source` holds, marked.
fn keep_held<S: TrialSource>(
    source: &mut S,
    label: &str,
    progress: &ProgressBar,
    emit: &mut impl FnMut(Record, &str) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    match source.keep_disturbed() {
        Some(record) => kept(record, source, label, progress, emit),
        None => Ok(()),
    }
}

/// The progress bar of `trials` trials: drawn on a terminal when `show`,
/// hidden otherwise (messages printed through it still reach stderr).
pub fn progress_bar(trials: u64, show: bool) -> ProgressBar {
    let progress = if show {
        ProgressBar::new(trials.max(1))
    } else {
        ProgressBar::hidden()
    };
    progress.set_style(
        ProgressStyle::with_template(
            "[{bar:30.cyan/blue}] trial {pos}/{len} · {msg} · {elapsed} elapsed, eta {eta}",
        )
        .expect("static template is valid")
        .progress_chars("=> "),
    );
    progress
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{RecordContext, TrialParts};
    use reports::schema::MachineView;

    fn context() -> RecordContext {
        let registry = workloads::Registry::builtin();
        RecordContext {
            workload: std::sync::Arc::from(registry.parse_spec("cpu/primes").unwrap()),
            model: "threads".into(),
            workers: 1,
            runtime_threads: None,
            placement: "none".into(),
            cores: vec![None],
            scaling: workloads::Scaling::Strong,
            load: crate::plan::LoadMode::Closed,
            recording: crate::recorder::Recording::PerOp,
            run_id: "run".into(),
            is_async: false,
        }
    }

    /// A cell whose attempts are disturbed as its script says, logging
    /// each attempt as `name` and the round.
    struct Scripted<'l> {
        name: &'static str,
        disturbed: Vec<bool>,
        done: u32,
        trials: u32,
        clean: usize,
        holds: bool,
        log: &'l std::cell::RefCell<Vec<String>>,
    }

    impl TrialSource for Scripted<'_> {
        fn label(&self) -> String {
            self.name.to_string()
        }
        fn wants_more(&self) -> bool {
            self.done < self.trials
        }
        fn skipped(&self) -> u32 {
            0
        }
        fn next_trial(&mut self, round: u32, _: &mut Supervisor) -> Option<TrialEnd> {
            self.log.borrow_mut().push(format!("{}{round}", self.name));
            // Every attempt takes a little time: first attempts grow the
            // retries' budget.
            std::thread::sleep(std::time::Duration::from_millis(20));
            let disturbed = !self.disturbed.is_empty() && self.disturbed.remove(0);
            self.holds = disturbed;
            if disturbed {
                return Some(TrialEnd::Disturbed);
            }
            self.clean += 1;
            Some(TrialEnd::Kept(Box::new(self.end(false))))
        }
        fn holds_disturbed(&self) -> bool {
            self.holds
        }
        fn clean_so_far(&self) -> usize {
            self.clean
        }
        fn keep_disturbed(&mut self) -> Option<Record> {
            self.holds = false;
            Some(self.end(true))
        }
    }

    impl Scripted<'_> {
        fn end(&mut self, disturbed: bool) -> Record {
            self.done += 1;
            let mut parts = TrialParts::failed(
                crate::failure::Failure::failed("scripted"),
                Default::default(),
            );
            parts.machine = Some(MachineView {
                disturbed,
                ..MachineView::default()
            });
            context().record(parts)
        }
    }

    #[test]
    fn a_disturbed_attempt_runs_again_at_the_end_of_its_round() {
        let log = std::cell::RefCell::new(Vec::new());
        let cell = |name, disturbed: Vec<bool>| Scripted {
            name,
            disturbed,
            done: 0,
            trials: 2,
            clean: 0,
            holds: false,
            log: &log,
        };
        let mut sources = [cell("a", vec![true]), cell("b", vec![]), cell("c", vec![])];
        let mut kept = Vec::new();
        run_rounds(
            &mut sources,
            |_| 1,
            &mut Supervisor::default(),
            &mut Retries::new(None),
            &ProgressBar::hidden(),
            |record, label| {
                kept.push((label.to_string(), record.machine.unwrap().disturbed));
                Ok(())
            },
        )
        .unwrap();
        let log = log.into_inner();
        // Round 0: a's disturbed attempt runs again after b and c.
        let round_0: Vec<&str> = log.iter().map(String::as_str).take(4).collect();
        assert_eq!(round_0.iter().filter(|e| **e == "a0").count(), 2);
        assert_eq!(round_0[3], "a0", "{log:?}");
        assert_eq!(log.len(), 7);
        assert_eq!(kept.len(), 6);
        assert!(kept.iter().all(|(_, disturbed)| !disturbed));
    }

    /// With no budget left yet (no first attempt ran before), a disturbed attempt
    /// of a cell short of clean trials is not kept at once: it runs again
    /// at the cell's next turn, once first attempts have grown the budget;
    /// a cell with enough clean trials keeps its, marked.
    #[test]
    fn a_re_run_the_budget_refuses_is_put_off_until_it_allows() {
        let log = std::cell::RefCell::new(Vec::new());
        let cell = |name, disturbed: Vec<bool>, clean| Scripted {
            name,
            disturbed,
            done: 0,
            trials: 3,
            clean,
            holds: false,
            log: &log,
        };
        let mut sources = [
            cell("a", vec![true], 0),
            cell("b", vec![true], MIN_CLEAN_TRIALS),
        ];
        let mut retries = Retries::new(None);
        // Re-runs so far have used a little more than the whole budget
        // (its 3 s allowance), so the first attempt to end grows it back.
        retries.after_attempt(true, std::time::Duration::from_millis(3005), false);
        let mut kept = Vec::new();
        run_rounds(
            &mut sources,
            |_| 1,
            &mut Supervisor::default(),
            &mut retries,
            &ProgressBar::hidden(),
            |record, label| {
                kept.push((label.to_string(), record.machine.unwrap().disturbed));
                Ok(())
            },
        )
        .unwrap();
        let disturbed_kept: Vec<&str> = kept
            .iter()
            .filter(|(_, disturbed)| *disturbed)
            .map(|(label, _)| label.as_str())
            .collect();
        assert_eq!(disturbed_kept, ["b"], "{kept:?}");
        let log = log.into_inner();
        assert_eq!(
            log.iter().filter(|e| e.starts_with('a')).count(),
            4,
            "{log:?}"
        );
        assert_eq!(kept.len(), 6);
    }
}
