//! The worker lifecycle every in-process model shares: build the run's
//! shared state, set a worker up on its own thread (pinned, its op built,
//! panics caught), run its ops, and merge the workers' results into one
//! [`TrialOutcome`].

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use workloads::{RunShape, SharedRun, WorkerOp, Workload, WorkloadError};

use super::trial::{OpBudget, OpenOutcome, TrialOutcome, TrialSpec, WorkerOutcome};
use super::Model;
use crate::failure::Failure;
use crate::os::machine::MachineDelta;
use crate::os::perf::{SoftwareCounts, ThreadCounters};
use crate::os::schedstat::{SchedStat, ThreadSched};
use crate::os::threads::current_tid;
use crate::placement::{place_current_thread, Placed};
use crate::recorder::op_loop::run_ops;
use crate::recorder::schedule::OpSource;
use crate::recorder::{flatten_op_result, new_histogram, panic_message, Recording, WorkerRecorder};

/// Builds the shared state for a trial, catching panics.
pub(crate) fn prepare_shared(
    spec: &TrialSpec,
    model: Model,
) -> Result<Arc<dyn SharedRun>, Failure> {
    prepare_shared_for(spec.workload.as_ref(), spec.shape(model))
}

/// Builds a workload's shared state for `shape`, catching panics.
pub(crate) fn prepare_shared_for(
    workload: &dyn Workload,
    shape: RunShape,
) -> Result<Arc<dyn SharedRun>, Failure> {
    match catch_unwind(AssertUnwindSafe(|| workload.prepare(shape))) {
        Ok(Ok(shared)) => Ok(shared),
        // The workload cannot run at this worker count: a finding, like a
        // model's refusal, not a failure.
        Ok(Err(e @ WorkloadError::Shape { .. })) => Err(Failure::unsupported(e.to_string())),
        Ok(Err(e)) => Err(Failure::failed(format!("set-up failed: {e}"))),
        Err(p) => Err(Failure::failed(format!(
            "set-up panicked: {}",
            panic_message(p.as_ref())
        ))),
    }
}

/// A worker after set-up: placed, with its op and recorder, ready to run.
pub(crate) struct WorkerRun {
    pub index: usize,
    /// The thread it was set up on.
    pub tid: u32,
    pub placed: Placed,
    pub op: Option<Box<dyn WorkerOp>>,
    pub recorder: WorkerRecorder,
    pub error: Option<Failure>,
    /// Its thread's scheduler counters over [`WorkerRun::run`], when the
    /// worker measured itself.
    pub sched: Option<ThreadSched>,
    /// Its thread's perf counters, for a worker that measures itself (see
    /// [`WorkerRun::open_counters`]).
    pub counters: Option<ThreadCounters>,
}

impl WorkerRun {
    /// Pins the calling thread to `core`, reads its affinity back, and
    /// builds worker `index`'s op on it. Failures are kept, not thrown, so
    /// the worker still reaches the start barrier and nobody waits forever.
    pub fn set_up(
        shared: &Arc<dyn SharedRun>,
        index: usize,
        core: Option<usize>,
        recording: Recording,
    ) -> Self {
        Self::set_up_with(shared, index, core, recording, false)
    }

    /// Opens the calling thread's perf counters, which [`WorkerRun::run`]
    /// then reads at both edges of the timed region. Called before the
    /// release by models whose workers measure themselves (threads, pool,
    /// seq, process children): opening and closing them costs about
    /// 0.1 ms each here (the first open in a process 8–11 ms), which must
    /// stay outside the window. rayon and tokio threads are read by the
    /// driver instead, so their workers open none.
    pub fn open_counters(&mut self) {
        self.counters = ThreadCounters::open(None).ok();
    }

    /// [`WorkerRun::set_up`], with the open-loop histograms when `open`.
    pub fn set_up_with(
        shared: &Arc<dyn SharedRun>,
        index: usize,
        core: Option<usize>,
        recording: Recording,
        open: bool,
    ) -> Self {
        crate::wall::register_current_thread(&format!("worker{index}"));
        let mut run = WorkerRun {
            index,
            tid: current_tid(),
            placed: Placed::default(),
            op: None,
            recorder: WorkerRecorder::new(recording),
            error: None,
            sched: None,
            counters: None,
        };
        if open {
            run.recorder.enable_open();
        }
        match place_current_thread(core) {
            Ok(placed) => run.placed = placed,
            Err(e) => {
                run.error = Some(Failure::failed(e));
                return run;
            }
        }
        let shared = Arc::clone(shared);
        match catch_unwind(AssertUnwindSafe(move || shared.worker(index))) {
            Ok(Ok(op)) => run.op = Some(op),
            Ok(Err(e)) => run.error = Some(Failure::failed(format!("set-up failed: {e}"))),
            Err(p) => {
                run.error = Some(Failure::failed(format!(
                    "set-up panicked: {}",
                    panic_message(p.as_ref())
                )))
            }
        }
        run
    }

    /// Runs ops from `source` on this worker; a failure is kept in `error`
    /// and raises `stop`. A worker whose set-up failed runs nothing.
    /// Its thread's scheduler counters are read before and after (outside
    /// the op loop) into `sched`.
    pub fn run(&mut self, source: OpSource<'_>, stop: &AtomicBool) {
        let clock = ThreadClock::start(self.counters.as_mut());
        let WorkerRun {
            op,
            recorder,
            error,
            ..
        } = self;
        match op {
            Some(op) if error.is_none() => {
                if let Err(e) = run_ops(op.as_mut(), recorder, source, stop) {
                    *error = Some(e);
                }
            }
            _ => stop.store(true, Ordering::Relaxed),
        }
        self.sched = clock.stop(self.tid, self.counters.as_mut());
    }

