//! What the synchronization workloads' primitives cost on their own:
//! one lock/unlock or one atomic add, uncontended (one thread) and
//! contended (a second thread doing the same on the same object the whole
//! time). The `sync/counter` workload's ns per op at 1 and 2 workers
//! should be these plus its work outside the lock.
//!
//! `cargo bench -p workloads --bench primitives`

// criterion_group! generates undocumented public functions.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use criterion::{criterion_group, criterion_main, Criterion};

/// A shared object and how to touch it once.
trait Primitive: Send + Sync + 'static {
    fn touch(&self);
}

impl Primitive for Mutex<u64> {
    fn touch(&self) {
        *self.lock().unwrap_or_else(|p| p.into_inner()) += 1;
    }
}

impl Primitive for parking_lot::Mutex<u64> {
    fn touch(&self) {
        *self.lock() += 1;
    }
}

impl Primitive for std::sync::RwLock<u64> {
    fn touch(&self) {
        *self.write().unwrap_or_else(|p| p.into_inner()) += 1;
    }
}

impl Primitive for AtomicU64 {
    fn touch(&self) {
        self.fetch_add(1, Ordering::Relaxed);
    }
}

fn bench_one<P: Primitive>(c: &mut Criterion, name: &str, shared: Arc<P>) {
    let mut group = c.benchmark_group("primitive");
    group.bench_function(format!("{name}/uncontended"), |b| {
        b.iter(|| black_box(&*shared).touch())
    });
    // A second thread touches the same object until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let rival = {
        let (shared, stop) = (Arc::clone(&shared), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                shared.touch();
            }
        })
    };
    group.bench_function(format!("{name}/contended_2_threads"), |b| {
        b.iter(|| black_box(&*shared).touch())
    });
    stop.store(true, Ordering::Relaxed);
    rival.join().expect("rival ends");
    group.finish();
}

fn primitives(c: &mut Criterion) {
    bench_one(c, "std_mutex", Arc::new(Mutex::new(0u64)));
    bench_one(
        c,
        "parking_lot_mutex",
        Arc::new(parking_lot::Mutex::new(0u64)),
    );
    bench_one(
        c,
        "std_rwlock_write",
        Arc::new(std::sync::RwLock::new(0u64)),
    );
    bench_one(c, "atomic_fetch_add", Arc::new(AtomicU64::new(0)));
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_secs(1));
    targets = primitives
}
criterion_main!(benches);
