//! Supervised trials: every trial runs on a fresh thread with a time
//! limit, so a hanging trial is recorded as `timeout` and a panicking one
//! as `failed`, and the run goes on. What a trial left behind must not
//! touch the next one:
//!
//! - a trial past its limit is abandoned: its stop flag is raised, so its
//!   workers stop between ops, and its threads are remembered;
//! - before the next trial starts, the supervisor waits (up to
//!   [`SETTLE_LIMIT`]) until none of those threads is on a CPU (state `R`
//!   in `/proc/self/task/TID/stat`). A thread parked forever in a blocking
//!   call costs nothing and does not hold the run up;
//! - a thread still on a CPU after the wait is named on stderr, and every
//!   later record carries a note that the run was not clean.
//!
//! A SIGINT or SIGTERM stops the trial under way the same way (its stop
//! flag), and the supervisor gives it a moment to end and clean up.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use crate::failure::Failure;
use crate::models::{ExecutionModel, TrialOutcome, TrialSpec};
use crate::os::core_sampler::{CoreSampler, MostlyOnCore};
use crate::os::threads::{current_tid, thread_ids, thread_state, ThreadState};

/// Extra time the supervisor gives a model to report its own time-out.
const GRACE: Duration = Duration::from_secs(2);
/// How long the next trial waits for an abandoned trial's threads to
/// leave the CPU.
pub const SETTLE_LIMIT: Duration = Duration::from_secs(5);
/// How long an interrupted trial may take to stop and clean up.
const STOP_LIMIT: Duration = Duration::from_secs(5);
/// How often a waiting supervisor looks for a signal.
const POLL: Duration = Duration::from_millis(20);

/// Runs trials one at a time and keeps track of what abandoned ones left.
#[derive(Default)]
pub struct Supervisor {
    /// Threads of abandoned trials that have not ended yet.
    abandoned: Vec<u32>,
    /// Set once a thread of an abandoned trial was still on a CPU when a
    /// later trial started: the note every later record carries.
    unclean: Option<String>,
}

impl Supervisor {
    /// A supervisor with nothing abandoned.
    pub fn new() -> Self {
        Self::default()
    }

    /// The note later records carry when the run was not clean.
    pub fn unclean_note(&self) -> Option<&str> {
        self.unclean.as_deref()
    }

    /// Runs one trial of `model` and waits at most `timeout` (plus a grace
    /// period for the model's own time-out handling); first waits for any
    /// abandoned thread to leave the CPU.
    pub fn run(
        &mut self,
        model: &Arc<dyn ExecutionModel>,
        spec: TrialSpec,
        timeout: Duration,
    ) -> Result<TrialOutcome, Failure> {
        self.settle();
        let stop = Arc::clone(&spec.stop);
        let before = thread_ids();
        let (sender, receiver) = mpsc::channel();
        let model = Arc::clone(model);
        let spawned = thread::Builder::new()
            .name("corebench-trial".to_string())
            .spawn(move || {
                let result = catch_unwind(AssertUnwindSafe(|| model.run_trial(&spec)));
                let _ = sender.send(result);
            });
        if let Err(e) = spawned {
            return Err(Failure::failed(format!(
                "could not start the trial thread: {e}"
            )));
        }
        let give_up = Instant::now() + timeout + GRACE;
        let mut stopping_since: Option<Instant> = None;
        let cores = CoreSampler::start();
        loop {
            match receiver.recv_timeout(POLL) {
                Ok(Ok(result)) => return result.map(|outcome| with_cores(outcome, cores.finish())),
                Ok(Err(panic)) => {
                    return Err(Failure::failed(format!(
                        "the model panicked: {}",
                        crate::recorder::panic_message(panic.as_ref())
                    )))
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(Failure::failed("the trial thread ended without a result"))
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            let now = Instant::now();
            if crate::interrupt::requested().is_some() {
                stop.store(true, Ordering::Relaxed);
                let since = *stopping_since.get_or_insert(now);
                if now.duration_since(since) < STOP_LIMIT {
                    continue;
                }
            } else if now < give_up {
                continue;
            }
            // Abandoned: its workers stop between ops; its threads are
            // watched until they leave the CPU.
            stop.store(true, Ordering::Relaxed);
            let me = current_tid();
            self.abandoned.extend(
                thread_ids()
                    .into_iter()
                    .filter(|tid| *tid != me && !before.contains(tid)),
            );
            return Err(Failure::timeout(format!(
                "no result after {:.0} s; the trial's threads were told to stop and abandoned",
                timeout.as_secs_f64()
            )));
        }
    }

    /// Waits up to [`SETTLE_LIMIT`] until no thread of an abandoned trial
    /// is on a CPU. Threads still running then are named on stderr and
    /// make the run unclean.
    pub fn settle(&mut self) {
        if self.abandoned.is_empty() {
            return;
        }
        let give_up = Instant::now() + SETTLE_LIMIT;
        loop {
            self.abandoned.retain(|tid| thread_state(*tid).is_some());
            let running: Vec<ThreadState> = self
                .abandoned
                .iter()
                .filter_map(|tid| thread_state(*tid))
                .filter(ThreadState::is_running)
                .collect();
            if running.is_empty() {
                return;
            }
            if Instant::now() >= give_up {
                let names: Vec<String> = running
                    .iter()
                    .map(|t| format!("{} (tid {})", t.name, t.tid))
                    .collect();
                let note = format!(
                    "not clean: threads of an abandoned trial were still on a CPU when a later trial started: {}",
                    names.join(", ")
                );
                eprintln!("corebench: warning: {note}; later trials may measure less than the machine can do");
                self.unclean.get_or_insert(note);
                // Named once; later trials do not wait for them again.
                self.abandoned
                    .retain(|tid| !running.iter().any(|t| t.tid == *tid));
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Adds where each measured thread mostly ran. A thread the sampler never
/// saw (a trial shorter than its interval) has one sample all the same:
/// the core it was on when its counters were read at the region's end.
fn with_cores(mut outcome: TrialOutcome, cores: MostlyOnCore) -> TrialOutcome {
    for thread in outcome
        .sched
        .iter_mut()
        .chain(outcome.submitter_sched.as_mut())
    {
        thread.mostly_on_cpu = thread
            .mostly_on_cpu
            .or_else(|| cores.of(thread.tid))
            .or(thread.sched.last_cpu);
    }
    outcome
}
