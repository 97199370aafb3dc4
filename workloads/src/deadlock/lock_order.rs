//! `deadlock/lock-order`: every op takes two locks, A and B, works while
//! holding both, and lets them go. With `order=consistent` every worker
//! takes A then B, and the run completes. With `order=inverted` odd
//! workers take B then A: sooner or later one holds A waiting for B while
//! another holds B waiting for A, and neither moves again.
//!
//! A watchdog thread (one per run) watches the workers' op counts. When no
//! op has completed for `watchdog_ms` while some worker waits for a lock, it
//! writes down which worker holds which lock and waits for which, and tells
//! the waiting workers to give up: they wait with `try_lock_for` in short
//! slices, blocking, never spinning, so they can. Their op fails with an
//! [`OpError::deadlock`], and the harness records the
//! trial as `deadlocked`; the run goes on.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;

use crate::kernel::spin_work;
use crate::params::{ParamKind, ParamSpec};
use crate::{OpError, Requirements, RunShape, SharedRun, WorkerOp, WorkloadError, WorkloadInfo};

/// Registry entry.
pub static INFO: WorkloadInfo = WorkloadInfo {
    id: "deadlock/lock-order",
    summary: "two locks per op, taken in the same order (completes) or in opposite orders by odd workers (deadlocks; a watchdog reports it)",
    params: &[
        ParamSpec {
            name: "order",
            kind: ParamKind::Choice(&["consistent", "inverted"]),
            default: "consistent",
            help: "consistent: every worker takes A then B; inverted: odd workers take B then A",
        },
        ParamSpec {
            name: "hold_steps",
            kind: ParamKind::Int { min: 0, max: 1_000_000_000 },
            default: "2000",
            help: "work between taking the first and the second lock, and again holding both, in spin steps",
        },
        ParamSpec {
            name: "watchdog_ms",
            kind: ParamKind::Int { min: 10, max: 3_600_000 },
            default: "1000",
            help: "no op completing for this long while a worker waits for a lock counts as a deadlock",
        },
    ],
    in_profiles: false,
    build: |params| Ok(Box::new(LockOrder { params })),
};

/// How long one blocking wait for a lock lasts before checking whether the
/// watchdog has given up.
const WAIT_SLICE: Duration = Duration::from_millis(5);

const NONE: u8 = 0;
const LOCK_A: u8 = 1;
const LOCK_B: u8 = 2;

