//! `synthetic/noop`: an op that does nothing. The harness runs it through
//! every execution model to measure the model's dispatch floor: what one op
//! costs when the op itself costs nothing. Not part of any profile.

use std::sync::Arc;

use crate::{CloneRun, OpError, RunShape, SharedRun, WorkerOp, WorkloadError, WorkloadInfo};

/// Registry entry.
pub static INFO: WorkloadInfo = WorkloadInfo {
    id: "synthetic/noop",
    summary: "an empty op; measures each model's dispatch floor",
    params: &[],
    in_profiles: false,
    build: |params| Ok(Box::new(Noop { params })),
};

workload_type! {
    Noop = INFO;
    fn prepare(&self, _shape: RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError> {
        Ok(Arc::new(CloneRun(NoopOp)))
    }
}

#[derive(Clone)]
struct NoopOp;

impl WorkerOp for NoopOp {
    fn run_op(&mut self, op_index: u64) -> Result<u64, OpError> {
        Ok(op_index)
    }
}
