//! The workload `exec/NAME` stands for in records: a name and the
//! parameter set, never prepared in-process.

use std::sync::Arc;

use workloads::{ParamValues, RunShape, SharedRun, Workload, WorkloadError, WorkloadInfo};

/// The workload `exec/NAME` stands for in records: its runs are the
/// program's, so it is never prepared in-process.
pub(super) struct ExecWorkload {
    info: &'static WorkloadInfo,
    params: ParamValues,
    io_bound: bool,
}

impl ExecWorkload {
    pub(super) fn new(name: &str, io_bound: bool, params: ParamValues) -> Self {
        let info = Box::leak(Box::new(WorkloadInfo {
            id: Box::leak(format!("exec/{name}").into_boxed_str()),
            summary: "a program run by corebench exec",
            params: &[],
            in_profiles: false,
            build: |_| Err("exec workloads are run by corebench exec".to_string()),
        }));
        ExecWorkload {
            info,
            params,
            io_bound,
        }
    }
}

impl Workload for ExecWorkload {
    fn info(&self) -> &'static WorkloadInfo {
        self.info
    }

    fn params(&self) -> &ParamValues {
        &self.params
    }

    fn io_bound(&self) -> bool {
        self.io_bound
    }

    fn prepare(&self, _shape: RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError> {
        Err(WorkloadError::Setup {
            workload: self.info.id,
            reason: "a program run by corebench exec is not prepared in-process".to_string(),
        })
    }
}
