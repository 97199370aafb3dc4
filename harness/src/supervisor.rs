//! Supervised trials: every trial runs on a fresh thread with a time
//! limit, so a hanging trial is recorded as `timeout` and a panicking one
//! as `failed`, and the run goes on. What a trial left behind must not
//! touch the next one:
//!
//! - a trial past its limit is abandoned: its stop flag is raised, so its
//!   workers stop between ops, and its threads are remembered and moved to
//!   the idle scheduling class ([`demote`]): an op that computes forever
//!   then gets only CPU time no measured thread wants;
//! - before the next trial starts, the supervisor waits (as long as the
//!   abandoned trial's own limit, at most [`SETTLE_LIMIT`]) until none of
//!   those threads is on a CPU (state `R` in `/proc/self/task/TID/stat`).
//!   A thread parked forever in a blocking call costs nothing and does not
//!   hold the run up;
//! - every thread still on a CPU after the wait is named on stderr, and
//!   every later record carries a note naming them all;
//! - a workload whose op never returned (its threads outlived the wait) is
//!   not run again in this run: each of its later trials would leave more
//!   threads behind, so they are recorded as `timeout` with the reason;
//! - a worker whose allocation failed is parked where it failed (see
//!   [`crate::oom`]) and its trial fails with the size it asked for,
//!   instead of the whole process aborting.
//!
//! A SIGINT or SIGTERM stops the trial under way the same way (its stop
//! flag), and the supervisor gives it a moment to end and clean up.

use std::collections::{BTreeMap, HashMap};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use crate::failure::Failure;
use crate::models::{ExecutionModel, TrialOutcome, TrialSpec};
use crate::os::core_sampler::{CoreSampler, MostlyOnCore};
use crate::os::threads::{current_tid, demote, on_cpu_ns, thread_ids, thread_state, ThreadState};

/// Extra time the supervisor gives a model to report its own time-out.
const GRACE: Duration = Duration::from_secs(2);
/// The longest the next trial waits for an abandoned trial's threads to
/// leave the CPU. A trial with a shorter limit gets as long as its limit:
/// whoever gives trials one second should not wait five more for each
/// one that computes forever.
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
    /// By workload spec: the threads its abandoned trial left, and where
    /// (model and workers), while they live.
    left_by: HashMap<String, LeftBehind>,
    /// Every thread found still on a CPU when a later trial started, by
    /// tid: what the note every later record carries names.
    still_running: BTreeMap<u32, String>,
    /// How long [`Supervisor::settle`] waits for `abandoned`: the longest
    /// limit of the trials that left them, at most [`SETTLE_LIMIT`].
    settle_within: Duration,
}

/// What [`Supervisor::supervise`] runs, for its limits and messages.
pub struct Supervised {
    /// The name of the thread it runs on.
    pub thread_name: &'static str,
    /// The workload spec it runs ops of.
    pub workload: String,
    /// Where, in words ("threads at 2 worker(s)").
    pub under: String,
    /// Its time limit (a grace period is added).
    pub timeout: Duration,
    /// Raised to tell it to stop.
    pub stop: Arc<std::sync::atomic::AtomicBool>,
}

/// The threads an abandoned trial of one workload left.
struct LeftBehind {
    tids: Vec<u32>,
    under: String,
}

impl Supervisor {
    /// A supervisor with nothing abandoned. Failed allocations on other
    /// threads than this one are contained from now on (see
    /// [`crate::oom`]).
    pub fn new() -> Self {
        crate::oom::contain_from_this_thread();
        Self::default()
    }

    /// The note later records carry when the run was not clean.
    pub fn unclean_note(&self) -> Option<String> {
        if self.still_running.is_empty() {
            return None;
        }
        let names: Vec<&str> = self.still_running.values().map(String::as_str).collect();
        Some(format!(
            "not clean: threads of abandoned trials were still on a CPU when a later trial started: {}; they were moved to the idle scheduling class, so they only use CPU time no measured thread wants",
            names.join(", ")
        ))
    }

    /// Why a trial of `workload` is not run: an earlier one never returned
    /// and its threads are still there.
    fn left_behind(&mut self, workload: &str) -> Option<Failure> {
        let left = self.left_by.get_mut(workload)?;
        left.tids.retain(|tid| thread_state(*tid).is_some());
        if left.tids.is_empty() {
            self.left_by.remove(workload);
            return None;
        }
        Some(Failure::timeout(format!(
            "not run: its op never returned under {}, and the {} thread(s) that trial left are still there; each further trial would leave more",
            left.under,
            left.tids.len()
        )))
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
        let stop = Arc::clone(&spec.stop);
        let workload = spec.workload.spec();
        let under = format!("{} at {} worker(s)", model.model().name(), spec.workers);
        let model = Arc::clone(model);
        // The process's CPU time counts every thread, and an abandoned one
        // that still computes is not the trial's. Settled first, so the
        // threads it names are counted before the trial as well as after.
        self.settle();
        let left_before = self.left_cpu_ns();
        let cores = CoreSampler::start();
        let work = Supervised {
            thread_name: "corebench-trial",
            workload,
            under,
            timeout,
            stop,
        };
        let mut outcome = self.supervise(work, move || model.run_trial(&spec))?;
        // Its time is user time (it computes); what is left comes off sys.
        let mut left_ns = self.left_cpu_ns().saturating_sub(left_before);
        let from_user = left_ns.min(outcome.cpu.user_ns);
        outcome.cpu.user_ns -= from_user;
        left_ns -= from_user;
        outcome.cpu.sys_ns = outcome.cpu.sys_ns.saturating_sub(left_ns);
        Ok(with_cores(outcome, cores.finish()))
    }

