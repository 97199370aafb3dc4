//! `sync/barrier`: rounds through one barrier. Every op is some work
//! (`work_steps`) and then the wait for every other worker, so its latency
//! is a round: the slowest worker's work plus the barrier's wake-up. The
//! sync op uses `std::sync::Barrier`; the async models use tokio's.

use std::sync::{Arc, Barrier};

use crate::kernel::spin_work;
use crate::params::{ParamKind, ParamSpec};
use crate::{
    AsyncWorkerOp, BoxFuture, OpError, Requirements, RunShape, SharedRun, WorkerOp, WorkloadError,
    WorkloadInfo,
};

/// Registry entry.
pub static INFO: WorkloadInfo = WorkloadInfo {
    id: "sync/barrier",
    summary:
        "rounds through one barrier (std, or tokio's in the async models): the latency of a round",
    params: &[ParamSpec {
        name: "work_steps",
        kind: ParamKind::Int {
            min: 0,
            max: 1_000_000_000,
        },
        default: "5000",
        help: "work per worker per round before the barrier, in spin steps",
    }],
    in_profiles: false,
    build: |params| Ok(Box::new(BarrierWorkload { params })),
};

workload_type! {
    BarrierWorkload = INFO + async_native;
    fn requirements(&self) -> Requirements {
        Requirements::shared_lockstep("its workers meet at one barrier")
    }
    fn prepare(&self, shape: RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError> {
        Ok(Arc::new(BarrierRun {
            barrier: Barrier::new(shape.workers),
            async_barrier: tokio::sync::Barrier::new(shape.workers),
            work_steps: self.params.int("work_steps") as u64,
        }))
    }
}

struct BarrierRun {
    barrier: Barrier,
    async_barrier: tokio::sync::Barrier,
    work_steps: u64,
}

impl SharedRun for BarrierRun {
    fn worker(self: Arc<Self>, index: usize) -> Result<Box<dyn WorkerOp>, WorkloadError> {
        Ok(Box::new(RoundOp { run: self, index }))
    }
}

struct RoundOp {
    run: Arc<BarrierRun>,
    index: usize,
}

impl WorkerOp for RoundOp {
    fn run_op(&mut self, op_index: u64) -> Result<u64, OpError> {
        let work = spin_work(self.run.work_steps, op_index ^ self.index as u64);
        self.run.barrier.wait();
        Ok(work)
    }

    fn as_async(&mut self) -> Option<&mut dyn AsyncWorkerOp> {
        Some(self)
    }
}

impl AsyncWorkerOp for RoundOp {
    fn run_op_async(&mut self, op_index: u64) -> BoxFuture<'_, Result<u64, OpError>> {
        Box::pin(async move {
            let work = spin_work(self.run.work_steps, op_index ^ self.index as u64);
            self.run.async_barrier.wait().await;
            Ok(work)
        })
    }
}
