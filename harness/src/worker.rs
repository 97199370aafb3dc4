//! The child side of the `process` model: `corebench worker` (hidden), and
//! the wire format between parent and child.
//!
//! The parent starts one child per worker with its share of the ops and its
//! core. Each child builds the workload, pins itself, builds its worker
//! state, and then talks JSON Lines on stdout, one [`WorkerMessage`] per
//! line:
//!
//! ```text
//! child -> {"event":"ready","pid":4242,"core":1,"cpus_allowed":[1]}
//! parent -> go                      (one line on the child's stdin)
//! child -> {"event":"done","pid":4242,"ops":500,"start_mono_ns":...,
//!           "end_mono_ns":...,"cpu_user_ns":...,"cpu_sys_ns":...,
//!           "histogram":"HISTFAAA...","error":null,"counters":{}}
//! ```
//!
//! or `{"event":"failed","pid":...,"error":"..."}` if set-up fails. Times
//! are `CLOCK_MONOTONIC`, which all processes share, so the parent can
//! measure wall time from its own release to the last child's last op.
//! Anything else on stdout fails the cell: a workload must not print there.
//!
//! For tests, `COREBENCH_CHILD_FAULT=crash` makes the child abort after
//! release, `=garbage` makes it print a line that is not a message, and
//! `=hang` makes it block after release until it is killed.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use workloads::{parse_spec, IoEnv, RunShape, Scaling};

use crate::models::{prepare_shared_for, WorkerRun};
use crate::pacing::OpenSchedule;
use crate::recorder::{monotonic_ns, CpuTime, OpSource, Recording};

/// The environment variable that injects a child fault, for tests.
pub const CHILD_FAULT_ENV: &str = "COREBENCH_CHILD_FAULT";

/// Arguments of `corebench worker`, set by the parent.
#[derive(Debug, Clone, clap::Args)]
pub struct ChildArgs {
    /// The workload's canonical spec.
    #[arg(long)]
    pub workload: String,
    /// This worker's index.
    #[arg(long)]
    pub index: usize,
    /// Workers in the run (the workload sizes its state by it).
    #[arg(long)]
    pub workers: usize,
    /// `strong` or `weak`.
    #[arg(long)]
    pub scaling: String,
    /// First op index of this child's share.
    #[arg(long)]
    pub op_start: u64,
    /// Ops in this child's share.
    #[arg(long)]
    pub op_count: u64,
    /// The core to pin to, if any.
    #[arg(long)]
    pub core: Option<usize>,
    /// How ops are timed.
    #[arg(long, value_enum, default_value = "per-op")]
    pub recording: Recording,
    /// Ops in the whole trial, over every child.
    #[arg(long)]
    pub total_ops: Option<u64>,
    /// Open load: the trial's arrival rate, ops/s. This child then runs
    /// ops `index`, `index + workers`, ... of the shared schedule.
    #[arg(long)]
    pub open_rate: Option<f64>,
    /// The loopback server's URL.
    #[arg(long)]
    pub server_url: Option<String>,
    /// `--target` of the run.
    #[arg(long)]
    pub target_url: Option<String>,
    /// The folder for the IO workloads' files.
    #[arg(long)]
    pub output_dir: Option<std::path::PathBuf>,
}

/// A child's open-loop recording, on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenMessage {
    /// Latency from each op's actual start, V2 + DEFLATE, base64.
    pub uncorrected_histogram: String,
    /// Pacing error, V2 + DEFLATE, base64.
    pub pacing_histogram: String,
    /// Ops started after their due time.
    pub late_starts: u64,
}

/// One line of the child's stdout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum WorkerMessage {
    /// Set up, pinned, waiting for `go`.
    Ready {
        /// The child's pid.
        pid: u32,
        /// The single core the OS allows, if one.
        core: Option<u32>,
        /// Every core the OS allows.
        cpus_allowed: Vec<u32>,
    },
    /// Finished its share (or failed mid-way: see `error`).
    Done {
        /// The child's pid.
        pid: u32,
        /// Ops completed.
        ops: u64,
        /// `CLOCK_MONOTONIC` when it was released.
        start_mono_ns: u64,
        /// `CLOCK_MONOTONIC` at the end of its last op.
        end_mono_ns: u64,
        /// User CPU time of the timed region.
        cpu_user_ns: u64,
        /// System CPU time of the timed region.
        cpu_sys_ns: u64,
        /// Its latency histogram, V2 + DEFLATE, base64.
        histogram: String,
        /// Why an op failed, if one did.
        error: Option<String>,
        /// The workload's counters in this child.
        counters: BTreeMap<String, f64>,
        /// The workload's own latency histograms in this child, encoded.
        #[serde(default)]
        histograms: BTreeMap<String, String>,
        /// The child's peak resident set size, KiB, if known.
        #[serde(default)]
        peak_rss_kib: Option<u64>,
        /// Open-loop extras (the main histogram is then from due times).
        #[serde(default)]
        open: Option<OpenMessage>,
    },
    /// Set-up failed; the child exits.
    Failed {
        /// The child's pid.
        pid: u32,
        /// Why.
        error: String,
    },
}