    /// The on-CPU time so far of the abandoned threads named as still on
    /// a CPU, summed, ns (a thread that exits stops counting, which can
    /// only make the trial's own time read higher, never lower).
    fn left_cpu_ns(&self) -> u64 {
        self.still_running
            .keys()
            .filter_map(|tid| on_cpu_ns(*tid))
            .sum()
    }

    /// Runs `work` on a thread of its own as [`Supervisor::run`] runs a
    /// trial: after [`Supervisor::settle`], refused when its workload left
    /// threads behind, and abandoned past its time limit, on a failed
    /// allocation or when the run is interrupted.
    pub fn supervise<T: Send + 'static>(
        &mut self,
        what: Supervised,
        work: impl FnOnce() -> Result<T, Failure> + Send + 'static,
    ) -> Result<T, Failure> {
        self.settle();
        if let Some(failure) = self.left_behind(&what.workload) {
            return Err(failure);
        }
        let stop = what.stop;
        let before = thread_ids();
        let (sender, receiver) = mpsc::channel();
        let spawned = thread::Builder::new()
            .name(what.thread_name.to_string())
            .spawn(move || {
                let result = catch_unwind(AssertUnwindSafe(work));
                let _ = sender.send(result);
            });
        if let Err(e) = spawned {
            return Err(Failure::failed(format!(
                "could not start the trial thread: {e}"
            )));
        }
        let give_up = Instant::now() + what.timeout + GRACE;
        let mut stopping_since: Option<Instant> = None;
        loop {
            match receiver.recv_timeout(POLL) {
                Ok(Ok(result)) => return result,
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
            if let Some(parked) = crate::oom::take_parked() {
                stop.store(true, Ordering::Relaxed);
                self.abandon(&before, what.timeout, None);
                let name = thread_state(parked.tid).map_or_else(String::new, |t| t.name);
                return Err(Failure::failed(format!(
                    "out of memory: an allocation of {} bytes failed in thread {name} (tid {}); that thread was stopped where it failed, and the trial's threads abandoned",
                    parked.bytes, parked.tid
                )));
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
            self.abandon(&before, what.timeout, Some((what.workload, what.under)));
            return Err(Failure::timeout(format!(
                "no result after {:.0} s; the trial's threads were told to stop and abandoned",
                what.timeout.as_secs_f64()
            )));
        }
    }

    /// Remembers the threads started since `before` (the trial's, whose
    /// limit was `timeout`) and moves them to the idle class; with the
    /// workload and where it ran when its op never returned.
    fn abandon(
        &mut self,
        before: &[u32],
        timeout: Duration,
        never_returned: Option<(String, String)>,
    ) {
        let me = current_tid();
        let tids: Vec<u32> = thread_ids()
            .into_iter()
            .filter(|tid| *tid != me && !before.contains(tid))
            .collect();
        for tid in &tids {
            demote(*tid);
        }
        self.abandoned.extend(&tids);
        self.settle_within = self.settle_within.max(timeout.min(SETTLE_LIMIT));
        if let Some((workload, under)) = never_returned {
            self.left_by
                .entry(workload)
                .or_insert(LeftBehind {
                    tids: Vec::new(),
                    under,
                })
                .tids
                .extend(tids);
        }
    }

    /// Waits until no thread of an abandoned trial is on a CPU, as long as
    /// that trial's limit and at most [`SETTLE_LIMIT`]. Threads still
    /// running then are named on stderr and make the run unclean.
    pub fn settle(&mut self) {
        if self.abandoned.is_empty() {
            self.settle_within = Duration::ZERO;
            return;
        }
        let give_up = Instant::now() + self.settle_within;
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
                eprintln!(
                    "corebench: warning: not clean: {} thread(s) of an abandoned trial were still on a CPU when a later trial started: {}; they now run in the idle scheduling class, and later trials may still measure a little less than the machine can do",
                    names.len(),
                    names.join(", ")
                );
                for (thread, name) in running.iter().zip(names) {
                    self.still_running.insert(thread.tid, name);
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn a_trial_that_computes_forever_holds_the_next_one_up_as_long_as_its_own_limit() {
        // One spinner, released at the end: never as many as the cores.
        static RELEASE: AtomicBool = AtomicBool::new(false);
        let mut supervisor = Supervisor::new();
        let limit = Duration::from_millis(200);
        let spun = supervisor.supervise(
            Supervised {
                thread_name: "test-spinner",
                workload: "test/spin".to_string(),
                under: "a test".to_string(),
                timeout: limit,
                stop: Arc::default(),
            },
            || {
                while !RELEASE.load(Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
                Ok(())
            },
        );
        assert!(spun.is_err(), "the spinner is abandoned");
        let started = Instant::now();
        supervisor.settle();
        let waited = started.elapsed();
        let named = supervisor.unclean_note();
        RELEASE.store(true, Ordering::Relaxed);
        assert!(named.is_some_and(|n| n.contains("test-spinner")));
        assert!(waited >= limit, "waited {waited:?}");
        // Not the wait a trial with a long limit gets.
        assert!(waited < SETTLE_LIMIT, "waited {waited:?}");
    }
}
