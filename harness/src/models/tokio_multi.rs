//! `tokio`: the multi-thread runtime. `workers` are concurrent tasks; the
//! runtime has `runtime_threads` OS threads (default `min(workers,
//! logical cores)`), each pinned in `on_thread_start` by start order.

use std::time::Instant;

use workloads::Workload;

use super::tokio_driver::{pinning_hook, run_tasks, ThreadLog};
use super::worker_run::prepare_shared;
use super::{
    lockstep_refusal, ExecutionModel, Failure, Model, ModelInfo, RuntimeThreads, TrialOutcome,
    TrialSpec,
};

/// What the `tokio` model is.
pub(super) const MODEL: Model = Model::new(&ModelInfo {
    name: "tokio",
    summary: "tokio multi-thread runtime; workers are tasks on min(workers, cores) threads unless --runtime-threads",
    colour: (204, 121, 167),
    is_async: true,
    runtime_threads: RuntimeThreads::UpToCores,
    extra_threads: 0,
    in_children: false,
    max_workers: None,
    build: || Box::new(TokioMulti),
});

/// The `tokio` model.
pub struct TokioMulti;

impl ExecutionModel for TokioMulti {
    fn model(&self) -> Model {
        MODEL
    }

    fn check_support(&self, workload: &dyn Workload, _workers: usize) -> Result<(), String> {
        async_lockstep_check(MODEL, workload)
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

/// Lockstep workloads block inside an op until every worker arrives; on a
/// runtime with fewer threads than tasks a blocking wait would starve the
/// tasks it waits for, so only an async op (which awaits) can run them.
pub(crate) fn async_lockstep_check(model: Model, workload: &dyn Workload) -> Result<(), String> {
    if workload.requirements().lockstep && !workload.is_async_native() {
        return Err(lockstep_refusal(
            model,
            workload,
            "it has no async op, and a blocking wait inside a task starves the tasks it waits for",
        ));
    }
    Ok(())
}
