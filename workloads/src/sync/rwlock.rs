//! `sync/rwlock`: readers and writers on one reader/writer lock, std's or
//! parking_lot's. Workers `0..writers` only write, the rest only read, so
//! each worker's op count (and the record's fairness) shows whether writers
//! starve behind a stream of readers. The writes are tallied, so the record
//! also proves none was lost.

use std::sync::Arc;

use super::Tally;
use crate::kernel::spin_work;
use crate::params::{ParamKind, ParamSpec};
use crate::{OpError, Requirements, RunShape, SharedRun, WorkerOp, WorkloadError, WorkloadInfo};

/// Registry entry.
pub static INFO: WorkloadInfo = WorkloadInfo {
    id: "sync/rwlock",
    summary: "dedicated writers and readers on one rwlock (std or parking_lot); per-worker counts show writer starvation",
    params: &[
        ParamSpec {
            name: "impl",
            kind: ParamKind::Choice(&["std", "parking_lot"]),
            default: "std",
            help: "whose RwLock",
        },
        ParamSpec {
            name: "writers",
            kind: ParamKind::Int { min: 0, max: 65_536 },
            default: "1",
            help: "workers 0..writers write; the others read",
        },
        ParamSpec {
            name: "cs_steps",
            kind: ParamKind::Int { min: 0, max: 1_000_000_000 },
            default: "500",
            help: "work holding the lock, in spin steps",
        },
        ParamSpec {
            name: "outside_steps",
            kind: ParamKind::Int { min: 0, max: 1_000_000_000 },
            default: "500",
            help: "work outside the lock, in spin steps",
        },
    ],
    in_profiles: false,
    build: |params| Ok(Box::new(RwLockWorkload { params })),
};

enum Lock {
    Std(std::sync::RwLock<u64>),
    ParkingLot(parking_lot::RwLock<u64>),
}

workload_type! {
    RwLockWorkload = INFO;
    fn requirements(&self) -> Requirements {
        Requirements::shared("its workers share one lock in memory")
    }
    fn prepare(&self, shape: RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError> {
        Ok(Arc::new(RwLockRun {
            lock: match self.params.text("impl") {
                "std" => Lock::Std(std::sync::RwLock::new(0)),
                _ => Lock::ParkingLot(parking_lot::RwLock::new(0)),
            },
            writers: self.params.int("writers") as usize,
            cs_steps: self.params.int("cs_steps") as u64,
            outside_steps: self.params.int("outside_steps") as u64,
            writes: Tally::new(shape.workers),
        }))
    }
}

struct RwLockRun {
    lock: Lock,
    writers: usize,
    cs_steps: u64,
    outside_steps: u64,
    writes: Tally,
}

impl SharedRun for RwLockRun {
    fn worker(self: Arc<Self>, index: usize) -> Result<Box<dyn WorkerOp>, WorkloadError> {
        let writer = index < self.writers;
        Ok(Box::new(RwLockOp {
            run: self,
            index,
            writer,
            writes: 0,
        }))
    }

    fn counters(&self) -> std::collections::BTreeMap<String, f64> {
        let actual = match &self.lock {
            Lock::Std(l) => *l.read().unwrap_or_else(|p| p.into_inner()),
            Lock::ParkingLot(l) => *l.read(),
        };
        self.writes.correctness_counters(actual)
    }
}

struct RwLockOp {
    run: Arc<RwLockRun>,
    index: usize,
    writer: bool,
    writes: u64,
}

impl WorkerOp for RwLockOp {
    fn run_op(&mut self, op_index: u64) -> Result<u64, OpError> {
        let run = &*self.run;
        let outside = spin_work(run.outside_steps, op_index);
        let inside = |value: u64| spin_work(run.cs_steps, value);
        let result = match (&run.lock, self.writer) {
            (Lock::Std(lock), true) => {
                let mut value = lock.write().unwrap_or_else(|p| p.into_inner());
                *value += 1;
                inside(*value)
            }
            (Lock::Std(lock), false) => inside(*lock.read().unwrap_or_else(|p| p.into_inner())),
            (Lock::ParkingLot(lock), true) => {
                let mut value = lock.write();
                *value += 1;
                inside(*value)
            }
            (Lock::ParkingLot(lock), false) => inside(*lock.read()),
        };
        if self.writer {
            self.writes += 1;
            run.writes.set(self.index, self.writes);
        }
        Ok(outside ^ result)
    }
}
