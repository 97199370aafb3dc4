//! Execution models: how workers are created, placed and driven.
//!
//! Every model implements [`ExecutionModel`] in its own file. The runner
//! hands a model a [`TrialSpec`] (the workload, worker count, op budget and
//! the core of every placeable unit) and gets back a [`TrialOutcome`]
//! (wall and CPU time, the merged histogram, every worker's part) or a
//! [`TrialError`]. Every model follows the measurement rules of DESIGN.md:
//! workers are created and set up (pinned, per-worker state built) before
//! timing starts and released together; each records into its own
//! histogram; waiting is blocking, never spinning.
//!
//! The helpers here are the parts models share: preparing shared state and
//! setting up a worker with panics caught, and merging workers' results.

mod pool;
pub mod process;
mod rayon_model;
mod seq;
mod threads;
mod tokio_current;
mod tokio_driver;
mod tokio_multi;

use std::collections::BTreeMap;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use hdrhistogram::Histogram;
use reports::schema::{Status, ThreadRecord};
use workloads::{IoEnv, RunShape, Scaling, SharedRun, WorkerOp, Workload};

use crate::error::UsageError;
use crate::pacing::OpenSchedule;
use crate::placement::{place_current_thread, Placed};
use crate::recorder::{
    new_histogram, panic_message, run_ops, CpuTime, OpSource, Recording, WorkerRecorder,
};

/// The execution models, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ModelKind {
    /// The calling thread, no machinery: the true T(1).
    Seq,
    /// Scoped OS threads released by one barrier, dynamic op batches.
    Threads,
    /// A fixed thread pool with a job queue; each op a job with a future.
    Pool,
    /// A rayon pool per run, pinned from `start_handler`.
    Rayon,
    /// One child process per worker, re-executing `corebench worker`.
    Process,
    /// tokio's multi-thread runtime; workers are tasks.
    Tokio,
    /// tokio's current-thread runtime: concurrency without parallelism.
    TokioCurrent,
}

impl ModelKind {
    /// Every model, in the order reports list them.
    pub const ALL: [ModelKind; 7] = [
        ModelKind::Seq,
        ModelKind::Threads,
        ModelKind::Pool,
        ModelKind::Rayon,
        ModelKind::Process,
        ModelKind::Tokio,
        ModelKind::TokioCurrent,
    ];

