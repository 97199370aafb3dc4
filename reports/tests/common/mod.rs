//! Helpers the reports test files share.
#![allow(dead_code)] // Each test file uses its own subset.

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

/// Writes a results folder from a made-up 64-core host: 15 workloads,
/// every model at 1 to 64 workers, 2 trials each, with Amdahl-shaped
/// throughput (each workload its own serial fraction), a little seeded
/// jitter, and `process` unsupported where workers share memory. It is
/// for looking at and testing the pages at the scale they must stay
/// readable at; the numbers mean nothing.
pub fn write_sample_64(dir: &Path) {
    use reports::schema::{CpuTopology, Host, Record, Status, WorkerRecord};
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sample");
    let mut host: Host =
        serde_json::from_str(&std::fs::read_to_string(sample.join("host.json")).unwrap()).unwrap();
    host.label = Some("made-up 64-core host".into());
    host.hostname = "big".into();
    host.cpu_brand = "Made-up 64-core CPU".into();
    host.physical_cores = Some(64);
    host.logical_cores = 64;
    host.available_cores = (0..64).collect();
    host.topology = (0..64)
        .map(|cpu| CpuTopology {
            cpu,
            core_id: Some(cpu),
            package_id: Some(0),
            siblings: vec![cpu],
        })
        .collect();
    let template: Record = serde_json::from_str(
        std::fs::read_to_string(sample.join("records.jsonl"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
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
                    let speedup = if *cpu_bound {
                        1.0 / (serial + (1.0 - serial) / nf)
                    } else {
                        nf * (1.0 - serial * nf.log2() / 6.0)
                    };
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
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("host.json"),
        serde_json::to_string_pretty(&host).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("records.jsonl"), lines.join("\n") + "\n").unwrap();
}
