//! `synthetic/gil`: every op holds one global lock for a fraction of its
//! work, as CPython's global interpreter lock makes Python threads do.
//!
//! One op is `op_steps` units of [`spin_work`]: `locked_fraction` of them
//! inside the lock, the rest outside. With `locked_fraction=1` threads give
//! no speedup at all. Processes share no memory, so under the `process`
//! model each child builds its own lock, just as every Python process has
//! its own GIL: that is the threads-vs-processes experiment of the books.

use std::sync::{Arc, Mutex};

use crate::kernel::spin_work;
use crate::params::{ParamKind, ParamSpec};
use crate::{OpError, RunShape, SharedRun, WorkerOp, WorkloadError, WorkloadInfo};

/// Registry entry.
pub static INFO: WorkloadInfo = WorkloadInfo {
    id: "synthetic/gil",
    summary: "every op holds one global lock for a fraction of its work (CPython's GIL); each process has its own lock",
    params: &[
        ParamSpec {
            name: "locked_fraction",
            kind: ParamKind::Float { min: 0.0, max: 1.0 },
            default: "1",
            help: "fraction of each op's work done holding the global lock",
        },
        ParamSpec {
            name: "op_steps",
            kind: ParamKind::Int { min: 1, max: 1_000_000_000_000 },
            default: "20000",
            help: "work per op in spin steps (20000 is about 35 us)",
        },
    ],
    in_profiles: true,
    build: |params| Ok(Box::new(Gil { params })),
};

workload_type! {
    Gil = INFO;
    fn prepare(&self, _shape: RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError> {
        let steps = self.params.int("op_steps") as f64;
        let locked = (self.params.float("locked_fraction") * steps).round() as u64;
        Ok(Arc::new(GilRun {
            locked_steps: locked,
            free_steps: (steps as u64).saturating_sub(locked),
            lock: Mutex::new(()),
        }))
    }
}

struct GilRun {
    locked_steps: u64,
    free_steps: u64,
    lock: Mutex<()>,
}

impl SharedRun for GilRun {
    fn worker(self: Arc<Self>, _index: usize) -> Result<Box<dyn WorkerOp>, WorkloadError> {
        Ok(Box::new(GilOp { run: self }))
    }
}

struct GilOp {
    run: Arc<GilRun>,
}

impl WorkerOp for GilOp {
    fn run_op(&mut self, op_index: u64) -> Result<u64, OpError> {
        let free = spin_work(self.run.free_steps, op_index);
        // A worker that panicked while holding the lock poisons it; the
        // lock guards no data, so the others carry on.
        let _held = self.run.lock.lock().unwrap_or_else(|p| p.into_inner());
        Ok(free ^ spin_work(self.run.locked_steps, op_index))
    }
}
