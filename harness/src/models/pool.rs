//! `pool`: a fixed-size thread pool with a job queue, where every op is a
//! job whose result comes back as a future: the ThreadPoolExecutor of the
//! books (`submit`, then await the future).
//!
//! The pool is written here rather than taken from a crate because each
//! job needs its pool thread's own pinned state (the worker's op and its
//! histogram), and the pool must hand that state back when it shuts down.
//! `futures::executor::ThreadPool` could only offer it through thread-locals
//! and cannot be joined. The parts are well-kept crates: the queue is a
//! crossbeam channel, the futures are `futures` oneshots. At most
//! `IN_FLIGHT_PER_WORKER * workers` jobs are queued at once, so memory stays
//! bounded however many ops a trial has, and the submitter collects
//! results half a window at a time, as a user's code collects a batch of
//! futures, so it sleeps once per batch rather than once per op. The
//! submitting thread is the caller's, as in the books; on a small machine
//! it competes with the pool for cores, which is part of what this model
//! costs.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Instant;

use futures::channel::oneshot;
use futures::executor::block_on;
use workloads::Workload;

use super::start::{join_workers, StartGate};
use super::worker_run::{merge_in_process, prepare_shared, ThreadClock, WorkerRun};
use super::{
    lockstep_refusal, ExecutionModel, Failure, Model, ModelInfo, OpBudget, TrialOutcome, TrialSpec,
};
use crate::os::machine::MachineSnapshot;
use crate::pacing::{lower_timer_slack, pace_until, OpenSchedule};
use crate::recorder::Recording;

/// Jobs queued per pool thread before the submitter waits for results
/// (for the older half of them, at once).
const IN_FLIGHT_PER_WORKER: usize = 64;

type Job = Box<dyn FnOnce(&mut WorkerRun) + Send>;

/// What the `pool` model is.
pub(super) const MODEL: Model = Model::new(&INFO);

const INFO: ModelInfo = ModelInfo::new(
    "pool",
    "a fixed thread pool with a job queue; every op is a job whose result comes back as a future",
    (230, 159, 0),
    || Box::new(Pool),
)
.costs("each op is a boxed job sent through the queue, and its result comes back through a future: about half a microsecond");

/// The `pool` model.
pub struct Pool;

impl ExecutionModel for Pool {
    fn model(&self) -> Model {
        MODEL
    }

    fn check_support(&self, workload: &dyn Workload, _workers: usize) -> Result<(), String> {
        if workload.requirements().lockstep {
            return Err(lockstep_refusal(
                MODEL,
                workload,
                "a pool runs independent jobs: two parts of one round can queue behind each other on one thread",
            ));
        }
        Ok(())
    }