workload_type! {
    LockOrder = INFO;
    fn requirements(&self) -> Requirements {
        Requirements::shared("its workers take the same two locks in shared memory")
    }
    fn prepare(&self, shape: RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError> {
        let workers = shape.workers.max(1);
        let run = Arc::new(LockOrderRun {
            locks: [parking_lot::Mutex::new(()), parking_lot::Mutex::new(())],
            inverted: self.params.text("order") == "inverted",
            hold_steps: self.params.int("hold_steps") as u64,
            workers: (0..workers)
                .map(|_| CachePadded::new(WorkerState::default()))
                .collect(),
            gave_up: AtomicBool::new(false),
            report: Mutex::new(None),
        });
        let watchdog_after = Duration::from_millis(self.params.int("watchdog_ms") as u64);
        let weak = Arc::downgrade(&run);
        std::thread::Builder::new()
            .name("corebench-watchdog".into())
            .spawn(move || watch(weak, watchdog_after))
            .map_err(|e| WorkloadError::Setup {
                workload: INFO.id,
                reason: format!("cannot start the watchdog: {e}"),
            })?;
        Ok(run)
    }
}

/// What one worker is doing, for the watchdog.
#[derive(Default)]
struct WorkerState {
    ops: AtomicU64,
    holding: AtomicU8,
    waiting: AtomicU8,
}

struct LockOrderRun {
    locks: [parking_lot::Mutex<()>; 2],
    inverted: bool,
    hold_steps: u64,
    workers: Vec<CachePadded<WorkerState>>,
    gave_up: AtomicBool,
    report: Mutex<Option<String>>,
}

impl LockOrderRun {
    fn describe(&self) -> String {
        let name = |locks: u8| match locks {
            LOCK_A => "A",
            LOCK_B => "B",
            l if l == LOCK_A | LOCK_B => "A and B",
            _ => "nothing",
        };
        self.workers
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let waiting = w.waiting.load(Ordering::Relaxed);
                format!(
                    "worker {i} holds {}{}",
                    name(w.holding.load(Ordering::Relaxed)),
                    if waiting == NONE {
                        String::new()
                    } else {
                        format!(" and waits for {}", name(waiting))
                    }
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The watchdog: wakes every quarter period, and gives up for the workers
/// when their op counts have not moved for a whole period while one waits.
/// Ends when the run is dropped.
fn watch(run: Weak<LockOrderRun>, after: Duration) {
    let mut last_total = u64::MAX;
    let mut since = Instant::now();
    loop {
        std::thread::sleep(after / 4);
        let Some(run) = run.upgrade() else {
            return;
        };
        let total: u64 = run
            .workers
            .iter()
            .map(|w| w.ops.load(Ordering::Relaxed))
            .sum();
        let waiting = run
            .workers
            .iter()
            .any(|w| w.waiting.load(Ordering::Relaxed) != NONE);
        if total != last_total || !waiting {
            last_total = total;
            since = Instant::now();
            continue;
        }
        if since.elapsed() >= after && !run.gave_up.load(Ordering::Relaxed) {
            let description = format!(
                "no op completed for {} ms: {}",
                after.as_millis(),
                run.describe()
            );
            *run.report.lock().unwrap_or_else(|p| p.into_inner()) = Some(description);
            run.gave_up.store(true, Ordering::Relaxed);
        }
    }
}

impl SharedRun for LockOrderRun {
    fn worker(self: Arc<Self>, index: usize) -> Result<Box<dyn WorkerOp>, WorkloadError> {
        Ok(Box::new(LockOrderOp { run: self, index }))
    }

    fn counters(&self) -> std::collections::BTreeMap<String, f64> {
        std::iter::once((
            "deadlocks_detected".to_string(),
            f64::from(u8::from(self.gave_up.load(Ordering::Relaxed))),
        ))
        .collect()
    }
}

struct LockOrderOp {
    run: Arc<LockOrderRun>,
    index: usize,
}

impl LockOrderOp {
    /// Takes lock `which`, waiting in slices so the watchdog can stop us.
    fn take(&self, which: u8) -> Result<parking_lot::MutexGuard<'_, ()>, OpError> {
        let run = &*self.run;
        let me = &run.workers[self.index % run.workers.len()];
        let lock = &run.locks[usize::from(which == LOCK_B)];
        me.waiting.store(which, Ordering::Relaxed);
        loop {
            if let Some(guard) = lock.try_lock_for(WAIT_SLICE) {
                me.waiting.store(NONE, Ordering::Relaxed);
                me.holding.fetch_or(which, Ordering::Relaxed);
                return Ok(guard);
            }
            if run.gave_up.load(Ordering::Relaxed) {
                let report = run.report.lock().unwrap_or_else(|p| p.into_inner()).clone();
                me.waiting.store(NONE, Ordering::Relaxed);
                return Err(OpError::deadlock(&report.unwrap_or_else(|| run.describe())));
            }
        }
    }
}

impl WorkerOp for LockOrderOp {
    fn run_op(&mut self, op_index: u64) -> Result<u64, OpError> {
        let run = &*self.run;
        let me = &run.workers[self.index % run.workers.len()];
        let (first, second) = if run.inverted && self.index % 2 == 1 {
            (LOCK_B, LOCK_A)
        } else {
            (LOCK_A, LOCK_B)
        };
        let result = (|| {
            let _first = self.take(first)?;
            let between = spin_work(run.hold_steps, op_index);
            let _second = self.take(second)?;
            Ok(between ^ spin_work(run.hold_steps, op_index))
        })();
        me.holding.store(NONE, Ordering::Relaxed);
        if result.is_ok() {
            me.ops.fetch_add(1, Ordering::Relaxed);
        }
        result
    }
}
