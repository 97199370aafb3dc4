//! What an execution model is: the [`ExecutionModel`] trait a model
//! implements, the [`ModelInfo`] it declares in its own file (everything
//! the rest of the harness asks of a model), and [`Model`], the handle
//! plans, cells and records carry. Nothing outside `models/` asks which
//! model a handle is; it asks the handle what the model does.

use std::fmt;
use std::hash::{Hash, Hasher};

use workloads::Workload;

use crate::error::UsageError;
use crate::failure::Failure;

use super::trial::{TrialOutcome, TrialSpec};

/// A colour as red, green, blue.
pub type Rgb = (u8, u8, u8);

/// How many runtime threads a model's tasks run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeThreads {
    /// None: its workers are its threads.
    None,
    /// Always one thread, whatever the worker count.
    One,
    /// One per worker up to the cores, unless `--runtime-threads` says.
    UpToCores,
}

/// Everything the harness asks of a model, declared in the model's file.
pub struct ModelInfo {
    /// The name on the command line and in records.
    pub name: &'static str,
    /// One line for `corebench list`.
    pub summary: &'static str,
    /// Its colour in every chart and swatch (the harness hands the report
    /// its models' names, order and colours).
    pub colour: Rgb,
    /// Its workers are tasks on runtime threads placed separately.
    pub is_async: bool,
    /// The runtime threads its workers run on.
    pub runtime_threads: RuntimeThreads,
    /// Its work runs in child processes, which sample themselves.
    pub in_children: bool,
    /// The most workers it runs (seq: one, the true T(1)).
    pub max_workers: Option<usize>,
    /// What it costs per op that code without it would not pay: the
    /// report says so where the model at one worker is slower than `seq`
    /// ("" for none).
    pub own_cost: &'static str,
    /// Builds its implementation.
    pub build: fn() -> Box<dyn ExecutionModel>,
}

impl ModelInfo {
    /// A model whose workers are its threads, all in this process, with no
    /// threads besides them and no worker limit; the methods below say
    /// where a model differs.
    pub const fn new(
        name: &'static str,
        summary: &'static str,
        colour: Rgb,
        build: fn() -> Box<dyn ExecutionModel>,
    ) -> Self {
        ModelInfo {
            name,
            summary,
            colour,
            is_async: false,
            runtime_threads: RuntimeThreads::None,
            in_children: false,
            max_workers: None,
            own_cost: "",
            build,
        }
    }

    /// Its workers are tasks on `threads` runtime threads.
    pub const fn tasks_on(mut self, threads: RuntimeThreads) -> Self {
        self.is_async = true;
        self.runtime_threads = threads;
        self
    }

    /// It costs `what` per op that code without it would not pay.
    pub const fn costs(mut self, what: &'static str) -> Self {
        self.own_cost = what;
        self
    }

    /// Its work runs in child processes.
    pub const fn in_children(mut self) -> Self {
        self.in_children = true;
        self
    }

    /// It runs at most `workers` workers.
    pub const fn max_workers(mut self, workers: usize) -> Self {
        self.max_workers = Some(workers);
        self
    }
}

