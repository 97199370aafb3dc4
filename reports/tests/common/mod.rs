//! Helpers the reports test files share.
#![allow(dead_code)] // Each test file uses its own subset.

pub mod curves;

use std::path::Path;

use reports::schema::{KnownSeries, SeriesOrder};

/// The harness's seven models with their colours, as `corebench` hands
/// them to a report (its `models::report_series`): this crate cannot
/// depend on the harness, so its tests name the models themselves.
pub fn models() -> SeriesOrder {
    SeriesOrder(
        [
            ("seq", (0, 0, 0)),
            ("threads", (0, 114, 178)),
            ("pool", (230, 159, 0)),
            ("rayon", (0, 158, 115)),
            ("process", (213, 94, 0)),
            ("tokio", (204, 121, 167)),
            ("tokio-current", (86, 180, 233)),
        ]
        .map(|(name, colour)| KnownSeries {
            name: name.to_string(),
            colour,
            own_cost: String::new(),
        })
        .to_vec(),
    )
}

/// How many SVG charts a report folder holds.
pub fn svg_count(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "svg")
        })
        .count()
}

/// The workloads of the 64-core sample, with the serial fraction each
/// scales by, whether it is CPU-bound, and whether `process` can run it.
const SAMPLE_64_WORKLOADS: [(&str, f64, bool, bool); 15] = [
    ("cpu/primes", 0.002, true, true),
    ("cpu/sha256", 0.004, true, true),
    ("cpu/matmul", 0.01, true, true),
    ("cpu/nbody", 0.03, true, true),
    ("sync/counter", 0.4, true, false),
    ("sync/atomic", 0.2, true, false),
    ("sync/rwlock", 0.1, true, false),
    ("sync/barrier", 0.25, true, false),
    ("comm/channel", 0.15, true, true),
    ("comm/pipe", 0.08, true, true),
    ("io/sleep", 0.0, false, true),
    ("io/http", 0.02, false, true),
    ("io/file", 0.05, false, true),
    ("mixed/compress", 0.03, true, true),
    ("stream/pipeline", 0.12, true, true),
];

/// The speedup of `id` at `n` workers in the 64-core sample, with the CPU
/// time per op against one worker's: most workloads follow Amdahl's law
/// with their own serial fraction; three have the shapes a big machine
/// shows. `sync/counter` peaks inside the data (USL, σ = 0.05, κ = 0.003,
/// n* ≈ 18), `cpu/matmul` bends at the 32 physical cores (SMT siblings
/// add little past them, each op costing more), and `mixed/compress`
/// plateaus past 8 workers as its CPU time per op rises (bandwidth-bound).
fn sample_64_speedup(id: &str, serial: f64, cpu_bound: bool, n: f64) -> (f64, f64) {
    match id {
        "sync/counter" => (n / (1.0 + 0.05 * (n - 1.0) + 0.003 * n * (n - 1.0)), 1.0),
        "cpu/matmul" if n > 32.0 => (32.0 + (n - 32.0) * 0.2, 1.0 + (n - 32.0) / 32.0 * 0.65),
        "cpu/matmul" => (n * 0.99f64.powf(n.log2()), 1.0),
        "mixed/compress" if n > 8.0 => (8.0 + (n - 8.0) * 0.03, n / (8.0 + (n - 8.0) * 0.03)),
        "mixed/compress" => (n, 1.0),
        _ if cpu_bound => (1.0 / (serial + (1.0 - serial) / n), 1.0),
        _ => (n * (1.0 - serial * n.log2() / 6.0), 1.0),
    }
}

