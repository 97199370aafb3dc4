//! `cargo bench -p corebench --bench dispatch`: each execution model's
//! dispatch floor, from the primitives up.
//!
//! - The primitives: thread spawn + join, a two-thread barrier round trip,
//!   rayon `join` and an empty `par_iter` batch, tokio spawn + await on the
//!   multi-thread and current-thread runtimes, and a child process from
//!   spawn to "ready" (the `process` model's start, per child).
//! - The models themselves: the time per empty op (`synthetic/noop`) of
//!   every model at one worker, driven through `ExecutionModel::run_trial`
//!   exactly as `corebench run` drives it; for `pool` this is the job
//!   submit-to-result round trip.

// criterion_group! generates undocumented public functions.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use corebench::models::{Model, TrialSpec};
use corebench::recorder::Recording;
use criterion::{criterion_group, Criterion};
use rayon::prelude::*;
use workloads::{parse_spec, Workload};

fn trial(workload: &Arc<dyn Workload>, ops: u64) -> TrialSpec {
    TrialSpec::bare(workload, 1, ops, Recording::PerOp)
}

fn primitives(c: &mut Criterion) {
    let mut group = c.benchmark_group("primitive");
    group.bench_function("thread_spawn_join", |b| {
        b.iter(|| std::thread::spawn(|| black_box(1)).join().expect("joins"))
    });

    let barrier = Arc::new(Barrier::new(2));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let helper = {
        let (barrier, stop) = (Arc::clone(&barrier), Arc::clone(&stop));
        std::thread::spawn(move || loop {
            barrier.wait();
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                return;
            }
        })
    };
    group.bench_function("barrier_round_trip_2_threads", |b| {
        b.iter(|| barrier.wait())
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    barrier.wait();
    helper.join().expect("helper ends");

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("rayon pool");
    group.bench_function("rayon_join", |b| {
        b.iter(|| pool.install(|| rayon::join(|| black_box(1), || black_box(2))))
    });
    group.bench_function("rayon_empty_par_iter_1000", |b| {
        b.iter(|| {
            pool.install(|| {
                (0..1000u32).into_par_iter().for_each(|i| {
                    black_box(i);
                })
            })
        })
    });

    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("tokio runtime");
    group.bench_function("tokio_spawn_await_multi_thread", |b| {
        b.iter(|| multi.block_on(async { tokio::spawn(async { black_box(1) }).await }))
    });
    let current = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime");
    group.bench_function("tokio_spawn_await_current_thread", |b| {
        b.iter(|| current.block_on(async { tokio::spawn(async { black_box(1) }).await }))
    });

    let noop: Arc<dyn Workload> = Arc::from(parse_spec("synthetic/noop").expect("noop"));
    let process = "process".parse::<Model>().expect("a listed model").build();
    group.sample_size(20);
    group.bench_function("process_child_spawn_to_ready", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let outcome = process.run_trial(&trial(&noop, 1)).expect("child runs");
                    Duration::from_nanos(outcome.spawn_ns.expect("spawn time"))
                })
                .sum()
        })
    });
    group.finish();
}

fn model_floors(c: &mut Criterion) {
    let noop: Arc<dyn Workload> = Arc::from(parse_spec("synthetic/noop").expect("noop"));
    let mut group = c.benchmark_group("model_empty_op");
    for &kind in corebench::models::ALL {
        let model = kind.build();
        group.bench_function(kind.name(), |b| {
            b.iter_custom(|iters| {
                let outcome = model
                    .run_trial(&trial(&noop, iters.max(1)))
                    .expect("noop trial runs");
                Duration::from_nanos(outcome.wall_ns)
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = primitives, model_floors
}

fn main() {
    // Children of the process model must run corebench, not this bench.
    std::env::set_var(
        corebench::models::process::COREBENCH_EXE_ENV,
        env!("CARGO_BIN_EXE_corebench"),
    );
    benches();
    Criterion::default().configure_from_args().final_summary();
}
