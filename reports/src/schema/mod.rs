//! The result schema: the public contract of a results folder.
//!
//! `DIR/host.json` holds one [`Host`]; `DIR/records.jsonl` holds one
//! [`Record`] per line, one per trial (or per cell that could not run).
//! Field names carry their units (`wall_ns`, `throughput_ops_s`). Changing
//! what a field means bumps [`SCHEMA_VERSION`]; a golden file of every
//! version stays under test in `reports/tests/golden/`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The version of [`Record`] and [`Host`] this build writes.
pub const SCHEMA_VERSION: u32 = 1;

/// The versions this build can read.
pub const READABLE_SCHEMA_VERSIONS: &[u32] = &[1];

/// The reference workload every run includes once (under `seq`): the
/// median of its trials is a configuration's single-core speed
/// (`Analysis::single_core_speed`), which comparisons divide by.
pub const CALIBRATION_WORKLOAD: &str = "cpu/calibrate";

/// Whether a record's `scaling` field says weak scaling (`weak`; the
/// other value is `strong`): the one place reports read that field.
pub fn is_weak_scaling(scaling: &str) -> bool {
    scaling == "weak"
}

pub use crate::series::{KnownSeries, Rgb, SeriesOrder, OTHER_COLOURS};

mod host;
pub use host::{CpuTopology, DisturbanceRule, Host, HttpServer, Platform};
pub mod plan;
pub use plan::PlanFile;
mod waits;
pub use waits::{WaitPrimitive, WaitSite, WallProfile};

/// How a trial ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every worker finished every op.
    Ok,
    /// A worker or child failed (panic, error, crash, garbage); see `error`.
    Failed,
    /// No op completed for too long while workers held locks.
    Deadlocked,
    /// The trial ran past its time limit and was abandoned.
    Timeout,
    /// The model cannot run this workload; `error` says why. One record
    /// per such cell, so no cell is ever silently missing.
    Unsupported,
}

impl Status {
    /// The spelling in records.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Deadlocked => "deadlocked",
            Status::Timeout => "timeout",
            Status::Unsupported => "unsupported",
        }
    }
}

/// Which workload ran, with every parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadRef {
    /// The id, e.g. `cpu/primes`.
    pub id: String,
    /// The canonical spec, `id:key=value,...`, with every parameter.
    pub spec: String,
    /// Parameter values by name.
    pub params: BTreeMap<String, serde_json::Value>,
    /// Whether its ops mostly wait (IO) rather than compute: fits of
    /// Amdahl and the USL do not apply. Absent in older records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub io_bound: Option<bool>,
    /// Whether its workers share state (a lock, a barrier, a channel).
    /// Absent in older records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shares_state: Option<bool>,
}

/// The machine's view of one trial: what else ran on the CPUs this run
/// may use while it was timed, and the verdict drawn from it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MachineView {
    /// The share of the workers' time spent waiting for a CPU beyond what
    /// the run's own oversubscription explains (from each thread's
    /// schedstat); null where the kernel does not say.
    pub runqueue_excess_fraction: Option<f64>,
    /// CPU time other processes used on this run's CPUs, over wall time,
    /// in cores (from /proc/stat, less corebench's own and its children's).
    pub others_cpu_cores: Option<f64>,
    /// Whether `others_cpu_cores` was long enough to judge (50 ticks per
    /// CPU), over this trial or its round.
    #[serde(default)]
    pub others_judged: bool,
    /// Time the hypervisor stole from this run's CPUs, over their time.
    pub steal_fraction: Option<f64>,
    /// Share of the time some task waited for a CPU (/proc/pressure/cpu).
    pub cpu_pressure_stall_fraction: Option<f64>,
    /// Time the cgroup's CPU quota throttled this process, ns.
    pub cgroup_throttled_ns: Option<u64>,
    /// CPU time per op over the running median of the cell's earlier
    /// trials (1.0: the same).
    pub cpu_per_op_ratio: Option<f64>,
    /// The verdict: something outside the run disturbed this trial.
    pub disturbed: bool,
    /// Why, in words (empty when not disturbed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// 1 for a first try; a disturbed trial that is re-run counts up.
    pub attempt: u32,
    /// The target server runs on this machine, so its CPU was expected
    /// load and was not held against the trial.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub target_load_expected: bool,
}

/// Where the workers were asked to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacementRef {
    /// `none`, `compact`, `scatter` or `cores=LIST`.
    pub strategy: String,
    /// The core each worker (or runtime thread) was pinned to, by index;
    /// `null` where it was not pinned.
    pub requested_cores: Vec<Option<u32>>,
}

