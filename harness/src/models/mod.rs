//! Execution models: how workers are created, placed and driven.
//!
//! This file holds the [`ExecutionModel`] trait and the model table
//! ([`ModelKind`]); every model implements the trait in its own file. The
//! runner hands a model a [`TrialSpec`] (the workload, worker count, op
//! budget and the core of every placeable unit) and gets back a
//! [`TrialOutcome`] (wall and CPU time, the merged histogram, every
//! worker's part) or a typed [`Failure`]. Every model follows the
//! measurement rules of DESIGN.md: workers are created and set up (pinned,
//! per-worker state built) before timing starts and released together;
//! each records into its own histogram; waiting is blocking, never
//! spinning.
//!
//! The parts models share live beside them:
//! - [`trial`]: the spec and outcome types of one trial;
//! - [`worker_run`]: a worker's lifecycle (set-up with panics caught, its
//!   op loop, its outcome) and merging workers into a trial outcome;
//! - [`start`]: the gate that releases workers together, spawn and join;
//! - [`process`]: both sides of the child protocol of the `process` model;
//! - [`mock`]: a model with scripted timings and outcomes, for tests.

pub mod mock;
mod pool;
pub mod process;
mod rayon_model;
mod seq;
pub mod start;
mod threads;
mod tokio_current;
mod tokio_driver;
mod tokio_multi;
pub mod trial;
pub mod worker_run;

use std::fmt;

use reports::schema::MODELS;
use workloads::Workload;

use crate::error::UsageError;
pub use crate::failure::Failure;
pub use trial::{ChildSamples, OpBudget, OpenOutcome, TrialOutcome, TrialSpec, WorkerOutcome};

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

    /// The name used on the command line and in records: its entry in
    /// the one model list, [`reports::schema::MODELS`], which [`Self::ALL`]
    /// follows in order (a test holds the two together).
    pub fn name(self) -> &'static str {
        MODELS[self as usize].name
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
    fn run_trial(&self, spec: &TrialSpec) -> Result<TrialOutcome, Failure>;
}

/// Locks `mutex`, taking over a lock whose holder panicked: a worker's
/// panic is recorded as its failure, and its slot is still worth reading.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// The refusal text when a model cannot keep every worker live at once.
pub(crate) fn lockstep_refusal(model: ModelKind, workload: &dyn Workload, why: &str) -> String {
    format!(
        "{} cannot run under {model}: it is lockstep (every worker must run every round at once), but {why}",
        workload.info().id,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_table_follows_the_one_model_list() {
        assert_eq!(ModelKind::ALL.len(), MODELS.len());
        for (kind, listed) in ModelKind::ALL.iter().zip(MODELS) {
            assert_eq!(kind.name(), listed.name);
            assert_eq!(kind.model().kind(), *kind);
            assert_eq!(kind.name().parse::<ModelKind>().unwrap(), *kind);
        }
    }

    #[test]
    fn the_calibration_reference_is_the_workload_of_that_name() {
        assert_eq!(
            workloads::cpu::calibrate::INFO.id,
            reports::schema::CALIBRATION_WORKLOAD
        );
    }
}