    /// The name used on the command line and in records.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Seq => "seq",
            ModelKind::Threads => "threads",
            ModelKind::Pool => "pool",
            ModelKind::Rayon => "rayon",
            ModelKind::Process => "process",
            ModelKind::Tokio => "tokio",
            ModelKind::TokioCurrent => "tokio-current",
        }
    }

    /// One line for `corebench list`.
    pub fn summary(self) -> &'static str {
        match self {
            ModelKind::Seq => "the calling thread, no machinery: the true T(1); one worker only",
            ModelKind::Threads => "OS threads created before timing, released by one barrier; ops claimed in batches from a shared counter",
            ModelKind::Pool => "a fixed thread pool with a job queue; every op is a job whose result comes back as a future",
            ModelKind::Rayon => "a rayon pool per run (pinned in start_handler); op batches spread by work stealing",
            ModelKind::Process => "one child process per worker (corebench worker), released together; static split of ops",
            ModelKind::Tokio => "tokio multi-thread runtime; workers are tasks on min(workers, cores) threads unless --runtime-threads",
            ModelKind::TokioCurrent => "tokio current-thread runtime; workers are tasks on one thread: concurrency without parallelism",
        }
    }

    /// Whether "workers" are tasks on runtime threads that are placed
    /// separately (the async models).
    pub fn is_async(self) -> bool {
        matches!(self, ModelKind::Tokio | ModelKind::TokioCurrent)
    }

    /// The model's implementation.
    pub fn model(self) -> Box<dyn ExecutionModel> {
        match self {
            ModelKind::Seq => Box::new(seq::Seq),
            ModelKind::Threads => Box::new(threads::Threads),
            ModelKind::Pool => Box::new(pool::Pool),
            ModelKind::Rayon => Box::new(rayon_model::Rayon),
            ModelKind::Process => Box::new(process::Process),
            ModelKind::Tokio => Box::new(tokio_multi::TokioMulti),
            ModelKind::TokioCurrent => Box::new(tokio_current::TokioCurrent),
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ModelKind {
    type Err = UsageError;
    fn from_str(text: &str) -> Result<Self, UsageError> {
        ModelKind::ALL
            .into_iter()
            .find(|m| m.name() == text.trim())
            .ok_or_else(|| {
                let valid: Vec<&str> = ModelKind::ALL.iter().map(|m| m.name()).collect();
                UsageError::new(format!(
                    "unknown model '{text}'; valid models: {}, all",
                    valid.join(", ")
                ))
            })
    }
}

/// How many ops a trial runs, and how they are handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpBudget {
    /// `total` ops with indices `0..total`, handed out by the model's own
    /// scheduler (dynamic batches, jobs, or a static split).
    Shared {
        /// Ops in the trial.
        total: u64,
    },
    /// Every worker runs exactly `ops` ops, indices `0..ops` (lockstep
    /// workloads: one op is a worker's part in one round).
    PerWorker {
        /// Ops per worker.
        ops: u64,
    },
}

impl OpBudget {
    /// Ops in the whole trial.
    pub fn total(self, workers: usize) -> u64 {
        match self {
            OpBudget::Shared { total } => total,
            OpBudget::PerWorker { ops } => ops * workers as u64,
        }
    }
}

/// Everything a model needs to run one trial.
#[derive(Clone)]
pub struct TrialSpec {
    /// What to run.
    pub workload: Arc<dyn Workload>,
    /// Concurrent workers (tasks, for the async models).
    pub workers: usize,
    /// Strong or weak; passed on to the workload.
    pub scaling: Scaling,
    /// How many ops.
    pub budget: OpBudget,
    /// The core of each placeable unit: worker threads or child processes,
    /// or the runtime threads of the async models. `None`: not pinned.
    pub cores: Vec<Option<usize>>,
    /// OS threads of an async runtime (the async models only; equals
    /// `cores.len()` for them).
    pub runtime_threads: usize,
    /// How ops are timed.
    pub recording: Recording,
    /// Give up on the trial after this instant.
    pub deadline: Instant,
    /// Open-loop arrival rate, ops/s; `None` for closed load.
    pub open_rate_ops_s: Option<f64>,
    /// The loopback server, `--target` and the IO workloads' folder.
    pub io: IoEnv,
}

impl TrialSpec {
    /// The shape the workload is prepared for.
    pub fn shape(&self) -> RunShape {
        RunShape {
            workers: self.workers,
            scaling: self.scaling,
            total_ops: self.budget.total(self.workers),
            io: self.io.clone(),
        }
    }

    /// Worker `index`'s share of the open-loop schedule starting at `base`,
    /// or `None` under closed load (and for lockstep budgets, which the
    /// runner never runs open).
    pub fn open_schedule(&self, base: Instant, index: usize) -> Option<OpenSchedule> {
        let rate = self.open_rate_ops_s?;
        let OpBudget::Shared { total } = self.budget else {
            return None;
        };
        Some(OpenSchedule::share(base, rate, total, index, self.workers))
    }

    /// The core of unit `index`, wrapping like placement does.
    pub fn core_of(&self, index: usize) -> Option<usize> {
        if self.cores.is_empty() {
            None
        } else {
            self.cores[index % self.cores.len()]
        }
    }
}

/// One worker's part in a finished trial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerOutcome {
    /// Worker index.
    pub index: usize,
    /// The process it ran in.
    pub pid: u32,
    /// Where the OS let it run.
    pub placed: Placed,
    /// Ops it completed.
    pub ops: u64,
    /// From release to its last op.
    pub wall_ns: u64,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

/// What a finished trial measured.
pub struct TrialOutcome {
    /// From release to the end of the last op.
    pub wall_ns: u64,
    /// CPU time of the workers during the timed region.
    pub cpu: CpuTime,
    /// Every worker's histogram, merged.
    pub histogram: Histogram<u64>,
    /// Every worker's part.
    pub workers: Vec<WorkerOutcome>,
    /// Creating the workers until all were ready.
    pub spawn_ns: Option<u64>,
    /// Runtime threads of the async models, as placed.
    pub runtime_threads: Vec<ThreadRecord>,
    /// Whether the async op ran.
    pub async_op: bool,
    /// How ops were timed.
    pub recording: Recording,
    /// Workload-specific counters.
    pub counters: BTreeMap<String, f64>,
    /// The workload's own latency histograms (e.g. `event_latency`).
    pub workload_histograms: BTreeMap<String, Histogram<u64>>,
    /// Open-loop extras (`histogram` is then from due times).
    pub open: Option<OpenOutcome>,
}

/// What an open-loop trial records besides latency from due times.
pub struct OpenOutcome {
    /// Latency from each op's actual start.
    pub uncorrected: Histogram<u64>,
    /// How late workers woke for ops they were early for.
    pub pacing: Histogram<u64>,
    /// Ops started after their due time.
    pub late_starts: u64,
}

impl OpenOutcome {
    /// Empty histograms.
    pub fn new() -> Self {
        OpenOutcome {
            uncorrected: new_histogram(),
            pacing: new_histogram(),
            late_starts: 0,
        }
    }

    /// Adds one worker's open-loop recording.
    pub fn add(&mut self, open: &crate::recorder::OpenRecorder) {
        self.uncorrected
            .add(&open.uncorrected)
            .expect("histograms share bounds");
        self.pacing
            .add(&open.pacing)
            .expect("histograms share bounds");
        self.late_starts += open.late_starts;
    }
}

impl Default for OpenOutcome {
    fn default() -> Self {
        Self::new()
    }
}

impl TrialOutcome {
    /// An outcome whose wall time runs to the last worker's last op.
    pub fn new(
        workers: Vec<WorkerOutcome>,
        histogram: Histogram<u64>,
        cpu: CpuTime,
        spawn_ns: u64,
        counters: BTreeMap<String, f64>,
    ) -> Self {
        TrialOutcome {
            wall_ns: workers.iter().map(|w| w.wall_ns).max().unwrap_or(0),
            cpu,
            histogram,
            workers,
            spawn_ns: Some(spawn_ns),
            runtime_threads: Vec::new(),
            async_op: false,
            recording: Recording::PerOp,
            counters,
            workload_histograms: BTreeMap::new(),
            open: None,
        }
    }

    /// The first worker error, naming the worker.
    pub fn first_error(&self) -> Option<String> {
        self.workers
            .iter()
            .find_map(|w| w.error.as_ref().map(|e| format!("worker {}: {e}", w.index)))
    }

    /// Ops completed in all.
    pub fn ops(&self) -> u64 {
        self.workers.iter().map(|w| w.ops).sum()
    }
}

/// A trial that produced no usable measurement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrialError {
    /// `failed`, `timeout` or `deadlocked`.
    pub status: Status,
    /// Why.
    pub message: String,
}

