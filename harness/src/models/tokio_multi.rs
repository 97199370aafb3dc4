//! `tokio`: the multi-thread runtime. `workers` are concurrent tasks; the
//! runtime has `runtime_threads` OS threads (default `min(workers,
//! logical cores)`), each pinned in `on_thread_start` by start order.

use std::time::Instant;

use super::tokio_driver::{pinning_hook, run_tasks, ThreadLog};
use super::worker_run::prepare_shared;
use super::{ExecutionModel, Failure, Model, ModelInfo, RuntimeThreads, TrialOutcome, TrialSpec};

/// What the `tokio` model is.
pub(super) const MODEL: Model = Model::new(&INFO);

const INFO: ModelInfo = ModelInfo::new(
    "tokio",
    "tokio multi-thread runtime; workers are tasks on min(workers, cores) threads unless --runtime-threads",
    (204, 121, 167),
    || Box::new(TokioMulti),
)
.tasks_on(RuntimeThreads::UpToCores)
.costs("each op runs inside a task polled by the runtime");

/// The `tokio` model.
pub struct TokioMulti;

impl ExecutionModel for TokioMulti {
    fn model(&self) -> Model {
        MODEL
    }

    fn run_trial(&self, spec: &TrialSpec) -> Result<TrialOutcome, Failure> {
        let spawn_start = Instant::now();
        let shared = prepare_shared(spec, self.model())?;
        let log = ThreadLog::default();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(spec.runtime_threads.max(1))
            .thread_name("corebench-tokio")
            .on_thread_start(pinning_hook(spec.cores.clone(), log.clone()))
            .enable_all()
            .build()
            .map_err(|e| Failure::failed(format!("could not build the tokio runtime: {e}")))?;
        run_tasks(MODEL, runtime, spec, shared, log, spawn_start)
    }
}
