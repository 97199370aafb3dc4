//! `race/lost-update`: the unsynchronized read-modify-write of the books.
//! Every op reads a shared counter, works a little (`window_steps`), and
//! writes back the value it read plus one. Two workers that read the same
//! value both write the same result, and one increment is lost.
//!
//! The load and the store are separate relaxed atomics, so the race is on
//! the *logic*, not a data race in Rust's sense: the program is defined,
//! and wrong. `impl=fetch-add` is the correct version for comparison. The
//! record carries `expected_count` (increments made), `actual_count` (the
//! counter at the end) and `lost_updates` (the difference).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam_utils::CachePadded;

use crate::kernel::spin_work;
use crate::params::{ParamKind, ParamSpec};
use crate::sync::Tally;
use crate::{OpError, Requirements, RunShape, SharedRun, WorkerOp, WorkloadError, WorkloadInfo};

/// Registry entry.
pub static INFO: WorkloadInfo = WorkloadInfo {
    id: "race/lost-update",
    summary: "unsynchronized read-modify-write of a shared counter (relaxed load, then store): counts the increments lost",
    params: &[
        ParamSpec {
            name: "impl",
            kind: ParamKind::Choice(&["load-store", "fetch-add"]),
            default: "load-store",
            help: "load-store races; fetch-add is the correct atomic increment",
        },
        ParamSpec {
            name: "window_steps",
            kind: ParamKind::Int { min: 0, max: 1_000_000_000 },
            default: "200",
            help: "work between the load and the store (the race window), in spin steps",
        },
        ParamSpec {
            name: "outside_steps",
            kind: ParamKind::Int { min: 0, max: 1_000_000_000 },
            default: "3000",
            help: "work outside the read-modify-write, in spin steps",
        },
    ],
    in_profiles: false,
    build: |params| Ok(Box::new(LostUpdate { params })),
};

workload_type! {
    LostUpdate = INFO;
    fn requirements(&self) -> Requirements {
        Requirements::shared("its workers update one counter in shared memory")
    }
    fn prepare(&self, shape: RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError> {
        Ok(Arc::new(LostUpdateRun {
            counter: CachePadded::new(AtomicU64::new(0)),
            racy: self.params.text("impl") == "load-store",
            window_steps: self.params.int("window_steps") as u64,
            outside_steps: self.params.int("outside_steps") as u64,
            increments: Tally::new(shape.workers),
        }))
    }
}

struct LostUpdateRun {
    counter: CachePadded<AtomicU64>,
    racy: bool,
    window_steps: u64,
    outside_steps: u64,
    increments: Tally,
}

impl SharedRun for LostUpdateRun {
    fn worker(self: Arc<Self>, index: usize) -> Result<Box<dyn WorkerOp>, WorkloadError> {
        Ok(Box::new(LostUpdateOp {
            run: self,
            index,
            increments: 0,
        }))
    }

    fn counters(&self) -> BTreeMap<String, f64> {
        self.increments
            .correctness_counters(self.counter.load(Ordering::Relaxed))
    }
}

struct LostUpdateOp {
    run: Arc<LostUpdateRun>,
    index: usize,
    increments: u64,
}

impl WorkerOp for LostUpdateOp {
    fn run_op(&mut self, op_index: u64) -> Result<u64, OpError> {
        let run = &*self.run;
        let outside = spin_work(run.outside_steps, op_index);
        let window;
        if run.racy {
            let seen = run.counter.load(Ordering::Relaxed);
            window = spin_work(run.window_steps, seen);
            run.counter.store(seen + 1, Ordering::Relaxed);
        } else {
            window = spin_work(run.window_steps, op_index);
            run.counter.fetch_add(1, Ordering::Relaxed);
        }
        self.increments += 1;
        run.increments.set(self.index, self.increments);
        Ok(outside ^ window)
    }
}
