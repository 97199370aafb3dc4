//! The wire format between the `process` model's parent and its children,
//! in one place: the child's arguments, and the JSON Lines it writes.
//!
//! The parent starts one child per worker as `corebench worker` with the
//! [`ChildArgs`] below (its share of the ops, its core). The child builds
//! the workload, pins itself, builds its worker state, and then talks JSON
//! Lines on stdout, one [`WorkerMessage`] per line, each an object whose
//! `event` field names its kind:
//!
//! ```text
//! child  -> {"event":"ready","pid":4242,"core":1,"cpus_allowed":[1]}
//! parent -> go BASE                 (one line on the child's stdin)
//! child  -> {"event":"done","pid":4242,"ops":500,"start_mono_ns":...,
//!            "end_mono_ns":...,"cpu_user_ns":...,"cpu_sys_ns":...,
//!            "histogram":"HISTFAAA...","error":null,"counters":{},
//!            "histograms":{},"peak_rss_kib":6144,"open":null}
//! ```
//!
//! or `{"event":"failed","pid":...,"error":"..."}` if set-up fails, after
//! which the child exits.
//!
//! - `BASE` in `go BASE` is the parent's `CLOCK_MONOTONIC` in ns when it
//!   released the children: the start of an open-loop schedule, the same
//!   for every child.
//! - `start_mono_ns` and `end_mono_ns` are `CLOCK_MONOTONIC` too, which all
//!   processes share, so the parent measures wall time from its own
//!   release to the last child's last op.
//! - `histogram` (and every value of `histograms`, the workload's own
//!   latency histograms by name) is HdrHistogram V2 + DEFLATE, base64.
//! - `error` is null, or `{"kind":"failed"|"deadlocked","message":"..."}`
//!   when an op failed mid-way; the ops before it still count.
//! - `open` is null under closed load; under open load it holds the
//!   uncorrected and pacing histograms and `late_starts`, and `histogram`
//!   then counts from due times.
//! - `histograms`, `peak_rss_kib` and `open` may be left out (older
//!   children); they then read as empty, unknown and closed.
//!
//! Anything else on stdout fails the cell: a workload must not print there.
//! For tests, `COREBENCH_CHILD_FAULT=crash` makes the child abort after
//! release, `=garbage` makes it print a line that is not a message, and
//! `=hang` makes it block after release until it is killed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use workloads::Scaling;

use crate::failure::Failure;
use crate::os::schedstat::SchedStat;
use crate::recorder::Recording;

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
    pub scaling: Scaling,
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
    /// The folder for the IO workloads' files.
    #[arg(long)]
    pub output_dir: Option<std::path::PathBuf>,
    /// `run --flamegraph`: sample the timed region at this rate and send
    /// the folded stacks in a `profile` message before `done`.
    #[arg(long)]
    pub sample_hz: Option<u32>,
    /// `run --wall-profile`: sample the timed region at this wall-clock
    /// rate and send the folded stacks in a `wall_profile` message.
    #[arg(long)]
    pub wall_hz: Option<u32>,
}

/// The environment variable that hands a child the run's `--target` URL
/// (not an argument: `ps` shows arguments, and the URL may hold a
/// password).
pub const TARGET_URL_ENV: &str = "COREBENCH_TARGET_URL";

/// A child's own accounting over its timed region, on the wire: the
/// fields of [`SchedStat`] and the region's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedMessage {
    /// Its counters over the region.
    #[serde(flatten)]
    pub stat: SchedStat,
    /// The region's length, ns.
    pub wall_ns: u64,
    /// Its software perf counters, when they could be opened.
    #[serde(default)]
    pub counts: Option<crate::os::perf::SoftwareCounts>,
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
// Sent once per child and trial, and parsed at once: the size of the
// largest variant costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
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
        error: Option<Failure>,
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
        /// The child's own scheduler counters over its timed region.
        #[serde(default)]
        sched: Option<SchedMessage>,
    },
    /// Its samples of its timed region (with `--sample-hz`), sent just
    /// before `done`: folded stacks, symbolized in the child, the most
    /// frequent first and cut to a size cap.
    Profile {
        /// The child's pid.
        pid: u32,
        /// Folded stack and sample count.
        stacks: Vec<(String, u64)>,
        /// Samples taken, dropped ones included.
        samples: u64,
        /// Samples left out by the cap.
        dropped: u64,
        /// Its CPU time while sampled, ns.
        cpu_ns: u64,
    },
    /// Its wall-clock samples of its timed region (with `--wall-hz`),
    /// folded with their states and symbolized in the child, sent just
    /// before `done`.
    WallProfile {
        /// The child's pid.
        pid: u32,
        /// Folded stack (state first) and ticks.
        stacks: Vec<(String, u64)>,
        /// Ticks in all.
        samples: u64,
    },
    /// Set-up failed; the child exits.
    Failed {
        /// The child's pid.
        pid: u32,
        /// Why.
        error: String,
    },
}
