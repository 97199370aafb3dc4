//! Results folders of made-up curves, for the gallery of curves with
//! known answers: cells with their trials' throughputs and where the
//! workers' time went, hosts of any shape, and the report's fits.json and
//! summary read back.

use std::path::Path;

use reports::schema::{Breakdown, CpuTopology, Host, Status, WorkerRecord};
use serde_json::Value;

/// One cell of a curve: workers, its trials' throughputs, and what the
/// workers' time went to.
pub struct Cell {
    pub n: u32,
    pub throughputs: Vec<f64>,
    pub split: Split,
}

/// Shares of the workers' time, and CPU time per op against one worker.
#[derive(Clone, Copy)]
pub struct Split {
    pub runqueue: f64,
    pub blocked: f64,
    pub inflation: f64,
}

pub const BUSY: Split = Split {
    runqueue: 0.0,
    blocked: 0.0,
    inflation: 1.0,
};

/// A host of `logical` CPUs, `physical` cores and `sockets` sockets.
pub fn host(logical: u32, physical: u32, sockets: u32) -> Host {
    let (mut host, _) = super::sample_host_and_record();
    host.label = Some(format!("made-up {logical}-CPU host"));
    host.physical_cores = Some(physical);
    host.logical_cores = logical;
    host.available_cores = (0..logical).collect();
    let smt = logical / physical;
    host.topology = (0..logical)
        .map(|cpu| {
            let core = cpu % physical;
            CpuTopology {
                cpu,
                core_id: Some(core),
                package_id: Some(core / (physical / sockets)),
                siblings: (0..smt).map(|s| core + s * physical).collect(),
            }
        })
        .collect();
    host
}

/// One model's curve in a folder: its name, its cells, and whether its
/// workers are processes of their own.
pub struct Curve<'c> {
    pub model: &'c str,
    pub cells: &'c [Cell],
    pub own_processes: bool,
}

/// Writes a results folder of `cells` (one model, `threads`, strong
/// scaling) on `host` into `dir`.
pub fn write_folder(dir: &Path, host: &Host, cells: &[Cell]) {
    let threads = Curve {
        model: "threads",
        cells,
        own_processes: false,
    };
    write_curves(dir, host, &[threads], false);
}

/// Writes a results folder of `curves` (strong scaling) of a workload
/// that `shares_state` (or not) on `host` into `dir`.
pub fn write_curves(dir: &Path, host: &Host, curves: &[Curve], shares_state: bool) {
    let (_, template) = super::sample_host_and_record();
    let mut lines = Vec::new();
    for curve in curves {
        let alone_ns_per_op = 1e9 / curve.cells[0].throughputs[0];
        for cell in curve.cells {
            for (trial, &throughput) in cell.throughputs.iter().enumerate() {
                let mut r = template.clone();
                r.workload.id = "cpu/gallery".into();
                r.workload.spec = "cpu/gallery".into();
                r.workload.params = Default::default();
                r.workload.io_bound = Some(false);
                r.workload.shares_state = Some(shares_state);
                r.model = curve.model.into();
                r.workers = cell.n;
                r.trial = trial as u32;
                r.scaling = "strong".into();
                r.load = "closed".into();
                r.placement.requested_cores = vec![None; cell.n as usize];
                r.status = Status::Ok;
                r.error = None;
                // Strong scaling: the same ops whatever the workers (the
                // sample's, which its latency histogram holds).
                r.wall_ns = (r.ops as f64 / throughput * 1e9) as u64;
                r.throughput_ops_s = throughput;
                // The latency histogram is the sample's: these curves are about
                // throughput.
                r.machine = None;
                let on_cpu = 1.0 - cell.split.runqueue - cell.split.blocked;
                r.breakdown = Some(Breakdown {
                    threads: cell.n,
                    on_cpu_fraction: on_cpu,
                    user_fraction: on_cpu,
                    sys_fraction: 0.0,
                    runqueue_fraction: cell.split.runqueue,
                    blocked_fraction: cell.split.blocked,
                    on_cpu_ns_per_op: alone_ns_per_op * cell.split.inflation,
                    ..Breakdown::default()
                });
                r.per_worker = (0..cell.n)
                    .map(|i| WorkerRecord {
                        index: i,
                        pid: if curve.own_processes {
                            r.parent_pid + 1 + i
                        } else {
                            r.parent_pid
                        },
                        core: None,
                        cpus_allowed: (0..host.logical_cores).collect(),
                        ops: r.ops / u64::from(cell.n)
                            + u64::from(u64::from(i) < r.ops % u64::from(cell.n)),
                        wall_ns: r.wall_ns,
                        error: None,
                        os: None,
                    })
                    .collect();
                lines.push(serde_json::to_string(&r).unwrap());
            }
        }
    }
    super::write_results_folder(dir, host, &lines);
}

