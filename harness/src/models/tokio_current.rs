//! `tokio-current`: the current-thread runtime. Every task runs on the one
//! thread that drives the runtime (pinned to the first placement core):
//! concurrency without parallelism, so CPU-bound work gains nothing.

use std::time::Instant;

use reports::schema::ThreadRecord;
use workloads::Workload;

use super::tokio_driver::{run_tasks, ThreadLog};
use super::tokio_multi::async_lockstep_check;
use super::worker_run::prepare_shared;
use super::{ExecutionModel, Failure, ModelKind, TrialOutcome, TrialSpec};
use crate::placement::place_current_thread;

/// The `tokio-current` model.
pub struct TokioCurrent;

impl ExecutionModel for TokioCurrent {
    fn kind(&self) -> ModelKind {
        ModelKind::TokioCurrent
    }

    fn check_support(&self, workload: &dyn Workload, _workers: usize) -> Result<(), String> {
        async_lockstep_check(ModelKind::TokioCurrent, workload)
    }

    fn run_trial(&self, spec: &TrialSpec) -> Result<TrialOutcome, Failure> {
        let spawn_start = Instant::now();
        let shared = prepare_shared(spec, self.kind())?;
        // The calling thread is the runtime's only thread. The runner gives
        // every trial a fresh thread, so pinning it affects nothing else.
        let placed = place_current_thread(spec.core_of(0)).map_err(Failure::failed)?;
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
        run_tasks(
            ModelKind::TokioCurrent,
            runtime,
            spec,
            shared,
            log,
            spawn_start,
        )
    }
}