/// Writes a results folder from a made-up 64-CPU host (32 cores, 2-way
/// SMT): 15 workloads, every model at 1 to 64 workers, 2 trials each,
/// with throughput shaped by [`sample_64_speedup`], a little seeded
/// jitter, and `process` unsupported where workers share memory. It is
/// for looking at and testing the pages at the scale they must stay
/// readable at; the numbers mean nothing.
pub fn write_sample_64(dir: &Path) {
    use reports::schema::{CpuTopology, Status, WorkerRecord};
    let (mut host, template) = sample_host_and_record();
    host.label = Some("made-up 64-core host".into());
    host.hostname = "big".into();
    host.cpu_brand = "Made-up 64-core CPU".into();
    host.physical_cores = Some(32);
    host.logical_cores = 64;
    host.available_cores = (0..64).collect();
    host.topology = (0..64)
        .map(|cpu| CpuTopology {
            cpu,
            core_id: Some(cpu % 32),
            package_id: Some(0),
            siblings: vec![cpu % 32, cpu % 32 + 32],
        })
        .collect();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut jitter = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        1.0 + ((seed % 1000) as f64 / 1000.0 - 0.5) * 0.06
    };
    let mut lines = Vec::new();
    for (w, (id, serial, cpu_bound, process_ok)) in SAMPLE_64_WORKLOADS.iter().enumerate() {
        for (m, model) in models().0.iter().enumerate() {
            let counts: &[u32] = if model.name == "seq" {
                &[1]
            } else {
                &[1, 2, 4, 8, 16, 32, 64]
            };
            for &n in counts {
                for trial in 0..2 {
                    let mut r = template.clone();
                    r.workload.id = id.to_string();
                    r.workload.spec = id.to_string();
                    r.workload.params = Default::default();
                    r.model = model.name.to_string();
                    r.workers = n;
                    r.trial = trial;
                    r.placement.requested_cores = vec![None; n as usize];
                    if model.name == "process" && !process_ok {
                        r.status = Status::Unsupported;
                        r.ops = 0;
                        r.wall_ns = 0;
                        r.throughput_ops_s = 0.0;
                        r.histogram = None;
                        r.latency = None;
                        r.per_worker = Vec::new();
                        r.error = Some(format!("{id} cannot run under process: its workers share memory, and child processes share none"));
                        lines.push(serde_json::to_string(&r).unwrap());
                        continue;
                    }
                    let nf = f64::from(n);
                    let (speedup, inflation) = sample_64_speedup(id, *serial, *cpu_bound, nf);
                    let model_cost = 1.0 + 0.04 * m as f64;
                    let base_ops_s = 1000.0 * (w + 1) as f64 / model_cost;
                    let throughput = base_ops_s * speedup * jitter();
                    // Strong scaling: the same 640 ops split over the workers.
                    let ops = 640;
                    let wall_ns = (ops as f64 / throughput * 1e9) as u64;
                    let mut histogram = hdrhistogram::Histogram::<u64>::new(3).unwrap();
                    let op_ns = (nf / throughput * 1e9) as u64;
                    for i in 0..ops {
                        histogram.record(op_ns + op_ns * (i % 7) / 10).unwrap();
                    }
                    r.status = Status::Ok;
                    r.error = None;
                    r.ops = ops;
                    r.wall_ns = wall_ns;
                    r.throughput_ops_s = ops as f64 / (wall_ns as f64 / 1e9);
                    r.cpu_user_ns = wall_ns * u64::from(n);
                    r.histogram = Some(reports::histogram::encode(&histogram).unwrap());
                    r.latency = reports::histogram::summarise(&histogram);
                    r.breakdown = Some(reports::schema::Breakdown {
                        threads: n,
                        on_cpu_fraction: 1.0,
                        user_fraction: 1.0,
                        on_cpu_ns_per_op: 1e9 / base_ops_s * inflation,
                        ..Default::default()
                    });
                    r.per_worker = (0..n)
                        .map(|i| WorkerRecord {
                            index: i,
                            pid: 1,
                            core: None,
                            cpus_allowed: (0..64).collect(),
                            ops: 640 / u64::from(n),
                            wall_ns,
                            error: None,
                            os: None,
                        })
                        .collect();
                    lines.push(serde_json::to_string(&r).unwrap());
                }
            }
        }
    }
    write_results_folder(dir, &host, &lines);
}

/// Writes a results folder: `host.json` and `records.jsonl` (one line per
/// entry of `records`).
pub fn write_results_folder(dir: &Path, host: &reports::schema::Host, records: &[String]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("host.json"),
        serde_json::to_string_pretty(host).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("records.jsonl"), records.join("\n") + "\n").unwrap();
}

/// The sample folder's host and its first record, for tests that make
/// folders of their own from them.
pub fn sample_host_and_record() -> (reports::schema::Host, reports::schema::Record) {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sample");
    let host =
        serde_json::from_str(&std::fs::read_to_string(sample.join("host.json")).unwrap()).unwrap();
    let record = serde_json::from_str(
        std::fs::read_to_string(sample.join("records.jsonl"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    (host, record)
}