impl TrialError {
    /// A failed trial.
    pub fn failed(message: impl Into<String>) -> Self {
        TrialError {
            status: Status::Failed,
            message: message.into(),
        }
    }
}

/// One execution model.
pub trait ExecutionModel: Send + Sync {
    /// Which model this is.
    fn kind(&self) -> ModelKind;

    /// Whether the model can run this workload, and why not. Models that
    /// cannot share memory, or cannot keep every worker live at once,
    /// refuse the workloads that need it. By default a model runs
    /// everything (threads and rayon share memory and keep every worker
    /// live).
    fn check_support(&self, _workload: &dyn Workload, _workers: usize) -> Result<(), String> {
        Ok(())
    }

    /// Runs one trial.
    fn run_trial(&self, spec: &TrialSpec) -> Result<TrialOutcome, TrialError>;
}

/// The refusal text when a model cannot keep every worker live at once.
pub(crate) fn lockstep_refusal(model: ModelKind, workload: &dyn Workload, why: &str) -> String {
    format!(
        "{} cannot run under {model}: it is lockstep (every worker must run every round at once), but {why}",
        workload.info().id,
    )
}

/// Builds the shared state for a trial, catching panics.
pub(crate) fn prepare_shared(spec: &TrialSpec) -> Result<Arc<dyn SharedRun>, TrialError> {
    prepare_shared_for(spec.workload.as_ref(), spec.shape())
}

