//! `cargo bench -p corebench --bench overhead`: what corebench adds to what it
//! measures.
//!
//! For `cpu/primes` at two op sizes (about 2 µs and about 20 µs), at 1 and
//! 2 workers, it compares the throughput corebench measures under `seq`,
//! `threads` and `rayon` with a hand-written loop doing exactly the same
//! work, timed only from outside: a plain loop, scoped threads with a
//! static split, and a rayon `par_iter`. Each pair runs interleaved,
//! A/B then B/A, for `ROUNDS` rounds in one process, and the overhead is the
//! median of the per-round time ratios minus one, with its range. Both
//! recording modes are measured. Goals: per-op mode at most 3% for ops of
//! 2 µs or more, batch mode at most 1%.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use corebench::models::{Model, TrialSpec};
use corebench::recorder::Recording;
use workloads::cpu::primes::count_primes;
use workloads::{parse_spec, Workload};

const ROUNDS: usize = 21;
const TRIAL: Duration = Duration::from_millis(150);
const FROM: u64 = 1_000_000;

/// The op of `cpu/primes` with `from=1000000`, exactly as the workload runs it.
fn primes_op(span: u64, op_index: u64) -> u64 {
    let start = FROM + (op_index % 16) * span;
    count_primes(start, start + span)
}

fn bare_loop(span: u64, ops: u64) -> Duration {
    let start = Instant::now();
    let mut sum = 0u64;
    for i in 0..ops {
        sum = sum.wrapping_add(primes_op(span, black_box(i)));
    }
    black_box(sum);
    start.elapsed()
}

fn bare_threads(span: u64, ops: u64, workers: u64) -> Duration {
    let start = Instant::now();
    std::thread::scope(|scope| {
        for w in 0..workers {
            let (lo, hi) = (ops * w / workers, ops * (w + 1) / workers);
            scope.spawn(move || {
                let mut sum = 0u64;
                for i in lo..hi {
                    sum = sum.wrapping_add(primes_op(span, black_box(i)));
                }
                black_box(sum)
            });
        }
    });
    start.elapsed()
}

fn bare_rayon(pool: &rayon::ThreadPool, span: u64, ops: u64) -> Duration {
    use rayon::prelude::*;
    let start = Instant::now();
    let sum: u64 = pool.install(|| (0..ops).into_par_iter().map(|i| primes_op(span, i)).sum());
    black_box(sum);
    start.elapsed()
}

fn corebench(
    model: Model,
    workload: &Arc<dyn Workload>,
    ops: u64,
    workers: usize,
    recording: Recording,
) -> Duration {
    let spec = TrialSpec::bare(workload, workers, ops, recording);
    let outcome = model.build().run_trial(&spec).expect("trial runs");
    assert_eq!(outcome.histogram.len(), ops, "every op recorded");
    Duration::from_nanos(outcome.wall_ns)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; a filter word, if any, is ignored.
    println!("corebench overhead against bare loops: cpu/primes, {ROUNDS} interleaved rounds, ~{} ms per trial", TRIAL.as_millis());
    println!(
        "{:<10} {:>7} {:>8} {:>8}  {:>10}  {:>22}  goal",
        "model", "workers", "op", "record", "overhead", "range (min .. max)"
    );
    let mut misses = 0;
    for span in [24u64, 300] {
        let workload: Arc<dyn Workload> = Arc::from(
            parse_spec(&format!("cpu/primes:span={span},from={FROM}")).expect("spec parses"),
        );
        // Size trials from a bare run: ops for about TRIAL at one worker.
        let probe = 2000;
        let per_op = bare_loop(span, probe).as_secs_f64() / probe as f64;
        let ops = (TRIAL.as_secs_f64() / per_op) as u64;
        let op_label = format!("{:.1}us", per_op * 1e6);
        for (name, workers) in [
            ("seq", 1usize),
            ("threads", 1),
            ("threads", 2),
            ("rayon", 1),
            ("rayon", 2),
        ] {
            let model: Model = name.parse().expect("a listed model");
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(workers)
                .build()
                .expect("rayon pool");
            let bare = || match name {
                "seq" => bare_loop(span, ops),
                "threads" => bare_threads(span, ops, workers as u64),
                _ => bare_rayon(&pool, span, ops),
            };
            for recording in [Recording::PerOp, Recording::Batch] {
                // One warm-up pair, then the measured rounds.
                corebench(model, &workload, ops / 10, workers, recording);
                bare();
                // A/B, then B/A: alternating the order cancels drift
                // (a neighbour's load, frequency changes) between the two.
                let mut ratios: Vec<f64> = (0..ROUNDS)
                    .map(|round| {
                        let (a, b) = if round % 2 == 0 {
                            let a = corebench(model, &workload, ops, workers, recording);
                            (a, bare())
                        } else {
                            let b = bare();
                            (corebench(model, &workload, ops, workers, recording), b)
                        };
                        a.as_secs_f64() / b.as_secs_f64()
                    })
                    .collect();
                let overhead = median(&mut ratios) - 1.0;
                let (low, high) = (ratios[0] - 1.0, ratios[ratios.len() - 1] - 1.0);
                let goal = match recording {
                    Recording::PerOp => 0.03,
                    Recording::Batch => 0.01,
                };
                let verdict = if overhead <= goal {
                    "met"
                } else {
                    misses += 1;
                    "MISSED"
                };
                println!(
                    "{:<10} {:>7} {:>8} {:>8}  {:>+9.2}%  {:>+9.2}% .. {:>+7.2}%  <= {:.0}% {verdict}",
                    model.name(),
                    workers,
                    op_label,
                    recording.as_str(),
                    overhead * 100.0,
                    low * 100.0,
                    high * 100.0,
                    goal * 100.0,
                );
            }
        }
    }
    println!("{misses} goal(s) missed; overhead = median(corebench time / bare time) - 1 over the rounds");
}