    fn run_trial(&self, spec: &TrialSpec) -> Result<TrialOutcome, Failure> {
        let OpBudget::Shared { total } = spec.budget else {
            return Err(Failure::failed("pool runs shared op budgets only"));
        };
        let spawn_start = Instant::now();
        let shared = prepare_shared(spec, self.model())?;
        let workers = spec.workers;
        let gate = StartGate::default();
        let stop: &AtomicBool = &spec.stop;
        let (job_sender, job_receiver) = crossbeam_channel::unbounded::<Job>();
        let body = |index: usize| {
            // One job is one op, so every op is timed on its own.
            let mut run = WorkerRun::set_up_with(
                &shared,
                index,
                spec.core_of(index),
                Recording::PerOp,
                spec.open_rate_ops_s.is_some(),
            );
            run.open_counters();
            gate.arrive_and_wait();
            let clock = ThreadClock::start(run.counters.as_mut());
            // Ends when the submitter drops its sender, on every path.
            // Once the trial is stopped, queued jobs are dropped unrun
            // (their futures then say so).
            for job in job_receiver.iter() {
                if !stop.load(Ordering::Relaxed) {
                    job(&mut run);
                }
            }
            run.sched = clock.stop(run.tid, run.counters.as_mut());
            run
        };

        thread::scope(|scope| {
            // Owned by this closure, so it is dropped (ending the pool
            // threads' loops) before the scope joins them, even on error.
            let job_sender = job_sender;
            let started = gate.start(scope, MODEL, spec, spawn_start, &body)?;
            let (handles, spawn_ns, release) = (started.handles, started.spawn_ns, started.at);
            let before = started.before;
            // The submitter paces every op of the schedule.
            let schedule = spec.open_schedule(release, 0).map(OpenSchedule::whole);
            let submitter = ThreadClock::start(None);
            let first_error = submit_and_await(&job_sender, total, workers, schedule, stop);
            let end = Instant::now();
            let submitter_sched = submitter.stop(crate::os::threads::current_tid(), None);
            let machine = MachineSnapshot::take().since(&before);
            drop(job_sender);

            let runs = join_workers(handles)?;
            let mut outcome = merge_in_process(runs, release, machine, spawn_ns, &shared);
            outcome.submitter_sched = submitter_sched;
            // The executor's view: the trial ends when the submitter holds
            // the last result, not when a pool thread finished its last op.
            outcome.wall_ns = end.duration_since(release).as_nanos() as u64;
            if let (Some(e), None) = (first_error, outcome.first_error()) {
                return Err(e);
            }
            Ok(outcome)
        })
    }
}

/// Submits one job per op and awaits every future; stops submitting at the
/// first failed op. Returns the first error a future carried. Under open
/// load the submitter waits for each op's due time before submitting it.
fn submit_and_await(
    jobs: &crossbeam_channel::Sender<Job>,
    total_ops: u64,
    workers: usize,
    schedule: Option<OpenSchedule>,
    stop: &AtomicBool,
) -> Option<Failure> {
    if schedule.is_some() {
        lower_timer_slack();
    }
    let window = IN_FLIGHT_PER_WORKER * workers;
    let mut in_flight: VecDeque<oneshot::Receiver<Result<(), Failure>>> =
        VecDeque::with_capacity(window);
    let mut first_error: Option<Failure> = None;
    let settle = |future: oneshot::Receiver<Result<(), Failure>>,
                  first_error: &mut Option<Failure>| {
        let result = block_on(future)
            .unwrap_or_else(|_| Err(Failure::failed("a job was dropped before it ran")));
        if let (Err(e), None) = (result, first_error.as_ref()) {
            *first_error = Some(e);
        }
    };
    for op_index in 0..total_ops {
        if in_flight.len() >= window {
            // Settle the older half of the window in one go: wait for the
            // newest of them, then collect the rest, which the pool (one
            // FIFO queue) took before it and has nearly always finished.
            // The submitter then sleeps once per half window, not once per
            // op: a wake-up per op cost 7-9 us, as much as a small op.
            let older: Vec<_> = in_flight.drain(..window.div_ceil(2)).collect();
            let mut older = older.into_iter().rev();
            if let Some(newest) = older.next() {
                settle(newest, &mut first_error);
            }
            for future in older {
                settle(future, &mut first_error);
            }
        }
        if first_error.is_some() || stop.load(Ordering::Relaxed) {
            break;
        }
        let (result_sender, result) = oneshot::channel();
        let job: Job = match &schedule {
            Some(schedule) => {
                let due = schedule.due(op_index);
                let arrival = pace_until(due);
                let woke = arrival.early.then_some(arrival.start);
                Box::new(move |run: &mut WorkerRun| {
                    let _ = result_sender.send(run.run_one_open(op_index, due, woke));
                })
            }
            None => Box::new(move |run: &mut WorkerRun| {
                let _ = result_sender.send(run.run_one(op_index));
            }),
        };
        if jobs.send(job).is_err() {
            first_error.get_or_insert_with(|| Failure::failed("the pool shut down early"));
            break;
        }
        in_flight.push_back(result);
    }
    for future in in_flight {
        settle(future, &mut first_error);
    }
    first_error
}