/// A handle on one model's [`ModelInfo`]: cheap to copy, compared by name,
/// ordered as [`super::ALL`] lists the models.
#[derive(Clone, Copy)]
pub struct Model(&'static ModelInfo);

impl Model {
    /// The handle of the model `info` describes.
    pub const fn new(info: &'static ModelInfo) -> Self {
        Model(info)
    }

    /// What the model is.
    pub fn info(self) -> &'static ModelInfo {
        self.0
    }

    /// Its name on the command line and in records.
    pub fn name(self) -> &'static str {
        self.0.name
    }

    /// Its implementation.
    pub fn build(self) -> Box<dyn ExecutionModel> {
        (self.0.build)()
    }

    /// Runtime threads at `workers` tasks on `cores` cores, with `asked`
    /// from `--runtime-threads`; `None` when its workers are its threads.
    pub fn runtime_threads(
        self,
        workers: usize,
        cores: usize,
        asked: Option<usize>,
    ) -> Option<usize> {
        match self.0.runtime_threads {
            RuntimeThreads::None => None,
            RuntimeThreads::One => Some(1),
            RuntimeThreads::UpToCores => Some(asked.unwrap_or_else(|| workers.min(cores))),
        }
    }

    /// The worker counts of `wanted` it runs at: all, or its limit.
    pub fn worker_counts(self, wanted: &[usize]) -> Vec<usize> {
        match self.0.max_workers {
            Some(max) if wanted.iter().any(|&n| n > max) => {
                let mut counts: Vec<usize> = wanted.iter().map(|&n| n.min(max)).collect();
                counts.dedup();
                counts
            }
            _ => wanted.to_vec(),
        }
    }

    /// Where it stands in report order: its place in [`super::ALL`], or
    /// after them all.
    pub fn rank(self) -> usize {
        super::ALL
            .iter()
            .position(|m| *m == self)
            .unwrap_or(super::ALL.len())
    }

    /// The model named `text` among `models`; the error names the valid ones.
    pub fn parse_among(text: &str, models: &[Model]) -> Result<Model, UsageError> {
        models
            .iter()
            .copied()
            .find(|m| m.name() == text.trim())
            .ok_or_else(|| {
                let valid: Vec<&str> = models.iter().map(|m| m.name()).collect();
                UsageError::new(format!(
                    "unknown model '{text}'; valid models: {}, all",
                    valid.join(", ")
                ))
            })
    }
}

impl PartialEq for Model {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

impl Eq for Model {}

impl Hash for Model {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name().hash(state);
    }
}

impl PartialOrd for Model {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Model {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.rank(), self.name()).cmp(&(other.rank(), other.name()))
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Model({})", self.name())
    }
}

impl std::str::FromStr for Model {
    type Err = UsageError;
    fn from_str(text: &str) -> Result<Self, UsageError> {
        Model::parse_among(text, super::ALL)
    }
}

/// One execution model.
pub trait ExecutionModel: Send + Sync {
    /// Which model this is.
    fn model(&self) -> Model;

    /// Whether the model can run this workload, and why not. Models that
    /// cannot share memory, or cannot keep every worker live at once,
    /// refuse the workloads that need it. By default a model runs
    /// everything its [`ModelInfo`] allows: threads and rayon share memory
    /// and keep every worker live; a model whose workers are tasks refuses
    /// lockstep work that has no async op.
    fn check_support(&self, workload: &dyn Workload, _workers: usize) -> Result<(), String> {
        if self.model().info().is_async {
            async_lockstep_check(self.model(), workload)
        } else {
            Ok(())
        }
    }

    /// Runs one trial.
    fn run_trial(&self, spec: &TrialSpec) -> Result<TrialOutcome, Failure>;
}

/// The report's series for `models`: their names, in this order, with
/// their colours.
pub fn report_series_of(models: &[Model]) -> reports::schema::SeriesOrder {
    reports::schema::SeriesOrder(
        models
            .iter()
            .map(|m| reports::schema::KnownSeries {
                name: m.name().to_string(),
                colour: m.info().colour,
                own_cost: m.info().own_cost.to_string(),
            })
            .collect(),
    )
}

/// Lockstep workloads block inside an op until every worker arrives; on a
/// runtime with fewer threads than tasks a blocking wait would starve the
/// tasks it waits for, so only an async op (which awaits) can run them.
fn async_lockstep_check(model: Model, workload: &dyn Workload) -> Result<(), String> {
    if workload.requirements().lockstep && !workload.is_async_native() {
        return Err(lockstep_refusal(
            model,
            workload,
            "it has no async op, and a blocking wait inside a task starves the tasks it waits for",
        ));
    }
    Ok(())
}

/// Locks `mutex`, taking over a lock whose holder panicked: a worker's
/// panic is recorded as its failure, and its slot is still worth reading.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// The refusal text when a model cannot keep every worker live at once.
pub(crate) fn lockstep_refusal(model: Model, workload: &dyn Workload, why: &str) -> String {
    format!(
        "{} cannot run under {model}: it is lockstep (every worker must run every round at once), but {why}",
        workload.info().id,
    )
}
