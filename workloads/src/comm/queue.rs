//! `comm/queue`: the books' producer/consumer over a shared queue, a
//! `Mutex<VecDeque>` with "not empty" and "not full" condvars, on the same
//! engine as `comm/channel` (see [`super`]), so its rows sit beside the
//! channel crates' in a comparison.

use std::sync::Arc;

use super::channel::ROLE_PARAMS;
use super::CommConfig;
use crate::params::{ParamKind, ParamSpec};
use crate::{Requirements, RunShape, SharedRun, WorkloadError, WorkloadInfo};

/// Registry entry.
pub static INFO: WorkloadInfo = WorkloadInfo {
    id: "comm/queue",
    summary: "producers and consumers over a Mutex<VecDeque> with two condvars (the books' queue)",
    params: &[
        ParamSpec {
            name: "impl",
            kind: ParamKind::Choice(&["mutex-condvar"]),
            default: "mutex-condvar",
            help: "the hand-written queue (compare with comm/channel)",
        },
        ROLE_PARAMS[0],
        ROLE_PARAMS[1],
        ROLE_PARAMS[2],
        ROLE_PARAMS[3],
    ],
    in_profiles: false,
    build: |params| Ok(Box::new(QueueWorkload { params })),
};

workload_type! {
    QueueWorkload = INFO;
    fn requirements(&self) -> Requirements {
        CommConfig::requirements()
    }
    fn prepare(&self, shape: RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError> {
        CommConfig::from(&self.params).prepare(INFO.id, &shape)
    }
}