/// One worker's part in a trial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerRecord {
    /// Worker index, 0-based.
    pub index: u32,
    /// The OS process the worker ran in (differs from the parent's under
    /// the `process` model).
    pub pid: u32,
    /// The single core the OS allows the worker on, read back after
    /// pinning; `null` when it may run on more than one.
    pub core: Option<u32>,
    /// Every core the OS allows the worker on, read back from the OS.
    pub cpus_allowed: Vec<u32>,
    /// Ops this worker completed.
    pub ops: u64,
    /// From release to this worker's last op.
    pub wall_ns: u64,
    /// Why this worker failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its thread's accounting over the timed region (absent for tasks of
    /// the async models, whose runtime threads carry it, and in older
    /// records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<ThreadOs>,
}

/// One thread's accounting over a trial's timed region, read outside the op
/// loop from `/proc/self/task/TID/` (schedstat, stat, status, sched).
/// A figure the kernel does not keep is null, never 0.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadOs {
    /// The region's length for this thread, ns.
    pub wall_ns: u64,
    /// Time on a CPU, ns.
    pub on_cpu_ns: Option<u64>,
    /// Time runnable but waiting for a CPU, ns.
    pub runqueue_ns: Option<u64>,
    /// Times it was given a CPU.
    pub timeslices: Option<u64>,
    /// User time, ns (10 ms ticks).
    pub user_ns: Option<u64>,
    /// System time, ns (10 ms ticks).
    pub sys_ns: Option<u64>,
    /// Context switches it asked for (blocking).
    pub voluntary_switches: Option<u64>,
    /// Context switches forced on it (preemption).
    pub involuntary_switches: Option<u64>,
    /// Page faults without IO.
    pub minor_faults: Option<u64>,
    /// Page faults with IO.
    pub major_faults: Option<u64>,
    /// Moves to another CPU.
    pub migrations: Option<u64>,
    /// The core it ran on last (not sampled: the core at the region's end).
    pub last_core: Option<u32>,
    /// The core it was seen on most often over the region, sampled from
    /// its `stat` by a sampler thread (never from the op loop). `core` on
    /// the worker stays the core it was pinned to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mostly_on_core: Option<u32>,
    /// Perf counters over the region: software (`task_clock_ns`,
    /// `context_switches`, `cpu_migrations`, `page_faults`) and hardware
    /// (`cycles`, `instructions`, `cache_references`, `cache_misses`,
    /// `branch_misses`), each null when the machine lacks it or
    /// `perf_event_open` refused it (why: `platform` in host.json).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub counters: BTreeMap<String, Option<u64>>,
}

/// Where the workers' time went in one trial: fractions of the sum of the
/// workers' (or runtime threads') timed wall time, and costs per op.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Breakdown {
    /// Threads it sums over.
    pub threads: u32,
    /// On a CPU.
    pub on_cpu_fraction: f64,
    /// In user code (ticks, so coarse for short trials).
    pub user_fraction: f64,
    /// In the kernel.
    pub sys_fraction: f64,
    /// Waiting for a CPU.
    pub runqueue_fraction: f64,
    /// Asleep: on a lock, a barrier, IO or a timer (wall less on-CPU less
    /// run-queue wait, floored at 0 per thread).
    pub blocked_fraction: f64,
    /// Context switches per op.
    pub switches_per_op: f64,
    /// Migrations per op.
    pub migrations_per_op: f64,
    /// On-CPU time per op, ns.
    pub on_cpu_ns_per_op: f64,
    /// On-CPU time per op against the same model's 1-worker cell, as
    /// folders written before the analysis computed it held it. Read and
    /// kept, never used: the analysis computes it from the cell's own
    /// 1-worker records (`TimeSplit::work_inflation`), whatever order the
    /// trials ran in; new records leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_inflation: Option<f64>,
    /// Retired instructions per op, where hardware counters were had for
    /// every thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions_per_op: Option<f64>,
    /// Cache misses per op, likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_misses_per_op: Option<f64>,
    /// Instructions per cycle over the threads, likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipc: Option<f64>,
}

/// Latency of one op, summarised from the merged histogram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Fastest op.
    pub min_ns: u64,
    /// Median.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p99_9_ns: u64,
    /// Slowest op.
    pub max_ns: u64,
    /// Mean.
    pub mean_ns: f64,
}

/// What the execution model itself costs, measured on this cell.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelOverhead {
    /// Time per op of an empty op driven by the same model, workers and
    /// placement: the floor below which the model measures itself.
    pub dispatch_floor_ns: Option<f64>,
    /// Creating the workers (threads, pool, runtime, child processes) until
    /// all were ready, outside the timed region.
    pub spawn_ns: Option<u64>,
}

