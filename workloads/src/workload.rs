//! The contract between a workload and the harness: the [`Workload`]
//! trait and what it builds ([`SharedRun`], [`WorkerOp`],
//! [`AsyncWorkerOp`]), the [`RunShape`] it is prepared for, what it
//! requires of a model, its errors, and its static description
//! ([`WorkloadInfo`]).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::params::{ParamSpec, ParamValues};

/// How total work relates to the worker count in one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scaling {
    /// A fixed total amount of work is split over the workers (Amdahl).
    Strong,
    /// A fixed amount of work per worker, so total work grows with n (Gustafson).
    Weak,
}

impl Scaling {
    /// The spelling used on the command line and in records.
    pub fn as_str(self) -> &'static str {
        match self {
            Scaling::Strong => "strong",
            Scaling::Weak => "weak",
        }
    }
}

impl std::fmt::Display for Scaling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Scaling {
    type Err = String;
    /// Parses `strong` or `weak`; the error names the value and the valid
    /// ones.
    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim() {
            "strong" => Ok(Scaling::Strong),
            "weak" => Ok(Scaling::Weak),
            other => Err(format!("unknown scaling '{other}'; valid: strong, weak")),
        }
    }
}

/// What a workload needs to know about the run it is prepared for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunShape {
    /// How many workers will call ops concurrently.
    pub workers: usize,
    /// Strong or weak scaling; lockstep workloads size their rounds by it.
    pub scaling: Scaling,
    /// Ops in the whole run, over all workers (the crawler sizes its site
    /// by it).
    pub total_ops: u64,
    /// Where the IO workloads find the world outside the process.
    pub io: IoEnv,
    /// Whether the model awaits the workers' async ops
    /// ([`WorkerOp::as_async`]) on a tokio runtime. The model says so;
    /// workers then build async resources (an async HTTP client) instead of
    /// blocking ones.
    pub async_ops: bool,
}

impl RunShape {
    /// A shape of `workers` workers running `total_ops` ops, with no
    /// server or output folder.
    pub fn new(workers: usize, scaling: Scaling, total_ops: u64) -> Self {
        RunShape {
            workers,
            scaling,
            total_ops,
            io: IoEnv::default(),
            async_ops: false,
        }
    }
}

/// Where the IO workloads find the world outside the process: the HTTP
/// server corebench started (or the `--target` it was given), and a folder
/// on a real disk for their files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IoEnv {
    /// The loopback server corebench started, `http://127.0.0.1:PORT`.
    pub server_url: Option<String>,
    /// `--target URL`: `io/http` GETs exactly this URL instead.
    pub target_url: Option<String>,
    /// A folder for files the IO workloads write (temporary files, removed
    /// after each run, and outputs such as the crawler's CSV). `None`: the
    /// system's temporary folder.
    pub output_dir: Option<std::path::PathBuf>,
}

/// Which HTTP server a workload talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpUse {
    /// None.
    #[default]
    None,
    /// Any HTTP/1.1 server: the loopback one, or `--target` when given.
    AnyServer,
    /// corebench's own loopback server (it needs its generated site).
    LoopbackServer,
}

/// What an execution model must offer to run a workload. Models compare
/// these with what they can do and refuse, with the reason, when they cannot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Requirements {
    /// Workers must share memory (a barrier, a lock): separate processes
    /// cannot run it. The text says what is shared, for the refusal message.
    pub shared_memory: Option<&'static str>,
    /// Every worker runs the same number of ops, all of them live at once
    /// (the workload synchronises its workers inside an op). Dynamic
    /// schedulers and job queues cannot guarantee this.
    pub lockstep: bool,
}

impl Requirements {
    /// Workers share memory (`what` says how); ops are independent.
    pub const fn shared(what: &'static str) -> Self {
        Requirements {
            shared_memory: Some(what),
            lockstep: false,
        }
    }

    /// Workers share memory (`what` says how) and meet inside every op.
    pub const fn shared_lockstep(what: &'static str) -> Self {
        Requirements {
            shared_memory: Some(what),
            lockstep: true,
        }
    }
}

/// Why an op (or a worker's set-up) failed. The harness turns it into a
/// failed record, or a `deadlocked` one for [`OpErrorKind::Deadlock`]; it
/// never aborts the run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct OpError {
    /// What kind of failure it is; decides the record's status.
    pub kind: OpErrorKind,
    /// What went wrong, for people.
    pub message: String,
}

/// The kinds of [`OpError`] the harness records differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpErrorKind {
    /// The op failed: the trial is `failed`.
    Failed,
    /// The workload detected a deadlock: the trial is `deadlocked`, a
    /// finding rather than a failure.
    Deadlock,
}

/// How the message of a deadlock [`OpError`] starts, for people reading it.
pub const DEADLOCK_PREFIX: &str = "deadlock detected:";

impl OpError {
    /// A failed op.
    pub fn new(message: impl Into<String>) -> Self {
        OpError {
            kind: OpErrorKind::Failed,
            message: message.into(),
        }
    }

    /// An error reporting a deadlock, with who holds and who waits.
    pub fn deadlock(description: &str) -> Self {
        OpError {
            kind: OpErrorKind::Deadlock,
            message: format!("{DEADLOCK_PREFIX} {description}"),
        }
    }
}

/// Errors from building a workload's shared or per-worker state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkloadError {
    /// The workload cannot run with this shape, e.g. more pairs than workers.
    #[error("{workload} cannot run with {workers} workers: {reason}")]
    Shape {
        /// The workload id.
        workload: &'static str,
        /// The worker count asked for.
        workers: usize,
        /// Why not.
        reason: String,
    },
    /// Building state failed (a file, a socket, ...).
    #[error("{workload}: {reason}")]
    Setup {
        /// The workload id.
        workload: &'static str,
        /// What went wrong.
        reason: String,
    },
}