/// Builds a workload's shared state for `shape`, catching panics.
pub(crate) fn prepare_shared_for(
    workload: &dyn Workload,
    shape: RunShape,
) -> Result<Arc<dyn SharedRun>, TrialError> {
    match catch_unwind(AssertUnwindSafe(|| workload.prepare(shape))) {
        Ok(Ok(shared)) => Ok(shared),
        Ok(Err(e)) => Err(TrialError::failed(format!("set-up failed: {e}"))),
        Err(p) => Err(TrialError::failed(format!(
            "set-up panicked: {}",
            panic_message(p.as_ref())
        ))),
    }
}

/// A worker after set-up: placed, with its op and recorder, ready to run.
pub(crate) struct WorkerRun {
    pub index: usize,
    pub placed: Placed,
    pub op: Option<Box<dyn WorkerOp>>,
    pub recorder: WorkerRecorder,
    pub error: Option<String>,
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

    /// [`WorkerRun::set_up`], with the open-loop histograms when `open`.
    pub fn set_up_with(
        shared: &Arc<dyn SharedRun>,
        index: usize,
        core: Option<usize>,
        recording: Recording,
        open: bool,
    ) -> Self {
        let mut run = WorkerRun {
            index,
            placed: Placed::default(),
            op: None,
            recorder: WorkerRecorder::new(recording),
            error: None,
        };
        if open {
            run.recorder.enable_open();
        }
        match place_current_thread(core) {
            Ok(placed) => run.placed = placed,
            Err(e) => {
                run.error = Some(e);
                return run;
            }
        }
        let shared = Arc::clone(shared);
        match catch_unwind(AssertUnwindSafe(move || shared.worker(index))) {
            Ok(Ok(op)) => run.op = Some(op),
            Ok(Err(e)) => run.error = Some(format!("set-up failed: {e}")),
            Err(p) => run.error = Some(format!("set-up panicked: {}", panic_message(p.as_ref()))),
        }
        run
    }

    /// Runs ops from `source` on this worker; a failure is kept in `error`
    /// and raises `stop`. A worker whose set-up failed runs nothing.
    pub fn run(&mut self, source: OpSource<'_>, stop: &AtomicBool) {
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
    }

    /// Runs one op (the pool's job), keeping the first error.
    pub fn run_one(&mut self, op_index: u64) -> Result<(), String> {
        self.with_op(|op, recorder| recorder.time_op(op, op_index))
    }

    /// Runs one open-loop op (the pool's job): due at `due`, submitted by
    /// a pacer that woke at `woke` (`None`: it was late).
    pub fn run_one_open(
        &mut self,
        op_index: u64,
        due: Instant,
        woke: Option<Instant>,
    ) -> Result<(), String> {
        self.with_op(|op, recorder| {
            op.note_due(due);
            let started = Instant::now();
            let result = catch_unwind(AssertUnwindSafe(|| op.run_op(op_index)));
            let end = Instant::now();
            let result = crate::recorder::flatten_op_result(result);
            recorder.finish_open_op(op_index, due, started, woke, end, result)
        })
    }