/// One runtime thread of an async model, as pinned and read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadRecord {
    /// Start order, 0-based.
    pub index: u32,
    /// The single allowed core, or `null`.
    pub core: Option<u32>,
    /// Every allowed core.
    pub cpus_allowed: Vec<u32>,
    /// The runtime thread's accounting over the timed region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<ThreadOs>,
}

/// One measured trial of one cell (or one unsupported cell).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Always first; see [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Identifies the `corebench run` that wrote it.
    pub run_id: String,
    /// When the trial started (RFC 3339).
    pub started_at: String,
    /// The workload, with every parameter.
    pub workload: WorkloadRef,
    /// The execution model: `seq`, `threads`, `pool`, `rayon`, `process`,
    /// `tokio` or `tokio-current`.
    pub model: String,
    /// Concurrent workers (tasks, for the async models).
    pub workers: u32,
    /// OS threads of an async runtime; `null` for the other models.
    pub runtime_threads: Option<u32>,
    /// Requested placement.
    pub placement: PlacementRef,
    /// `strong` or `weak`.
    pub scaling: String,
    /// `closed`, or `open:RATE`.
    pub load: String,
    /// Trial number within the cell, 0-based.
    pub trial: u32,
    /// How the trial ended.
    pub status: Status,
    /// Why, when `status` is not `ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Ops completed, summed over workers; equals the histogram's count.
    pub ops: u64,
    /// From the release of all workers to the end of the last op.
    pub wall_ns: u64,
    /// User CPU time of all workers during the timed region.
    pub cpu_user_ns: u64,
    /// System CPU time of all workers during the timed region.
    pub cpu_sys_ns: u64,
    /// `ops / wall`.
    pub throughput_ops_s: f64,
    /// Per-op latency summary; `null` when no op completed.
    pub latency: Option<LatencySummary>,
    /// The merged per-op latency histogram (ns), HdrHistogram V2 + DEFLATE,
    /// base64; `null` when no op completed.
    pub histogram: Option<String>,
    /// Each worker's part.
    pub per_worker: Vec<WorkerRecord>,
    /// Runtime threads of the async models, as placed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runtime_thread_placement: Vec<ThreadRecord>,
    /// What the model itself costs.
    pub model_overhead: ModelOverhead,
    /// Whether the async op was used (async models on async-native
    /// workloads); `false` means the sync op ran, even under an async model.
    pub async_op: bool,
    /// How ops were timed: `per-op`, or `batch` (ops timed in batches and
    /// each recorded at its batch's mean). Absent in early v1 records.
    #[serde(default = "per_op")]
    pub recording: String,
    /// The pid of the corebench process that ran the trial.
    pub parent_pid: u32,
    /// Workload-specific counters (e.g. `lost_updates`); names carry units.
    #[serde(default)]
    pub counters: BTreeMap<String, f64>,
    /// Latency histograms the workload kept itself (ns), by name, encoded
    /// as `histogram` is: e.g. `event_latency` (stream/pipeline, from each
    /// event's arrival to the sink). Absent when the workload keeps none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub workload_histograms: BTreeMap<String, String>,
    /// Where the workers' time went (absent in older records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakdown: Option<Breakdown>,
    /// The pool's submitter thread's accounting over the timed region
    /// (pool only; not a worker, so not in `per_worker` or `breakdown`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitter_os: Option<ThreadOs>,
    /// The machine's view of the trial, with the verdict whether it was
    /// disturbed (absent in older records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<MachineView>,
    /// The round of the section this trial ran in: the trials of a
    /// section's cells run round by round, shuffled within a round.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round: Option<u32>,
    /// Lockstep workloads: rounds every worker ran (one op is a worker's
    /// part of a round), and rounds per second, which speedup agrees with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rounds: Option<u64>,
    /// Rounds per second of a lockstep workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput_rounds_s: Option<f64>,
    /// What a reader should know about how this trial was measured, e.g.
    /// that threads of an earlier, abandoned trial were still on a CPU
    /// when it ran. Absent when there is nothing to say.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// How evenly the workers shared the ops (multi-worker trials only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fairness: Option<Fairness>,
    /// With `--wall-profile`: how the workers' sampled wall time split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_profile: Option<WallProfile>,
    /// With `--wall-profile`: the call sites where the workers were
    /// blocked, most samples first (at most 5).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wait_sites: Vec<WaitSite>,
    /// Open load only (`load` = `open:RATE`): the schedule and what a
    /// closed-loop client would have reported. `latency` and `histogram`
    /// then count from each op's due time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_loop: Option<OpenLoop>,
}