/// Reports `cells` on `host` and returns the model's entry of fits.json.
pub fn fits_of(name: &str, host: &Host, cells: &[Cell]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let folder_dir = dir.path().join(name);
    write_folder(&folder_dir, host, cells);
    let folder = reports::folder::ResultsFolder::open(&folder_dir).unwrap();
    let report = folder_dir.join("report");
    reports::report::write_report(&folder, &report, &super::models()).unwrap();
    let fits: Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("fits.json")).unwrap()).unwrap();
    let model = fits["sections"][0]["models"][0].clone();
    assert_eq!(model["model"], "threads", "{fits}");
    assert_reading_never_contradicts(&model, cells);
    model
}

/// Three trials around each throughput, +-`spread`.
pub fn cells(ns: &[u32], throughputs: &[f64], spread: f64) -> Vec<Cell> {
    ns.iter()
        .zip(throughputs)
        .map(|(&n, &x)| Cell {
            n,
            throughputs: vec![x * (1.0 - spread), x, x * (1.0 + spread)],
            split: BUSY,
        })
        .collect()
}

pub fn amdahl(f: f64, n: f64) -> f64 {
    1.0 / (f + (1.0 - f) / n)
}

pub fn usl(sigma: f64, kappa: f64, n: f64) -> f64 {
    n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0))
}

pub fn f(value: &Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("not a number: {value}"))
}

pub fn within(estimate: &Value, truth: f64) -> bool {
    f(&estimate["low"]) <= truth && truth <= f(&estimate["high"])
}

/// No sentence of the reading contradicts a measured point or slope: a
/// projection never rises past a count where the measured curve falls, a
/// ceiling is never below a measured speedup, and a peak inside the data
/// lies between the counts it names.
pub fn assert_reading_never_contradicts(model: &Value, cells: &[Cell]) {
    let median = |c: &Cell| c.throughputs[c.throughputs.len() / 2];
    let base = median(&cells[0]);
    let speedups: Vec<(u32, f64)> = cells.iter().map(|c| (c.n, median(c) / base)).collect();
    let top = speedups.iter().map(|s| s.1).fold(0.0, f64::max);
    if let Some(ceiling) = model["ceiling"].as_f64() {
        assert!(
            ceiling >= top * 0.999,
            "ceiling {ceiling} below a measured {top}: {model}"
        );
    }
    let last = speedups.last().unwrap();
    let falls = last.1 < top * 0.97;
    let reading = model["reading"].as_str().unwrap();
    if falls {
        assert!(
            model["law"] == "usl" || !model["projected"].as_bool().unwrap(),
            "a projection rises where the measured curve falls: {reading}"
        );
        assert!(!reading.contains("at most"), "{reading}");
    }
    if let Some([low, high]) = model["peak_between"]
        .as_array()
        .map(|a| [f(&a[0]), f(&a[1])])
    {
        let peak = f(&model["peak_workers"]);
        assert!(low <= peak && peak <= high, "{model}");
        assert!(
            reading.contains(&format!("between {low} and {high} workers")),
            "{reading}"
        );
    }
}

/// Builds cells from (n, speedup, split).
pub fn shaped(points: &[(u32, f64, Split)]) -> Vec<Cell> {
    points
        .iter()
        .map(|&(n, s, split)| Cell {
            n,
            throughputs: vec![1000.0 * s * 0.995, 1000.0 * s, 1000.0 * s * 1.005],
            split,
        })
        .collect()
}

/// The summary of a folder of `curves`.
pub fn summary_of(name: &str, host: &Host, curves: &[Curve], shares_state: bool) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let folder_dir = dir.path().join(name);
    write_curves(&folder_dir, host, curves, shares_state);
    let folder = reports::folder::ResultsFolder::open(&folder_dir).unwrap();
    let written =
        reports::report::write_report(&folder, &folder_dir.join("report"), &super::models())
            .unwrap();
    let summary = reports::summary::RunSummary::of(&folder_dir, &written.analysis, &written.index);
    let mut value = serde_json::to_value(summary).unwrap();
    // The folder goes when the test ends: the page is read now.
    value["report"] = std::fs::read_to_string(&written.index).unwrap().into();
    value
}
