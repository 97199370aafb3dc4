//! `synthetic/faulty`: fails on purpose, to test that the harness turns a
//! failing workload into a failed record and carries on with the run.
//! Not part of any profile.

use std::sync::Arc;

use crate::params::{ParamKind, ParamSpec};
use crate::{CloneRun, OpError, RunShape, SharedRun, WorkerOp, WorkloadError, WorkloadInfo};

/// Registry entry.
pub static INFO: WorkloadInfo = WorkloadInfo {
    id: "synthetic/faulty",
    summary: "fails on purpose at a given op (panics, returns an error, hangs, runs slow or forever on a CPU, or runs out of memory); for testing the harness",
    params: &[
        ParamSpec {
            name: "mode",
            kind: ParamKind::Choice(&["panic", "error", "hang", "slow", "spin", "alloc"]),
            default: "panic",
            help: "how the op fails: panic, return an error, block forever, stay on a CPU for slow_ms, stay on a CPU forever (every op from at_op on), or ask for more memory than any machine has (64 TiB)",
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
            "spin" => Fault::Spin,
            "alloc" => Fault::Alloc,
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
    /// Computes forever, on every worker that reaches it.
    Spin,
    /// Asks for 64 TiB: the allocation fails, as in a machine out of
    /// memory, and Rust aborts the thread's process.
    Alloc,
}

#[derive(Clone)]
struct FaultyOp {
    mode: Fault,
    at_op: u64,
}

impl WorkerOp for FaultyOp {
    fn run_op(&mut self, op_index: u64) -> Result<u64, OpError> {
        let fails = match self.mode {
            Fault::Spin => op_index >= self.at_op,
            _ => op_index == self.at_op,
        };
        if !fails {
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
            Fault::Spin => {
                let mut folded = op_index;
                loop {
                    folded = std::hint::black_box(crate::kernel::spin_work(10_000, folded));
                }
            }
            Fault::Alloc => {
                let far_too_much: Vec<u8> = Vec::with_capacity(1 << 46);
                Ok(std::hint::black_box(far_too_much).capacity() as u64)
            }
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
