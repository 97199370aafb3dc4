//! `sync/semaphore`: a bounded resource, such as a connection pool, that
//! `permits` workers may hold at once. Every op does some work outside,
//! takes a permit, works holding it, and gives it back. The sync op uses a
//! counting semaphore built from a std `Mutex` and `Condvar` (std has no
//! semaphore; blocking, never spinning); the async models use tokio's
//! `Semaphore`, so a task waiting for a permit yields its thread.
//! `max_holders` records the most permits ever held at once, which must not
//! exceed `permits`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use crate::kernel::spin_work;
use crate::params::{ParamKind, ParamSpec};
use crate::{
    AsyncWorkerOp, BoxFuture, OpError, Requirements, RunShape, SharedRun, WorkerOp, WorkloadError,
    WorkloadInfo,
};

/// Registry entry.
pub static INFO: WorkloadInfo = WorkloadInfo {
    id: "sync/semaphore",
    summary: "a bounded resource of K permits (std Mutex+Condvar semaphore, tokio Semaphore in the async models)",
    params: &[
        ParamSpec {
            name: "permits",
            kind: ParamKind::Int { min: 1, max: 1_000_000 },
            default: "1",
            help: "how many workers may hold the resource at once",
        },
        ParamSpec {
            name: "cs_steps",
            kind: ParamKind::Int { min: 0, max: 1_000_000_000 },
            default: "2000",
            help: "work holding a permit, in spin steps",
        },
        ParamSpec {
            name: "outside_steps",
            kind: ParamKind::Int { min: 0, max: 1_000_000_000 },
            default: "2000",
            help: "work without a permit, in spin steps",
        },
    ],
    in_profiles: false,
    build: |params| Ok(Box::new(SemaphoreWorkload { params })),
};

workload_type! {
    SemaphoreWorkload = INFO + async_native;
    fn requirements(&self) -> Requirements {
        Requirements::shared("its workers share one pool of permits")
    }
    fn prepare(&self, _shape: RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError> {
        let permits = self.params.int("permits") as usize;
        Ok(Arc::new(SemaphoreRun {
            free: Mutex::new(permits),
            returned: Condvar::new(),
            async_permits: tokio::sync::Semaphore::new(permits),
            holders: AtomicU64::new(0),
            max_holders: AtomicU64::new(0),
            cs_steps: self.params.int("cs_steps") as u64,
            outside_steps: self.params.int("outside_steps") as u64,
        }))
    }
}

struct SemaphoreRun {
    free: Mutex<usize>,
    returned: Condvar,
    async_permits: tokio::sync::Semaphore,
    holders: AtomicU64,
    max_holders: AtomicU64,
    cs_steps: u64,
    outside_steps: u64,
}

impl SemaphoreRun {
    fn acquire(&self) {
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        while *free == 0 {
            free = self.returned.wait(free).unwrap_or_else(|p| p.into_inner());
        }
        *free -= 1;
    }

    fn release(&self) {
        *self.free.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.returned.notify_one();
    }

    /// Work done holding a permit, counting the holders on the way.
    fn held(&self, op_index: u64) -> u64 {
        let now = self.holders.fetch_add(1, Ordering::Relaxed) + 1;
        self.max_holders.fetch_max(now, Ordering::Relaxed);
        let work = spin_work(self.cs_steps, op_index);
        self.holders.fetch_sub(1, Ordering::Relaxed);
        work
    }
}

impl SharedRun for SemaphoreRun {
    fn worker(self: Arc<Self>, _index: usize) -> Result<Box<dyn WorkerOp>, WorkloadError> {
        Ok(Box::new(PermitOp { run: self }))
    }

    fn counters(&self) -> std::collections::BTreeMap<String, f64> {
        std::iter::once((
            "max_holders".to_string(),
            self.max_holders.load(Ordering::Relaxed) as f64,
        ))
        .collect()
    }
}

struct PermitOp {
    run: Arc<SemaphoreRun>,
}

impl WorkerOp for PermitOp {
    fn run_op(&mut self, op_index: u64) -> Result<u64, OpError> {
        let outside = spin_work(self.run.outside_steps, op_index);
        self.run.acquire();
        let inside = self.run.held(op_index);
        self.run.release();
        Ok(outside ^ inside)
    }

    fn as_async(&mut self) -> Option<&mut dyn AsyncWorkerOp> {
        Some(self)
    }
}

impl AsyncWorkerOp for PermitOp {
    fn run_op_async(&mut self, op_index: u64) -> BoxFuture<'_, Result<u64, OpError>> {
        Box::pin(async move {
            let outside = spin_work(self.run.outside_steps, op_index);
            let _permit = self
                .run
                .async_permits
                .acquire()
                .await
                .map_err(|e| OpError::new(format!("semaphore closed: {e}")))?;
            Ok(outside ^ self.run.held(op_index))
        })
    }
}