/// How evenly a trial's workers shared its ops.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fairness {
    /// Jain's index, (sum x)^2 / (n sum x^2): 1 when even, 1/n when one
    /// worker did everything.
    pub jain_index: f64,
    /// Most ops over fewest ops; `null` when a worker did none.
    pub max_min_ratio: Option<f64>,
    /// Workers that completed under 10% of the mean: starved.
    pub starved_workers: Vec<u32>,
}

impl Fairness {
    /// The balance of a multi-worker trial from each worker's op count:
    /// Jain's index, max/min, and the workers that did under a tenth of
    /// the mean (starved). The one place it is computed: the harness
    /// records it per trial, and the analysis reads it (or, for a record
    /// written before it was kept, computes it here).
    pub fn of_worker_ops(ops: &[u64]) -> Option<Fairness> {
        if ops.len() < 2 {
            return None;
        }
        let as_f64: Vec<f64> = ops.iter().map(|&o| o as f64).collect();
        let mean = as_f64.iter().sum::<f64>() / ops.len() as f64;
        let (min, max) = (ops.iter().copied().min()?, ops.iter().copied().max()?);
        Some(Fairness {
            jain_index: crate::stats::jain_index(&as_f64),
            max_min_ratio: (min > 0).then(|| max as f64 / min as f64),
            starved_workers: ops
                .iter()
                .enumerate()
                .filter(|(_, &o)| (o as f64) < 0.1 * mean)
                .map(|(i, _)| i as u32)
                .collect(),
        })
    }
}

impl Record {
    /// CPU utilisation: CPU time over wall time times workers. Near 1 for
    /// CPU-bound work, near 0 for IO-bound work.
    pub fn cpu_utilisation(&self) -> Option<f64> {
        let capacity = self.wall_ns as f64 * f64::from(self.workers);
        (capacity > 0.0).then(|| (self.cpu_user_ns + self.cpu_sys_ns) as f64 / capacity)
    }
}

fn per_op() -> String {
    "per-op".to_string()
}

/// What an open-loop trial records besides latency from due times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenLoop {
    /// The arrival rate asked for; `throughput_ops_s` is the rate achieved.
    pub requested_rate_ops_s: f64,
    /// Latency from each op's actual start (coordinated omission left in).
    pub uncorrected_latency: Option<LatencySummary>,
    /// Its histogram, V2 + DEFLATE, base64.
    pub uncorrected_histogram: Option<String>,
    /// How late workers woke for ops they were early for.
    pub pacing_error: Option<LatencySummary>,
    /// Its histogram, V2 + DEFLATE, base64.
    pub pacing_histogram: Option<String>,
    /// Ops started after their due time because the worker was busy.
    pub late_starts: u64,
}

/// A minimal record for unit tests: 100 ops, half the CPU busy.
#[cfg(test)]
pub(crate) fn test_record(
    model: &str,
    workers: u32,
    wall_ns: u64,
    scaling: &str,
    status: Status,
) -> Record {
    Record {
        schema_version: SCHEMA_VERSION,
        run_id: "t".into(),
        started_at: String::new(),
        workload: WorkloadRef {
            id: "w/x".into(),
            spec: "w/x".into(),
            params: Default::default(),
            io_bound: None,
            shares_state: None,
        },
        model: model.into(),
        workers,
        runtime_threads: None,
        placement: PlacementRef {
            strategy: "none".into(),
            requested_cores: vec![],
        },
        scaling: scaling.into(),
        load: "closed".into(),
        trial: 0,
        status,
        error: (status != Status::Ok).then(|| "why".to_string()),
        ops: 100,
        wall_ns,
        cpu_user_ns: wall_ns * u64::from(workers) / 2,
        cpu_sys_ns: 0,
        throughput_ops_s: 100.0 / (wall_ns as f64 / 1e9),
        latency: None,
        histogram: None,
        per_worker: vec![],
        runtime_thread_placement: vec![],
        model_overhead: ModelOverhead::default(),
        async_op: false,
        recording: per_op(),
        parent_pid: 1,
        counters: Default::default(),
        workload_histograms: Default::default(),
        notes: Vec::new(),
        machine: None,
        breakdown: None,
        submitter_os: None,
        round: None,
        rounds: None,
        throughput_rounds_s: None,
        fairness: None,
        open_loop: None,
        wall_profile: None,
        wait_sites: Vec::new(),
    }
}
