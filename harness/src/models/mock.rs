//! A mock execution model for tests of the runner and of record building:
//! it runs nothing, and returns the outcome its script says for each trial
//! in turn (a measurement with given wall time, ops and CPU time, or a
//! typed failure), as hyperfine's `MockExecutor` serves its tests. Nothing
//! about it depends on the machine, so tests built on it are exact.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use crate::failure::Failure;
use crate::os::machine::MachineDelta;
use crate::os::usage::CpuTime;
use crate::placement::Placed;
use crate::recorder::new_histogram;

use super::{ExecutionModel, Model, ModelInfo, TrialOutcome, TrialSpec, WorkerOutcome};

/// What one scripted trial gives back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scripted {
    /// A measurement: each worker ran `ops_per_worker` ops of `op_ns` each,
    /// one after another, using `cpu_fraction_pct`% of its wall time on a
    /// CPU.
    Measured {
        /// Ops per worker.
        ops_per_worker: u64,
        /// Latency of every op, ns.
        op_ns: u64,
        /// CPU time as a percentage of the workers' wall time.
        cpu_fraction_pct: u64,
    },
    /// A measurement in which worker `worker` failed with `failure`.
    WorkerFailed {
        /// The worker that failed.
        worker: usize,
        /// Why.
        failure: Failure,
    },
    /// A measurement like `Measured` (at 100% CPU) beside another process
    /// that used a whole core throughout, over a window long enough to
    /// judge: a disturbed trial.
    Disturbed {
        /// Ops per worker.
        ops_per_worker: u64,
        /// Latency of every op, ns.
        op_ns: u64,
    },
    /// No measurement at all.
    Failed(Failure),
}

/// What the mock model is: a model like any other, declared in its own
/// file. Listing it is one line (`mock::MODEL`) in a list of models; built
/// from that list it measures every trial as 500 ops of 1 µs per worker.
pub const MODEL: Model = Model::new(&INFO);

const INFO: ModelInfo = ModelInfo::new(
    "mock",
    "scripted outcomes for tests; runs nothing",
    (120, 120, 120),
    || {
        Box::new(MockModel::new(vec![Scripted::Measured {
            ops_per_worker: 500,
            op_ns: 1_000,
            cpu_fraction_pct: 100,
        }]))
    },
);

/// The mock model: scripted trials, taken in order, the last one repeated.
pub struct MockModel {
    refusal: Option<String>,
    script: Mutex<VecDeque<Scripted>>,
    last: Mutex<Option<Scripted>>,
}

impl MockModel {
    /// A mock that plays `script`.
    pub fn new(script: Vec<Scripted>) -> Self {
        MockModel {
            refusal: None,
            script: Mutex::new(script.into()),
            last: Mutex::new(None),
        }
    }

    /// The same mock, refusing every workload with `reason`.
    pub fn refusing(mut self, reason: &str) -> Self {
        self.refusal = Some(reason.to_string());
        self
    }

    fn next(&self) -> Scripted {
        let mut script = self.script.lock().unwrap_or_else(|p| p.into_inner());
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(next) = script.pop_front() {
            *last = Some(next);
        }
        last.clone().unwrap_or(Scripted::Failed(Failure::failed(
            "the mock model has an empty script",
        )))
    }
}

impl ExecutionModel for MockModel {
    fn model(&self) -> Model {
        MODEL
    }

    fn check_support(
        &self,
        _workload: &dyn workloads::Workload,
        _workers: usize,
    ) -> Result<(), String> {
        self.refusal.clone().map_or(Ok(()), Err)
    }

    fn run_trial(&self, spec: &TrialSpec) -> Result<TrialOutcome, Failure> {
        let mut beside_a_hog = false;
        let (ops_per_worker, op_ns, cpu_pct, failed) = match self.next() {
            Scripted::Measured {
                ops_per_worker,
                op_ns,
                cpu_fraction_pct,
            } => (ops_per_worker, op_ns, cpu_fraction_pct, None),
            Scripted::Disturbed {
                ops_per_worker,
                op_ns,
            } => {
                beside_a_hog = true;
                (ops_per_worker, op_ns, 100, None)
            }
            Scripted::WorkerFailed { worker, failure } => (1, 1_000, 100, Some((worker, failure))),
            Scripted::Failed(failure) => return Err(failure),
        };
        let mut histogram = new_histogram();
        let workers: Vec<WorkerOutcome> = (0..spec.workers)
            .map(|index| {
                histogram
                    .record_n(op_ns.max(1), ops_per_worker)
                    .expect("op_ns is within the histogram's bounds");
                WorkerOutcome {
                    index,
                    pid: std::process::id(),
                    tid: index as u32,
                    placed: Placed {
                        core: spec.core_of(index).map(|c| c as u32),
                        cpus_allowed: spec.core_of(index).map(|c| c as u32).into_iter().collect(),
                    },
                    ops: ops_per_worker,
                    wall_ns: ops_per_worker * op_ns,
                    error: failed
                        .as_ref()
                        .filter(|(worker, _)| *worker == index)
                        .map(|(_, failure)| failure.clone()),
                }
            })
            .collect();
        let busy_ns = ops_per_worker * op_ns * spec.workers as u64 * cpu_pct / 100;
        let cpu = CpuTime {
            user_ns: busy_ns,
            sys_ns: 0,
        };
        let mut outcome = TrialOutcome::new(workers, histogram, cpu, 0, BTreeMap::new());
        if beside_a_hog {
            let wall_ns = ops_per_worker * op_ns;
            let tick_ns = crate::os::machine::tick_ns();
            outcome.machine = Some(MachineDelta {
                wall_ns,
                cpus: 2,
                busy_ns: busy_ns + wall_ns,
                total_ns: 2 * wall_ns,
                min_ticks: wall_ns / tick_ns,
                own_ns: busy_ns,
                ..MachineDelta::default()
            });
        }
        Ok(outcome)
    }
}