    /// Runs `f` on the op and recorder of a worker that is set up and has
    /// not failed, keeping the first error.
    fn with_op(
        &mut self,
        f: impl FnOnce(&mut dyn WorkerOp, &mut WorkerRecorder) -> Result<(), String>,
    ) -> Result<(), String> {
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
                .unwrap_or_else(|| "worker has no op".to_string())),
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
    cpu: CpuTime,
    spawn_ns: u64,
    shared: &Arc<dyn SharedRun>,
) -> TrialOutcome {
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
    outcome
}

/// Releases workers together once all are set up: the two halves of a
/// barrier. Workers call [`StartGate::arrive_and_wait`]; the model waits
/// for all of them with a deadline, reads its clocks, and opens the gate.
/// Unlike `std::sync::Barrier`, it can be opened with fewer arrivals (a
/// thread that failed to spawn, a set-up that hangs), so a broken start
/// fails the trial instead of hanging it. Waiting is blocking (a condvar),
/// never spinning.
#[derive(Default)]
pub(crate) struct StartGate {
    /// Arrivals, and when the gate opened.
    state: Mutex<(usize, Option<Instant>)>,
    changed: Condvar,
}

impl StartGate {
    /// Counts the caller as ready and blocks until the gate opens; returns
    /// when it opened (the base of an open-loop schedule).
    pub fn arrive_and_wait(&self) -> Instant {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.0 += 1;
        self.changed.notify_all();
        loop {
            if let Some(opened) = state.1 {
                return opened;
            }
            state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Blocks until `count` workers have arrived; false at the deadline.
    pub fn wait_ready(&self, count: usize, deadline: Instant) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while state.0 < count {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }

    /// Releases every waiting worker, and any that arrive later; returns
    /// the release time.
    pub fn open(&self) -> Instant {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let opened = *state.1.get_or_insert_with(Instant::now);
        drop(state);
        self.changed.notify_all();
        opened
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

/// Spawns `count` named scoped threads running `body(index)`, each of which
/// must call `gate.arrive_and_wait()` once set up, and waits until all have
/// arrived. On a failed spawn or a start past `deadline` it raises `stop`
/// and opens the gate, so the threads already started end instead of
/// waiting forever, and returns the error.
pub(crate) fn start_scoped_workers<'scope, T: Send + 'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    model: ModelKind,
    count: usize,
    gate: &'scope StartGate,
    stop: &'scope AtomicBool,
    deadline: Instant,
    body: &'scope (dyn Fn(usize) -> T + Sync),
) -> Result<Vec<std::thread::ScopedJoinHandle<'scope, T>>, TrialError> {
    let abandon = |error: TrialError| {
        stop.store(true, Ordering::Relaxed);
        gate.open();
        error
    };
    let mut handles = Vec::with_capacity(count);
    for index in 0..count {
        let spawned = std::thread::Builder::new()
            .name(format!("corebench-{model}{index}"))
            .spawn_scoped(scope, move || body(index));
        match spawned {
            Ok(handle) => handles.push(handle),
            Err(e) => {
                return Err(abandon(TrialError::failed(format!(
                    "could not spawn thread {index} of {count}: {e}"
                ))))
            }
        }
    }
    if !gate.wait_ready(count, deadline) {
        return Err(abandon(start_timeout(model)));
    }
    Ok(handles)
}

/// Joins scoped worker threads. Ops run under `catch_unwind`, so a join
/// error means the harness itself panicked; it is reported, not re-thrown.
pub(crate) fn join_workers<T>(
    handles: Vec<std::thread::ScopedJoinHandle<'_, T>>,
) -> Result<Vec<T>, TrialError> {
    handles
        .into_iter()
        .map(|handle| {
            handle.join().map_err(|p| {
                TrialError::failed(format!(
                    "worker thread panicked outside an op: {}",
                    panic_message(p.as_ref())
                ))
            })
        })
        .collect()
}

/// A time-out error for a start that did not complete.
pub(crate) fn start_timeout(model: ModelKind) -> TrialError {
    TrialError {
        status: Status::Timeout,
        message: format!("{model}: workers were not all set up before the trial's time limit"),
    }
}
