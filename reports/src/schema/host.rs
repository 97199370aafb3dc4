//! The machine a results folder was recorded on (`host.json`): its CPUs
//! and topology, memory, OS, the disturbance rule in force, and the
//! loopback HTTP server of its IO workloads.

use serde::{Deserialize, Serialize};

/// One logical CPU as the OS describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuTopology {
    /// Logical CPU number (what pinning uses).
    pub cpu: u32,
    /// Physical core id within its package.
    pub core_id: Option<u32>,
    /// Socket.
    pub package_id: Option<u32>,
    /// Logical CPUs sharing this one's physical core (SMT siblings),
    /// itself included.
    pub siblings: Vec<u32>,
}

/// The machine and configuration a results folder was recorded on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Host {
    /// See [`super::SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The name of this configuration (`--label`); reports show it.
    pub label: Option<String>,
    /// Host name.
    pub hostname: String,
    /// CPU model name.
    pub cpu_brand: String,
    /// Physical cores, when the OS says.
    pub physical_cores: Option<u32>,
    /// Logical CPUs online.
    pub logical_cores: u32,
    /// Logical CPUs this process may run on (its affinity mask at start).
    pub available_cores: Vec<u32>,
    /// Whether any physical core runs more than one logical CPU.
    pub smt: bool,
    /// Per logical CPU: core, package, SMT siblings.
    pub topology: Vec<CpuTopology>,
    /// Total memory.
    pub memory_bytes: u64,
    /// OS name and version.
    pub os: String,
    /// Kernel version.
    pub kernel: String,
    /// The kernel's clock source (`tsc`, `kvm-clock`, ...); a slow one makes
    /// every timer read dearer.
    pub clocksource: Option<String>,
    /// The compiler corebench was built with.
    pub rustc: String,
    /// corebench's version.
    pub corebench_version: String,
    /// The git revision corebench was built from, if known.
    pub git_revision: Option<String>,
    /// When this was captured (RFC 3339).
    pub captured_at: String,
    /// The command line of the run.
    #[serde(default)]
    pub command: Vec<String>,
    /// The HTTP server the IO workloads talked to, if any ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_server: Option<HttpServer>,
    /// The cgroup's CPU quota in whole cores (rounded up), when one limits
    /// this process: v2 `cpu.max`, or v1 `cpu.cfs_quota_us` over
    /// `cpu.cfs_period_us`. Below the affinity mask, it sets the core count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup_cpu_quota_cores: Option<u32>,
    /// The seed of the shuffled trial order within each round.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial_order_seed: Option<u64>,
    /// The thresholds a trial was judged disturbed by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disturbance_rule: Option<DisturbanceRule>,
    /// The SHA-256 of the folder's `plan.toml` (hex): two folders with the
    /// same hash ran the same plan. Absent in older folders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_sha256: Option<String>,
    /// What shapes per-thread numbers: the CPU frequency governor, turbo,
    /// SMT control, `perf_event_paranoid`, and why hardware counters are
    /// unavailable (null when they are). Absent in older folders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
}

/// See [`Host::platform`]; a field the machine does not say is null.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    /// CPU 0's frequency governor.
    pub cpu_governor: Option<String>,
    /// Turbo or boost: `on` or `off`.
    pub turbo: Option<String>,
    /// SMT control: `on`, `off`, `notsupported`.
    pub smt_control: Option<String>,
    /// `/proc/sys/kernel/perf_event_paranoid`.
    pub perf_event_paranoid: Option<i32>,
    /// Why hardware counters cannot be had here; null when they can.
    pub hardware_counters_unavailable: Option<String>,
    /// Why software perf counters (task-clock, context switches,
    /// migrations, page faults) cannot be had here; null when they can.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_counters_unavailable: Option<String>,
}

/// When a trial counts as disturbed (see `corebench run --help`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DisturbanceRule {
    /// Run-queue wait beyond the run's own, as a share of the workers'
    /// time.
    pub max_runqueue_excess_fraction: f64,
    /// Other processes' CPU, as a share of the cores this run may use.
    pub max_others_share: f64,
    /// Stolen time, as a share.
    pub max_steal_fraction: f64,
    /// CPU pressure (some), as a share of the time.
    pub max_cpu_pressure_fraction: f64,
    /// CPU time per op over the cell's running median, at most.
    pub max_cpu_per_op_ratio: f64,
}

impl Default for DisturbanceRule {
    fn default() -> Self {
        DisturbanceRule {
            max_runqueue_excess_fraction: 0.10,
            max_others_share: 0.10,
            max_steal_fraction: 0.02,
            max_cpu_pressure_fraction: 0.20,
            max_cpu_per_op_ratio: 1.15,
        }
    }
}

/// The HTTP server of a run's IO workloads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpServer {
    /// Its base URL (loopback) or the `--target` URL.
    pub url: String,
    /// `loopback` (started by corebench on this machine, competing with
    /// the clients for its cores) or `target` (given by `--target`).
    pub kind: String,
    /// Runtime threads serving requests (loopback only).
    pub threads: Option<u32>,
}
