//! `cpu/calibrate`: the fixed reference kernel every run includes once,
//! under `seq` at one worker.
//!
//! It has no parameters on purpose: the same op on every machine, a chain
//! of dependent integer steps ([`spin_work`]) that runs from registers, so
//! its throughput tracks one core's clock speed and integer latency and
//! nothing else. Comparisons divide other throughputs by it to compare
//! machines of different clock speeds per core.

use std::sync::Arc;

use crate::kernel::spin_work;
use crate::{CloneRun, OpError, RunShape, SharedRun, WorkerOp, WorkloadError, WorkloadInfo};

/// Spin steps per op: about 35 µs on the development machine.
const STEPS_PER_OP: u64 = 20_000;

/// Registry entry.
pub static INFO: WorkloadInfo = WorkloadInfo {
    id: "cpu/calibrate",
    summary: "fixed single-core reference kernel; every run includes it once (seq, 1 worker) to normalise across machines",
    params: &[],
    in_profiles: false,
    build: |params| Ok(Box::new(Calibrate { params })),
};

workload_type! {
    Calibrate = INFO;
    fn prepare(&self, _shape: RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError> {
        Ok(Arc::new(CloneRun(CalibrateOp)))
    }
}

#[derive(Clone)]
struct CalibrateOp;

impl WorkerOp for CalibrateOp {
    fn run_op(&mut self, op_index: u64) -> Result<u64, OpError> {
        Ok(spin_work(STEPS_PER_OP, op_index))
    }
}