/// Runs `corebench worker`; returns the exit code.
pub fn run_child_worker(args: ChildArgs) -> i32 {
    let pid = std::process::id();
    let fault = std::env::var(CHILD_FAULT_ENV).unwrap_or_default();
    let fail = |error: String| {
        send(&WorkerMessage::Failed { pid, error });
        1
    };
    let scaling = match args.scaling.as_str() {
        "strong" => Scaling::Strong,
        "weak" => Scaling::Weak,
        other => return fail(format!("unknown scaling '{other}'")),
    };
    let workload = match parse_spec(&args.workload) {
        Ok(w) => w,
        Err(e) => return fail(e.to_string()),
    };
    let shape = RunShape {
        workers: args.workers,
        scaling,
        total_ops: args.total_ops.unwrap_or(args.op_start + args.op_count),
        io: IoEnv {
            server_url: args.server_url.clone(),
            target_url: args.target_url.clone(),
            output_dir: args.output_dir.clone(),
        },
    };
    let shared = match prepare_shared_for(workload.as_ref(), shape) {
        Ok(shared) => shared,
        Err(e) => return fail(e.message),
    };
    let open = args.open_rate.filter(|rate| *rate > 0.0);
    let mut run = WorkerRun::set_up_with(
        &shared,
        args.index,
        args.core,
        args.recording,
        open.is_some(),
    );
    if let Some(e) = run.error.take() {
        return fail(e);
    }
    if fault == "garbage" {
        println!("this line is not a worker message");
    }
    send(&WorkerMessage::Ready {
        pid,
        core: run.placed.core,
        cpus_allowed: run.placed.cpus_allowed.clone(),
    });

    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    let mut words = line.split_whitespace();
    if words.next() != Some("go") {
        return 1; // The parent gave up on this cell; nobody is listening.
    }
    let base_mono_ns: Option<u64> = words.next().and_then(|w| w.parse().ok());
    match fault.as_str() {
        "crash" => std::process::abort(),
        "hang" => loop {
            std::thread::park();
        },
        _ => {}
    }

    let stop = AtomicBool::new(false);
    let cpu_before = CpuTime::of_process();
    let start_mono_ns = monotonic_ns();
    let release = Instant::now();
    let source = match open {
        Some(rate) => {
            // The parent's base, on this process's Instant clock: both
            // read CLOCK_MONOTONIC.
            let behind = start_mono_ns.saturating_sub(base_mono_ns.unwrap_or(start_mono_ns));
            let base = release
                .checked_sub(Duration::from_nanos(behind))
                .unwrap_or(release);
            let total = args.total_ops.unwrap_or(args.op_start + args.op_count);
            OpSource::Open(OpenSchedule::share(
                base,
                rate,
                total,
                args.index,
                args.workers,
            ))
        }
        None => OpSource::Fixed {
            start: args.op_start,
            count: args.op_count,
        },
    };
    run.run(source, &stop);
    let cpu = CpuTime::of_process().since(cpu_before);
    let end_mono_ns = start_mono_ns
        + run
            .recorder
            .last_op_end
            .map_or(0, |end| end.duration_since(release).as_nanos() as u64);
    let histogram = match reports::histogram::encode(&run.recorder.histogram) {
        Ok(h) => h,
        Err(e) => return fail(e.to_string()),
    };
    let open = match run.recorder.open.as_ref().map(|open| {
        Ok::<_, String>(OpenMessage {
            uncorrected_histogram: reports::histogram::encode(&open.uncorrected)
                .map_err(|e| e.to_string())?,
            pacing_histogram: reports::histogram::encode(&open.pacing)
                .map_err(|e| e.to_string())?,
            late_starts: open.late_starts,
        })
    }) {
        Some(Err(e)) => return fail(e),
        Some(Ok(open)) => Some(open),
        None => None,
    };
    send(&WorkerMessage::Done {
        pid,
        ops: run.recorder.ops,
        start_mono_ns,
        end_mono_ns,
        cpu_user_ns: cpu.user_ns,
        cpu_sys_ns: cpu.sys_ns,
        histogram,
        error: run.error.clone(),
        counters: shared.counters(),
        histograms: shared
            .histograms()
            .iter()
            .filter_map(|(name, h)| Some((name.clone(), reports::histogram::encode(h).ok()?)))
            .collect(),
        peak_rss_kib: crate::recorder::peak_rss_kib(),
        open,
    });
    0
}

fn send(message: &WorkerMessage) {
    let mut out = std::io::stdout().lock();
    // If the parent is gone there is nobody to tell; exit quietly later.
    if let Ok(line) = serde_json::to_string(message) {
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}
