//! `io/sleep`: a pure timed wait, the books' "simulated IO". The sync op
//! blocks its thread in `thread::sleep`; the async op awaits the runtime's
//! timer, which frees the thread for other tasks (tokio's timer ticks in
//! whole milliseconds, so its sleeps round up: the report shows it).
//! `blocking=true` makes the async op call `thread::sleep` instead: the
//! classic mistake of a blocking call inside a task, which stalls every
//! task queued on that runtime thread (`run --wall-profile` flags it).

use std::sync::Arc;
use std::time::Duration;

use crate::params::{ParamKind, ParamSpec};
use crate::{
    AsyncWorkerOp, BoxFuture, CloneRun, OpError, RunShape, SharedRun, WorkerOp, WorkloadError,
    WorkloadInfo,
};

/// How long each op waits.
const MS: ParamSpec = ParamSpec {
    name: "ms",
    kind: ParamKind::Float {
        min: 0.0,
        max: 60_000.0,
    },
    default: "1",
    help: "how long each op waits, in ms",
};

/// Whether the async op blocks its runtime thread.
const BLOCKING: ParamSpec = ParamSpec {
    name: "blocking",
    kind: ParamKind::Bool,
    default: "false",
    help: "in the async models, wait with thread::sleep inside the task (a blocking call on an executor thread) instead of the runtime's timer",
};

/// Registry entry.
pub static INFO: WorkloadInfo = WorkloadInfo {
    id: "io/sleep",
    summary: "a pure timed wait per op (thread::sleep, or the runtime's timer in the async models)",
    params: &[MS, BLOCKING],
    in_profiles: false,
    build: |params| Ok(Box::new(SleepWorkload { params })),
};

workload_type! {
    SleepWorkload = INFO + async_native + io_bound;
    fn prepare(&self, _shape: RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError> {
        Ok(Arc::new(CloneRun(SleepOp {
            wait: Duration::from_secs_f64(self.params.float("ms") / 1e3),
            blocking: self.params.bool("blocking"),
        })))
    }
}

#[derive(Clone)]
struct SleepOp {
    wait: Duration,
    /// Block the runtime thread in the async op too.
    blocking: bool,
}

impl WorkerOp for SleepOp {
    fn run_op(&mut self, _op_index: u64) -> Result<u64, OpError> {
        std::thread::sleep(self.wait);
        Ok(1)
    }

    fn as_async(&mut self) -> Option<&mut dyn AsyncWorkerOp> {
        Some(self)
    }
}

impl AsyncWorkerOp for SleepOp {
    fn run_op_async(&mut self, _op_index: u64) -> BoxFuture<'_, Result<u64, OpError>> {
        Box::pin(async move {
            if self.blocking {
                std::thread::sleep(self.wait);
            } else {
                tokio::time::sleep(self.wait).await;
            }
            Ok(1)
        })
    }
}
