//! `synthetic/faulty`: fails on purpose, to test that the harness turns a
//! failing workload into a failed record and carries on with the run.
//! Not part of any profile.

use std::sync::Arc;

use crate::params::{ParamKind, ParamSpec};
use crate::{CloneRun, OpError, RunShape, SharedRun, WorkerOp, WorkloadError, WorkloadInfo};

/// Registry entry.
pub static INFO: WorkloadInfo = WorkloadInfo {
    id: "synthetic/faulty",
    summary: "fails on purpose at a given op (panics, returns an error, hangs, or runs slow on a CPU); for testing the harness",
    params: &[
        ParamSpec {
            name: "mode",
            kind: ParamKind::Choice(&["panic", "error", "hang", "slow"]),
            default: "panic",
            help: "how the op fails: panic, return an error, block forever, or stay on a CPU for slow_ms",
        },
        ParamSpec {
            name: "slow_ms",
            kind: ParamKind::Int {
                min: 1,
                max: 3_600_000,
            },
            default: "3000",
            help: "with mode=slow, how long the op at at_op computes, in ms (busy, not asleep)",
        },
        ParamSpec {
            name: "at_op",
            kind: ParamKind::Int {
                min: 0,
                max: i64::MAX,
            },
            default: "0",
            help: "the op index that fails; ops before it succeed",
        },
    ],
    in_profiles: false,
    build: |params| Ok(Box::new(Faulty { params })),
};

workload_type! {
    Faulty = INFO;
    fn prepare(&self, _shape: RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError> {
        let mode = match self.params.text("mode") {
            "panic" => Fault::Panic,
            "hang" => Fault::Hang,
            "slow" => Fault::Slow(std::time::Duration::from_millis(
                self.params.int("slow_ms") as u64,
            )),
            _ => Fault::Error,
        };
        Ok(Arc::new(CloneRun(FaultyOp {
            mode,
            at_op: self.params.int("at_op") as u64,
        })))
    }
}

#[derive(Clone, Copy)]
enum Fault {
    Panic,
    Error,
    Hang,
    /// Computes for this long: an op past the trial's time limit that
    /// keeps a CPU busy until it ends.
    Slow(std::time::Duration),
}

#[derive(Clone)]
struct FaultyOp {
    mode: Fault,
    at_op: u64,
}

impl WorkerOp for FaultyOp {
    fn run_op(&mut self, op_index: u64) -> Result<u64, OpError> {
        if op_index != self.at_op {
            return Ok(crate::kernel::spin_work(1000, op_index));
        }
        match self.mode {
            Fault::Panic => panic!("synthetic/faulty panicked on purpose at op {op_index}"),
            Fault::Error => Err(OpError::new(format!(
                "synthetic/faulty failed on purpose at op {op_index}"
            ))),
            // Blocks without using CPU, as a deadlocked worker would.
            Fault::Hang => loop {
                std::thread::park();
            },
            Fault::Slow(how_long) => {
                let start = std::time::Instant::now();
                let mut folded = 0u64;
                while start.elapsed() < how_long {
                    folded = folded.wrapping_add(crate::kernel::spin_work(10_000, folded));
                }
                Ok(folded)
            }
        }
    }
}
