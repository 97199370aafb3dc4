//! `cargo bench -p corebench --bench recorder`: what recording costs. A clock
//! read, a histogram record, one full timed sample (two clock reads and a
//! record), the harness's per-op paths on an empty op (`time_op`, one op
//! with its dynamic call and unwind guard, as pool jobs run; and the
//! chained loop of per-op mode, one clock read per op), the per-op share of
//! a batch in batch mode, and merging two full histograms.

// criterion_group! generates undocumented public functions.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use corebench::recorder::{new_histogram, Recording, WorkerRecorder, RECORD_BATCH_OPS};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use workloads::{parse_spec, RunShape, Scaling, WorkerOp};

fn noop() -> Box<dyn WorkerOp> {
    let workload = parse_spec("synthetic/noop").expect("noop parses");
    let shared = workload
        .prepare(RunShape::new(1, Scaling::Strong, 1_000_000))
        .expect("noop prepares");
    shared.worker(0).expect("noop builds")
}

fn recorder_costs(c: &mut Criterion) {
    let mut group = c.benchmark_group("recorder");
    group.bench_function("clock_read", |b| b.iter(|| black_box(Instant::now())));

    let mut histogram = new_histogram();
    let mut value = 1u64;
    group.bench_function("histogram_record", |b| {
        b.iter(|| {
            // Values across the range, so buckets are not all hot.
            value = value.wrapping_mul(6364136223846793005).wrapping_add(1);
            histogram.saturating_record(black_box(1 + (value >> 40)));
        })
    });

    let mut histogram = new_histogram();
    group.bench_function("timed_sample", |b| {
        b.iter(|| {
            let start = Instant::now();
            black_box(());
            histogram.saturating_record(start.elapsed().as_nanos() as u64);
        })
    });

    let mut op = noop();
    let mut recorder = WorkerRecorder::new(Recording::PerOp);
    let mut index = 0u64;
    group.bench_function("worker_recorder_time_op_empty_op", |b| {
        b.iter(|| {
            index += 1;
            recorder.time_op(op.as_mut(), index).expect("noop runs");
        })
    });

    for (name, mode) in [
        ("per_op_mode_chained_per_op_empty_op", Recording::PerOp),
        ("batch_mode_per_op_empty_op", Recording::Batch),
    ] {
        let mut recorder = WorkerRecorder::new(mode);
        let go_on = std::sync::atomic::AtomicBool::new(false);
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let batches = iters.div_ceil(RECORD_BATCH_OPS);
                let start = Instant::now();
                for batch in 0..batches {
                    let first = batch * RECORD_BATCH_OPS;
                    recorder
                        .time_range(op.as_mut(), first..first + RECORD_BATCH_OPS, &go_on)
                        .expect("noop runs");
                }
                // Scale the batches' time back to exactly `iters` ops.
                start
                    .elapsed()
                    .mul_f64(iters as f64 / (batches * RECORD_BATCH_OPS) as f64)
            })
        });
    }

    let mut a = new_histogram();
    let mut b_hist = new_histogram();
    for i in 0..100_000u64 {
        a.saturating_record(1 + i * 37 % 10_000_000);
        b_hist.saturating_record(1 + i * 91 % 1_000_000_000);
    }
    group.bench_function("merge_two_full_histograms", |b| {
        b.iter_batched_ref(
            || a.clone(),
            |merged| merged.add(&b_hist).expect("same bounds"),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = recorder_costs
}
criterion_main!(benches);