    /// Runs one op (the pool's job), keeping the first error.
    pub fn run_one(&mut self, op_index: u64) -> Result<(), Failure> {
        self.with_op(|op, recorder| recorder.time_op(op, op_index))
    }

    /// Runs one open-loop op (the pool's job): due at `due`, submitted by
    /// a pacer that woke at `woke` (`None`: it was late).
    pub fn run_one_open(
        &mut self,
        op_index: u64,
        due: Instant,
        woke: Option<Instant>,
    ) -> Result<(), Failure> {
        self.with_op(|op, recorder| {
            op.note_due(due);
            let started = Instant::now();
            let result = catch_unwind(AssertUnwindSafe(|| op.run_op(op_index)));
            let end = Instant::now();
            let result = flatten_op_result(result);
            recorder.finish_open_op(op_index, due, started, woke, end, result)
        })
    }

    /// Runs `f` on the op and recorder of a worker that is set up and has
    /// not failed, keeping the first error.
    fn with_op(
        &mut self,
        f: impl FnOnce(&mut dyn WorkerOp, &mut WorkerRecorder) -> Result<(), Failure>,
    ) -> Result<(), Failure> {
        let WorkerRun {
            op,
            recorder,
            error,
            ..
        } = self;
        let result = match op {
            Some(op) if error.is_none() => f(op.as_mut(), recorder),
            _ => Err(error
                .clone()
                .unwrap_or_else(|| Failure::failed("worker has no op"))),
        };
        if let (Err(e), None) = (&result, &error) {
            *error = Some(e.clone());
        }
        result
    }

    /// The outcome, with wall time measured from `release`.
    pub fn outcome(&self, release: Instant) -> WorkerOutcome {
        WorkerOutcome {
            index: self.index,
            pid: std::process::id(),
            tid: self.tid,
            placed: self.placed.clone(),
            ops: self.recorder.ops,
            wall_ns: self.recorder.last_op_end.map_or(0, |end| {
                end.saturating_duration_since(release).as_nanos() as u64
            }),
            error: self.error.clone(),
        }
    }
}

/// Merges in-process workers into a trial outcome. Wall time runs from
/// `release` to the last op's end across workers.
pub(crate) fn merge_in_process(
    mut runs: Vec<WorkerRun>,
    release: Instant,
    machine: MachineDelta,
    spawn_ns: u64,
    shared: &Arc<dyn SharedRun>,
) -> TrialOutcome {
    let cpu = machine.own;
    runs.sort_by_key(|r| r.index);
    let mut histogram = new_histogram();
    for run in &runs {
        histogram
            .add(&run.recorder.histogram)
            .expect("histograms share bounds");
    }
    let workers: Vec<WorkerOutcome> = runs.iter().map(|r| r.outcome(release)).collect();
    let mut outcome = TrialOutcome::new(workers, histogram, cpu, spawn_ns, shared.counters());
    outcome.workload_histograms = shared.histograms();
    outcome.recording = runs.first().map_or(Recording::PerOp, |r| r.recorder.mode);
    for open in runs.iter().filter_map(|r| r.recorder.open.as_ref()) {
        outcome.open.get_or_insert_with(OpenOutcome::new).add(open);
    }
    outcome.machine = Some(machine);
    outcome.sched = runs.iter().filter_map(|r| r.sched).collect();
    outcome
}

/// A thread's own scheduler counters from a start to a stop, read by the
/// thread itself (outside any op loop).
pub(crate) struct ThreadClock(Option<(SchedStat, Instant)>, Option<SoftwareCounts>);

impl ThreadClock {
    /// Reads the calling thread's counters now, and its open perf
    /// `counters` if it has them.
    pub fn start(counters: Option<&mut ThreadCounters>) -> Self {
        crate::wall::set_window_of_current(true);
        let counts = counters.and_then(|c| c.read().ok());
        let start = SchedStat::of_this_thread().map(|s| (s, Instant::now()));
        ThreadClock(start, counts)
    }

    /// The calling thread's counters since the start.
    pub fn stop(self, tid: u32, counters: Option<&mut ThreadCounters>) -> Option<ThreadSched> {
        crate::wall::set_window(tid, false);
        let ThreadClock(start, counts_before) = self;
        let (start, at) = start?;
        let counts = counters
            .and_then(|c| c.read().ok())
            .zip(counts_before)
            .map(|(now, before)| now.since(before));
        let now = SchedStat::of_this_thread()?;
        Some(ThreadSched {
            tid,
            sched: now.since(start),
            wall_ns: at.elapsed().as_nanos() as u64,
            counts,
            mostly_on_cpu: None,
        })
    }
}

/// The op source of worker `index` for models that hand out ops themselves
/// in a static split: contiguous equal shares of a shared budget.
pub(crate) fn static_share(budget: OpBudget, workers: usize, index: usize) -> (u64, u64) {
    match budget {
        OpBudget::PerWorker { ops } => (0, ops),
        OpBudget::Shared { total } => {
            let n = workers as u64;
            let i = index as u64;
            let start = total * i / n;
            (start, total * (i + 1) / n - start)
        }
    }
}
