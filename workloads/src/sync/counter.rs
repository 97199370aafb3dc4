//! `sync/counter`: every op increments a shared counter, through one of
//! six implementations: a `std` mutex, a `parking_lot` mutex, a `std`
//! rwlock (with a share of read-only ops), an atomic `fetch_add`, and one
//! counter per worker, either packed next to each other (false sharing on
//! purpose: the cores fight over cache lines they do not share data on) or
//! each on its own cache line (`CachePadded`). The counters end with
//! exactly the number of writes made, which the record's `expected_count`,
//! `actual_count` and `lost_updates` show.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use crossbeam_utils::CachePadded;

use super::Tally;
use crate::kernel::spin_work;
use crate::params::{ParamKind, ParamSpec};
use crate::{OpError, Requirements, RunShape, SharedRun, WorkerOp, WorkloadError, WorkloadInfo};

/// The implementations, as spelled in `impl=`.
pub const IMPLS: &[&str] = &[
    "std-mutex",
    "parking_lot-mutex",
    "rwlock",
    "atomic",
    "sharded",
    "sharded-padded",
];

/// Registry entry.
pub static INFO: WorkloadInfo = WorkloadInfo {
    id: "sync/counter",
    summary: "increment a shared counter: std or parking_lot mutex, rwlock, atomic, or per-worker shards packed (false sharing) or padded",
    params: &[
        ParamSpec {
            name: "impl",
            kind: ParamKind::Choice(IMPLS),
            default: "std-mutex",
            help: "how the counter is shared",
        },
        ParamSpec {
            name: "cs_steps",
            kind: ParamKind::Int { min: 0, max: 1_000_000_000 },
            default: "50",
            help: "work inside the critical section, in spin steps (about 1.75 ns each)",
        },
        ParamSpec {
            name: "outside_steps",
            kind: ParamKind::Int { min: 0, max: 1_000_000_000 },
            default: "3000",
            help: "work outside the critical section, in spin steps",
        },
        ParamSpec {
            name: "locks",
            kind: ParamKind::Int { min: 1, max: 65_536 },
            default: "1",
            help: "locks the counter is striped over (mutex and rwlock impls); op i takes lock i mod locks",
        },
        ParamSpec {
            name: "read_ratio",
            kind: ParamKind::Float { min: 0.0, max: 1.0 },
            default: "0.5",
            help: "share of ops that only read (rwlock impl)",
        },
    ],
    in_profiles: false,
    build: |params| Ok(Box::new(Counter { params })),
};

/// The shared counter, one variant per implementation. Locks and padded
/// shards sit on cache lines of their own; `Packed` shards do not.
enum Store {
    StdMutex(Vec<CachePadded<Mutex<u64>>>),
    ParkingLot(Vec<CachePadded<parking_lot::Mutex<u64>>>),
    RwLock(Vec<CachePadded<RwLock<u64>>>),
    Atomic(CachePadded<AtomicU64>),
    Packed(Vec<AtomicU64>),
    Padded(Vec<CachePadded<AtomicU64>>),
}

workload_type! {
    Counter = INFO;
    fn requirements(&self) -> Requirements {
        Requirements::shared("its workers increment one counter in shared memory")
    }
    fn prepare(&self, shape: RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError> {
        let locks = self.params.int("locks") as usize;
        let workers = shape.workers.max(1);
        let store = match self.params.text("impl") {
            "std-mutex" => Store::StdMutex(
                (0..locks)
                    .map(|_| CachePadded::new(Mutex::new(0)))
                    .collect(),
            ),
            "parking_lot-mutex" => Store::ParkingLot(
                (0..locks)
                    .map(|_| CachePadded::new(parking_lot::Mutex::new(0)))
                    .collect(),
            ),
            "rwlock" => Store::RwLock(
                (0..locks)
                    .map(|_| CachePadded::new(RwLock::new(0)))
                    .collect(),
            ),
            "atomic" => Store::Atomic(CachePadded::new(AtomicU64::new(0))),
            "sharded" => Store::Packed((0..workers).map(|_| AtomicU64::new(0)).collect()),
            _ => Store::Padded(
                (0..workers)
                    .map(|_| CachePadded::new(AtomicU64::new(0)))
                    .collect(),
            ),
        };
        Ok(Arc::new(CounterRun {
            store,
            cs_steps: self.params.int("cs_steps") as u64,
            outside_steps: self.params.int("outside_steps") as u64,
            read_per_mille: (self.params.float("read_ratio") * 1000.0).round() as u64,
            writes: Tally::new(workers),
        }))
    }
}

struct CounterRun {
    store: Store,
    cs_steps: u64,
    outside_steps: u64,
    read_per_mille: u64,
    writes: Tally,
}

impl CounterRun {
    fn actual(&self) -> u64 {
        match &self.store {
            Store::StdMutex(locks) => locks
                .iter()
                .map(|l| *l.lock().unwrap_or_else(|p| p.into_inner()))
                .sum(),
            Store::ParkingLot(locks) => locks.iter().map(|l| *l.lock()).sum(),
            Store::RwLock(locks) => locks
                .iter()
                .map(|l| *l.read().unwrap_or_else(|p| p.into_inner()))
                .sum(),
            Store::Atomic(a) => a.load(Ordering::Relaxed),
            Store::Packed(shards) => shards.iter().map(|s| s.load(Ordering::Relaxed)).sum(),
            Store::Padded(shards) => shards.iter().map(|s| s.load(Ordering::Relaxed)).sum(),
        }
    }
}

impl SharedRun for CounterRun {
    fn worker(self: Arc<Self>, index: usize) -> Result<Box<dyn WorkerOp>, WorkloadError> {
        Ok(Box::new(CounterOp {
            run: self,
            index,
            writes: 0,
        }))
    }

    fn counters(&self) -> std::collections::BTreeMap<String, f64> {
        self.writes.correctness_counters(self.actual())
    }
}

struct CounterOp {
    run: Arc<CounterRun>,
    index: usize,
    writes: u64,
}

impl WorkerOp for CounterOp {
    fn run_op(&mut self, op_index: u64) -> Result<u64, OpError> {
        let run = &*self.run;
        let outside = spin_work(run.outside_steps, op_index);
        let inside = |value: &mut u64| {
            *value += 1;
            spin_work(run.cs_steps, *value)
        };
        let pick = |len: usize| (op_index % len as u64) as usize;
        let result = match &run.store {
            Store::StdMutex(locks) => inside(
                &mut locks[pick(locks.len())]
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()),
            ),
            Store::ParkingLot(locks) => inside(&mut locks[pick(locks.len())].lock()),
            Store::RwLock(locks) => {
                let lock = &locks[pick(locks.len())];
                // A fixed, well-mixed choice per op of reading or writing.
                if op_index.wrapping_mul(0x9E37_79B9_7F4A_7C15) % 1000 < run.read_per_mille {
                    let value = *lock.read().unwrap_or_else(|p| p.into_inner());
                    return Ok(outside ^ spin_work(run.cs_steps, value));
                }
                inside(&mut lock.write().unwrap_or_else(|p| p.into_inner()))
            }
            Store::Atomic(counter) => {
                counter.fetch_add(1, Ordering::Relaxed) ^ spin_work(run.cs_steps, op_index)
            }
            Store::Packed(shards) => {
                shards[self.index % shards.len()].fetch_add(1, Ordering::Relaxed)
            }
            Store::Padded(shards) => {
                shards[self.index % shards.len()].fetch_add(1, Ordering::Relaxed)
            }
        };
        self.writes += 1;
        run.writes.set(self.index, self.writes);
        Ok(outside ^ result)
    }
}
