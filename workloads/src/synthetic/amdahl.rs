//! `synthetic/amdahl`: fork-join rounds whose ideal speedup is exactly
//! Amdahl's law, so the harness can be checked against it.
//!
//! One round is `round_steps` units of [`spin_work`] at one worker. Worker 0
//! does the serial part, `serial_fraction` of it, while the others wait at a
//! barrier; then all workers do the parallel part, split evenly (strong
//! scaling) or each a full share (weak scaling), and meet at a barrier again.
//! One op is one worker's part in one round, so every worker runs the same
//! number of ops, all live at once: the workload is *lockstep*, and needs
//! shared memory for its barrier. Under strong scaling, wall time at n
//! workers is `T(1) * (f + (1 - f) / n)` plus two barrier crossings a round.

use std::sync::{Arc, Barrier};

use crate::kernel::spin_work;
use crate::params::{ParamKind, ParamSpec};
use crate::{
    AsyncWorkerOp, BoxFuture, OpError, Requirements, RunShape, Scaling, SharedRun, WorkerOp,
    WorkloadError, WorkloadInfo,
};

/// Registry entry.
pub static INFO: WorkloadInfo = WorkloadInfo {
    id: "synthetic/amdahl",
    summary: "fork-join rounds: a serial step on one worker, then a parallel step on all; ideal speedup is Amdahl's",
    params: &[
        ParamSpec {
            name: "serial_fraction",
            kind: ParamKind::Float { min: 0.0, max: 1.0 },
            default: "0.25",
            help: "fraction f of each round's work done by one worker while the others wait",
        },
        ParamSpec {
            name: "round_steps",
            kind: ParamKind::Int { min: 1, max: 1_000_000_000_000 },
            default: "10000000",
            help: "work per round at one worker, in spin steps (1e7 is about 17 ms); large, so the two barrier wake-ups a round (50-100 us each on a VM) stay near 1%",
        },
    ],
    in_profiles: true,
    build: |params| Ok(Box::new(Amdahl { params })),
};

workload_type! {
    Amdahl = INFO + async_native;
    fn requirements(&self) -> Requirements {
        Requirements::shared_lockstep("its workers meet at a barrier twice a round")
    }
    fn prepare(&self, shape: RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError> {
        let fraction = self.params.float("serial_fraction");
        let round = self.params.int("round_steps") as f64;
        let parallel_total = (1.0 - fraction) * round;
        let parallel_steps = match shape.scaling {
            Scaling::Strong => parallel_total / shape.workers as f64,
            Scaling::Weak => parallel_total,
        };
        Ok(Arc::new(AmdahlRun {
            serial_steps: (fraction * round).round() as u64,
            parallel_steps: parallel_steps.round() as u64,
            barrier: Barrier::new(shape.workers),
            async_barrier: tokio::sync::Barrier::new(shape.workers),
        }))
    }
}

struct AmdahlRun {
    serial_steps: u64,
    parallel_steps: u64,
    barrier: Barrier,
    async_barrier: tokio::sync::Barrier,
}

impl SharedRun for AmdahlRun {
    fn worker(self: Arc<Self>, index: usize) -> Result<Box<dyn WorkerOp>, WorkloadError> {
        Ok(Box::new(RoundOp { run: self, index }))
    }
}

struct RoundOp {
    run: Arc<AmdahlRun>,
    index: usize,
}

impl RoundOp {
    fn serial_part(&self, op_index: u64) -> u64 {
        if self.index == 0 {
            spin_work(self.run.serial_steps, op_index)
        } else {
            0
        }
    }
}

impl WorkerOp for RoundOp {
    fn run_op(&mut self, op_index: u64) -> Result<u64, OpError> {
        let serial = self.serial_part(op_index);
        self.run.barrier.wait();
        let parallel = spin_work(self.run.parallel_steps, op_index ^ self.index as u64);
        self.run.barrier.wait();
        Ok(serial ^ parallel)
    }

    fn as_async(&mut self) -> Option<&mut dyn AsyncWorkerOp> {
        Some(self)
    }
}

impl AsyncWorkerOp for RoundOp {
    fn run_op_async(&mut self, op_index: u64) -> BoxFuture<'_, Result<u64, OpError>> {
        Box::pin(async move {
            let serial = self.serial_part(op_index);
            self.run.async_barrier.wait().await;
            let parallel = spin_work(self.run.parallel_steps, op_index ^ self.index as u64);
            self.run.async_barrier.wait().await;
            Ok(serial ^ parallel)
        })
    }
}
