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

use super::retries::{Retries, Room};
use crate::supervisor::Supervisor;

/// How one attempt at a trial ended.
#[derive(Debug)]
pub enum TrialEnd {
    /// The trial's record, final.
    Kept(Box<Record>),
    /// Disturbed, and the cell's policy runs it again: the loop puts the
    /// cell back at the end of the round. The cell holds the attempt, to
    /// keep it after all if the retries' budget runs out
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

    /// Runs its next trial in round `round` (or runs a disturbed one
    /// again) and says how it ended; `None` when the run was interrupted.
    /// `room` says whether a disturbed attempt may run again
    /// ([`Room::retries`]); where not, it is kept, marked.
    fn next_trial(
        &mut self,
        round: u32,
        supervisor: &mut Supervisor,
        room: Room,
    ) -> Option<TrialEnd>;

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
        let mut queue: VecDeque<(usize, bool)> = order.into_iter().map(|i| (i, false)).collect();
        while let Some((index, again)) = queue.pop_front() {
            let source = &mut sources[index];
            let label = source.label();
            let mut kept = |record: Record, source: &mut S| -> anyhow::Result<()> {
                emit(record, &label)?;
                progress.inc(1);
                if !source.wants_more() {
                    progress.inc(u64::from(source.skipped()));
                }
                Ok(())
            };
            if again {
                progress.set_message(format!("{label} · disturbed: waiting for a quiet moment"));
            }
            if !retries.before_attempt(again, source.clean_so_far()) {
                if let Some(record) = source.keep_disturbed() {
                    kept(record, source)?;
                }
                continue;
            }
            progress.set_message(if again {
                format!("{label} · again (disturbed)")
            } else {
                label.clone()
            });
            let started = Instant::now();
            let Some(end) = source.next_trial(round, supervisor, retries.room()) else {
                return Ok(Rounds::Interrupted);
            };
            let disturbed = match &end {
                TrialEnd::Disturbed => true,
                TrialEnd::Kept(record) => record.machine.as_ref().is_some_and(|m| m.disturbed),
            };
            retries.after_attempt(again, started.elapsed(), disturbed);
            match end {
                TrialEnd::Kept(record) => kept(*record, source)?,
                TrialEnd::Disturbed => queue.push_back((index, true)),
            }
        }
    }
    Ok(Rounds::Done)
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
        fn next_trial(&mut self, round: u32, _: &mut Supervisor, room: Room) -> Option<TrialEnd> {
            self.log.borrow_mut().push(format!("{}{round}", self.name));
            let disturbed = !self.disturbed.is_empty() && self.disturbed.remove(0);
            if disturbed && room.retries(0) {
                return Some(TrialEnd::Disturbed);
            }
            self.done += 1;
            let mut parts = TrialParts::failed(
                crate::failure::Failure::failed("scripted"),
                Default::default(),
            );
            parts.machine = Some(MachineView {
                disturbed,
                ..MachineView::default()
            });
            Some(TrialEnd::Kept(Box::new(context().record(parts))))
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
}