/// One kind of work with its parameters bound. Built from a spec string by
/// [`crate::parse_spec`].
pub trait Workload: Send + Sync {
    /// The static description: id, summary and parameter list.
    fn info(&self) -> &'static WorkloadInfo;
    /// The parameter values this instance was built with (defaults filled in).
    fn params(&self) -> &ParamValues;
    /// What an execution model must offer to run it.
    fn requirements(&self) -> Requirements {
        Requirements::default()
    }
    /// Whether its workers share state: what it needs shared
    /// ([`Requirements::shared_memory`]), or state it shares where it can
    /// and copies per process where it cannot (a closure workload made
    /// with [`crate::Custom::from_fn_shared`]). Under a model whose workers
    /// are processes, such a workload does different work, and the report
    /// says so.
    fn shares_state(&self) -> bool {
        self.requirements().shared_memory.is_some()
    }
    /// Whether its workers offer [`WorkerOp::as_async`]; async models use it.
    fn is_async_native(&self) -> bool {
        false
    }
    /// Whether its ops mostly wait on IO rather than compute: the `auto`
    /// worker sweep then goes past the core count.
    fn io_bound(&self) -> bool {
        false
    }
    /// Which HTTP server it needs; the harness starts the loopback server
    /// when any workload of a run needs it.
    fn http_use(&self) -> HttpUse {
        HttpUse::None
    }
    /// Threads of its own that run beside the workers for the whole run
    /// (a pipeline's stages and pools): the disturbance guard counts their
    /// claim on the CPUs as the run's own, not as another process's.
    fn helper_threads(&self) -> usize {
        0
    }
    /// Builds the state shared by all workers of one run. Called once per
    /// run, before timing starts.
    fn prepare(&self, shape: RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError>;

    /// The canonical spec string, `id:key=value,...`, with every parameter.
    fn spec(&self) -> String {
        format_spec(self.info().id, self.params())
    }
}

/// The canonical spec of a workload instance: every parameter, name order.
pub fn format_spec(id: &str, params: &ParamValues) -> String {
    if params.0.is_empty() {
        return id.to_string();
    }
    let items: Vec<String> = params.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{id}:{}", items.join(","))
}

/// The state one run's workers share (locks, barriers, servers).
pub trait SharedRun: Send + Sync {
    /// Builds worker `index`'s own state. Called on the worker itself, after
    /// it has been pinned, outside the timed region.
    fn worker(self: Arc<Self>, index: usize) -> Result<Box<dyn WorkerOp>, WorkloadError>;
    /// Workload-specific counters for the run, read after all workers end
    /// (e.g. `lost_updates`). Names carry units.
    fn counters(&self) -> BTreeMap<String, f64> {
        BTreeMap::new()
    }
    /// Latency histograms the workload keeps itself (ns), by name, e.g.
    /// the end-to-end `event_latency` of a stream, read after all workers
    /// end. The harness stores them beside its own op latency histogram.
    fn histograms(&self) -> BTreeMap<String, hdrhistogram::Histogram<u64>> {
        BTreeMap::new()
    }
}

/// A boxed future, as async ops return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One worker's handle on the work: the timed unit.
pub trait WorkerOp: Send {
    /// Runs one operation. `op_index` is unique within the run and lies in
    /// `0..total_ops`; workloads may use it to vary their input. The returned
    /// value is folded into a checksum so the compiler cannot drop the work.
    fn run_op(&mut self, op_index: u64) -> Result<u64, OpError>;

    /// Under open load, called just before each op with the time it was
    /// due. Workloads that time their own latencies (a stream's end-to-end
    /// latency) count from it, so a late start is not hidden from them.
    fn note_due(&mut self, _due: std::time::Instant) {}

    /// The async form of the op, for async-native workloads.
    fn as_async(&mut self) -> Option<&mut dyn AsyncWorkerOp> {
        None
    }
}

/// The async form of [`WorkerOp::run_op`], driven by the async models.
pub trait AsyncWorkerOp: Send {
    /// Runs one operation, awaiting instead of blocking where it would wait.
    fn run_op_async(&mut self, op_index: u64) -> BoxFuture<'_, Result<u64, OpError>>;
}

/// A [`SharedRun`] for workloads whose workers share nothing: every worker
/// gets its own clone of a template op.
pub struct CloneRun<T>(pub T);

impl<T: WorkerOp + Clone + Sync + 'static> SharedRun for CloneRun<T> {
    fn worker(self: Arc<Self>, _index: usize) -> Result<Box<dyn WorkerOp>, WorkloadError> {
        Ok(Box::new(self.0.clone()))
    }
}

/// The static description of one workload.
pub struct WorkloadInfo {
    /// The id, `group/name`, e.g. `cpu/primes`.
    pub id: &'static str,
    /// One line saying what one op does and what the workload shows.
    pub summary: &'static str,
    /// Its parameters, with defaults and help.
    pub params: &'static [ParamSpec],
    /// Whether the `quick`/`default`/`full` profiles include it. Workloads
    /// that exist to test the harness itself (failure injection, the empty
    /// op used for dispatch floors) are left out.
    pub in_profiles: bool,
    /// Builds an instance from validated parameters (defaults filled in).
    /// Returns a reason when the combination of values is invalid.
    pub build: fn(ParamValues) -> Result<Box<dyn Workload>, String>,
}

impl std::fmt::Debug for WorkloadInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkloadInfo")
            .field("id", &self.id)
            .finish()
    }
}
