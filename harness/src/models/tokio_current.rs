//! `tokio-current`: the current-thread runtime. Every task runs on the one
//! thread that drives the runtime (pinned to the first placement core):
//! concurrency without parallelism, so CPU-bound work gains nothing.

use std::time::Instant;

use reports::schema::ThreadRecord;

use super::tokio_driver::{run_tasks, ThreadLog};
use super::worker_run::prepare_shared;
use super::{ExecutionModel, Failure, Model, ModelInfo, RuntimeThreads, TrialOutcome, TrialSpec};
use crate::placement::place_current_thread;

/// What the `tokio-current` model is.
pub(super) const MODEL: Model = Model::new(&INFO);

const INFO: ModelInfo = ModelInfo::new(
    "tokio-current",
    "tokio current-thread runtime; workers are tasks on one thread: concurrency without parallelism",
    (86, 180, 233),
    || Box::new(TokioCurrent),
)
.tasks_on(RuntimeThreads::One)
.costs("each op runs inside a task polled by the runtime");

/// The `tokio-current` model.
pub struct TokioCurrent;

impl ExecutionModel for TokioCurrent {
    fn model(&self) -> Model {
        MODEL
    }

    fn run_trial(&self, spec: &TrialSpec) -> Result<TrialOutcome, Failure> {
        let spawn_start = Instant::now();
        let shared = prepare_shared(spec, self.model())?;
        // The calling thread is the runtime's only thread. The runner gives
        // every trial a fresh thread, so pinning it affects nothing else.
        let placed = place_current_thread(spec.core_of(0)).map_err(Failure::failed)?;
        crate::wall::register_current_thread("runtime0");
        let log = ThreadLog::default();
        log.lock().unwrap_or_else(|p| p.into_inner()).push((
            crate::os::threads::current_tid(),
            Ok(ThreadRecord {
                index: 0,
                core: placed.core,
                cpus_allowed: placed.cpus_allowed,
                os: None,
            }),
        ));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Failure::failed(format!("could not build the tokio runtime: {e}")))?;
        run_tasks(MODEL, runtime, spec, shared, log, spawn_start)
    }
}
