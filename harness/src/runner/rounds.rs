//! The round loop every measured trial goes through: the cells of a
//! section (the runner's own cells, or the programs `corebench exec`
//! runs) run trial 1 of every cell, then trial 2, and so on, in an order
//! shuffled anew each round with a recorded seed, so a burst of outside
//! load spreads over every cell instead of landing on one. Each round
//! shares one machine window (see [`RoundWindow`]) for trials too short to
//! be judged alone.

use indicatif::{ProgressBar, ProgressStyle};
use reports::schema::Record;

use crate::disturbance::RoundWindow;
use crate::supervisor::Supervisor;

/// A cell as the round loop drives it.
pub trait TrialSource {
    /// A label for progress and errors.
    fn label(&self) -> String;

    /// Whether it has trials left.
    fn wants_more(&self) -> bool;

    /// Trials it will not run after all (it stopped early).
    fn skipped(&self) -> u32;

    /// Runs its next trial in round `round` and returns its record, built
    /// once; `None` when the run was interrupted.
    fn next_trial(
        &mut self,
        round: u32,
        supervisor: &mut Supervisor,
        window: &mut RoundWindow,
    ) -> Option<Record>;
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
/// finished trial). Round `r`'s order is shuffled with `seed_of_round(r)`.
pub fn run_rounds<S: TrialSource>(
    sources: &mut [S],
    seed_of_round: impl Fn(u32) -> u64,
    supervisor: &mut Supervisor,
    progress: &ProgressBar,
    mut emit: impl FnMut(Record, &str) -> anyhow::Result<()>,
) -> anyhow::Result<Rounds> {
    let mut window = RoundWindow::default();
    for round in 0.. {
        let mut order: Vec<usize> = (0..sources.len())
            .filter(|&i| sources[i].wants_more())
            .collect();
        if order.is_empty() {
            break;
        }
        fastrand::Rng::with_seed(seed_of_round(round)).shuffle(&mut order);
        window.reset();
        for index in order {
            let source = &mut sources[index];
            let label = source.label();
            progress.set_message(label.clone());
            let Some(record) = source.next_trial(round, supervisor, &mut window) else {
                return Ok(Rounds::Interrupted);
            };
            emit(record, &label)?;
            progress.inc(1);
            if !source.wants_more() {
                progress.inc(u64::from(source.skipped()));
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
