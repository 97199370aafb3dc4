//! What a section of the analysis holds: per model a curve of points with
//! intervals and fits, per cell a row of the table, latency spectra and
//! balance. The page, the charts and the exports read these.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::fits::{AmdahlFit, GustafsonFit, UslFit};
use crate::schema::Status;
use crate::stats::{Estimate, Outliers};

/// A fit, or why there is none.
#[derive(Debug, Clone, Serialize)]
pub struct Fitted<T> {
    /// The fit, when made.
    pub fit: Option<T>,
    /// Why not, when not.
    pub reason: Option<String>,
}

impl<T> Fitted<T> {
    /// A fit, or the reason a fitter gave for making none.
    pub(crate) fn from(result: Result<T, String>) -> Self {
        match result {
            Ok(fit) => Fitted {
                fit: Some(fit),
                reason: None,
            },
            Err(reason) => Fitted {
                fit: None,
                reason: Some(reason),
            },
        }
    }

    /// No fit, for `reason`.
    pub(crate) fn skipped(reason: impl Into<String>) -> Self {
        Fitted {
            fit: None,
            reason: Some(reason.into()),
        }
    }
}

/// Amdahl's serial fraction with its interval.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct AmdahlSummary {
    /// f with its bootstrap interval.
    pub serial_fraction: Estimate,
    /// The least-squares fit at the medians.
    pub fit: AmdahlFit,
}

/// Gustafson's serial fraction with its interval.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct GustafsonSummary {
    /// f with its bootstrap interval.
    pub serial_fraction: Estimate,
    /// The least-squares fit at the medians.
    pub fit: GustafsonFit,
}

/// One model's curve within a section.
#[derive(Debug, Clone, Serialize)]
pub struct ModelCurve {
    /// The model.
    pub model: String,
    /// Its points, ascending n, only cells with successful trials.
    pub points: Vec<CurvePoint>,
    /// Amdahl (strong scaling).
    pub amdahl: Fitted<AmdahlSummary>,
    /// Gustafson (weak scaling only).
    pub gustafson: Option<Fitted<GustafsonSummary>>,
    /// The USL on throughput.
    pub usl: Fitted<UslFit>,
    /// T(seq) / T(model at 1 worker): the model's own cost at n = 1.
    pub vs_seq_at_1: Option<Estimate>,
    /// One plain sentence reading the fits.
    pub reading: String,
    /// Whether the fitted curve may be projected past the measured counts:
    /// Amdahl fitted from 3 or more worker counts within the cores, and no
    /// measured point above its ceiling.
    pub projectable: bool,
    /// The most speedup the reading claims on any number of cores, when it
    /// claims one; never below a measured point.
    pub ceiling: Option<f64>,
    /// Where the workers' time went, per worker count (cells whose records
    /// carry a breakdown).
    pub time_split: Vec<TimeSplit>,
    /// The law its reading uses, and why ([`super::laws`]).
    pub law: Option<LawChoice>,
    /// Where throughput peaks, when the chosen law says it does.
    pub peak: Option<Peak>,
    /// Where its slope falls, and why.
    pub knees: Vec<Knee>,
    /// Its workers were processes of their own while the workload shares
    /// state: each had its own copy, so it ran different work.
    pub own_copies: bool,
}

impl ModelCurve {
    /// The measured throughput of one worker, ops/s.
    pub fn base_throughput_ops_s(&self) -> Option<f64> {
        let base = self
            .points
            .iter()
            .find(|p| p.n == 1)?
            .throughput_ops_s
            .point;
        (base > 0.0).then_some(base)
    }

    /// The speedup the USL fit gives `n` workers: its throughput over the
    /// measured throughput of one worker.
    pub fn usl_speedup(&self, n: f64) -> Option<f64> {
        Some(self.usl.fit?.throughput(n) / self.base_throughput_ops_s()?)
    }

    /// The speedup the chosen law gives `n` workers, where its reading
    /// projects it (the dashed lines of the charts).
    pub fn law_speedup(&self, n: f64) -> Option<f64> {
        if !self.projectable {
            return None;
        }
        self.fitted_speedup(n)
    }

    /// The speedup the chosen law gives `n` workers, projected or not.
    pub fn fitted_speedup(&self, n: f64) -> Option<f64> {
        match self.law.as_ref()?.law {
            Law::Usl => self.usl_speedup(n),
            Law::Amdahl => self.amdahl.fit.map(|a| a.fit.speedup(n)),
            Law::Gustafson => None,
        }
    }
}

/// Where one cell's worker time went: median fractions of the workers'
/// summed wall time over its trials (they add up to 1).
#[derive(Debug, Clone, Serialize)]
pub struct TimeSplit {
    /// Workers.
    pub n: u32,
    /// Threads the split is over (fewer than `n` when tasks share runtime
    /// threads).
    pub threads: u32,
    /// In user code.
    pub user: f64,
    /// In the kernel.
    pub system: f64,
    /// Waiting for a CPU.
    pub runqueue: f64,
    /// Asleep: a lock, a barrier, IO, a timer.
    pub blocked: f64,
    /// Context switches per op.
    pub switches_per_op: f64,
    /// On-CPU time per op over the 1-worker cell's.
    pub work_inflation: Option<f64>,
    /// Where the blocked time went, with `--wall-profile`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waits: Option<crate::waits::CellWaits>,
}

/// One worker count of one model's curve.
#[derive(Debug, Clone, Serialize)]
pub struct CurvePoint {
    /// Workers.
    pub n: u32,
    /// Speedup against the same model at one worker, with interval.
    pub speedup: Option<Estimate>,
    /// Speedup / n.
    pub efficiency: Option<f64>,
    /// Throughput, ops/s, with interval.
    pub throughput_ops_s: Estimate,
    /// Karp–Flatt e(n), for n > 1.
    pub karp_flatt: Option<f64>,
}

/// One row of a section's table of cells.
#[derive(Debug, Clone, Serialize)]
pub struct CellRow {
    /// The model.
    pub model: String,
    /// Workers.
    pub workers: u32,
    /// Worst status over trials.
    pub status: Status,
    /// First error text.
    pub error: Option<String>,
    /// Trials recorded.
    pub trials: usize,
    /// Trials that ended ok.
    pub trials_ok: usize,
    /// Trials its figures come from ([`super::measured_trials`]): the ok
    /// trials, less the disturbed ones when enough are clean.
    pub trials_measured: usize,
    /// Trials the machine disturbed (kept after retries, or flagged).
    pub disturbed: usize,
    /// Their reasons, one line each, for the page.
    pub disturbed_why: Vec<String>,
    /// Median wall time, ns, with interval.
    pub wall_ns: Option<Estimate>,
    /// Median throughput, ops/s, with interval.
    pub throughput_ops_s: Option<Estimate>,
    /// The throughput of every trial it is measured by, ops/s, in record
    /// order: what a comparison's ratio interval is computed from.
    #[serde(skip)]
    pub ok_throughputs_ops_s: Vec<f64>,
    /// Lockstep workloads: median rounds per second (what the speedup
    /// agrees with: an op is one worker's part of a round), with the
    /// slowest and fastest trial's.
    pub rounds_s: Option<(f64, f64, f64)>,
    /// Speedup against the model at one worker: the Hodges-Lehmann
    /// estimate of the ratio of wall times, with its exact interval. The
    /// one speedup: the terminal, the page, `--json` and the exports show it.
    pub speedup: Option<Estimate>,
    /// The same against `seq` at one worker: what the model costs at all.
    pub speedup_vs_seq: Option<Estimate>,
    /// Median p50 latency, ns.
    pub p50_ns: Option<f64>,
    /// Median p90 latency, ns.
    pub p90_ns: Option<f64>,
    /// Median p99 latency, ns.
    pub p99_ns: Option<f64>,
    /// Median p99.9 latency, ns.
    pub p99_9_ns: Option<f64>,
    /// Median of the trials' slowest op, ns.
    pub max_ns: Option<f64>,
    /// Median CPU utilisation, 0..1 per worker.
    pub cpu_utilisation: Option<f64>,
    /// Outliers among the trials' wall times.
    pub outliers: Outliers,
    /// Median dispatch floor, ns per op.
    pub dispatch_floor_ns: Option<f64>,
    /// Median op (p50) over the dispatch floor.
    pub floor_ratio: Option<f64>,
    /// Whether the ops are so short that the model's own cost dominates:
    /// median op under [`FLOOR_WARNING_RATIO`] times the dispatch floor.
    pub measures_executor: bool,
    /// Whether the async op ran.
    pub async_op: bool,
    /// Median of each workload counter over the trials that report it.
    pub counters: BTreeMap<String, f64>,
    /// Median Jain index over the trials (multi-worker cells).
    pub jain_index: Option<f64>,
    /// Median max/min per-worker op ratio.
    pub max_min_ratio: Option<f64>,
    /// Whether any trial starved a worker (under 10% of the mean ops).
    pub starvation: bool,
    /// Ops in flight at once, on average: by Little's law, the total time
    /// ops took (from their due times under open load) over the wall time.
    pub in_flight: Option<f64>,
    /// Open load only: requested vs achieved rate, uncorrected latency.
    pub open: Option<OpenRow>,
    /// Median context switches per op, from the workers' accounting.
    pub switches_per_op: Option<f64>,
    /// Median share of the workers' time spent waiting for a CPU.
    pub runqueue_fraction: Option<f64>,
    /// Median instructions per cycle, where hardware counters were had.
    pub ipc: Option<f64>,
    /// Median cache misses per op, likewise.
    pub cache_misses_per_op: Option<f64>,
}

/// A cell whose median op is under this many dispatch floors measures the
/// executor rather than the workload.
pub const FLOOR_WARNING_RATIO: f64 = 10.0;

/// A latency spectrum: percentile against latency, merged over trials.
#[derive(Debug, Clone)]
pub struct Spectrum {
    /// The model.
    pub model: String,
    /// Workers.
    pub workers: u32,
    /// (1/(1-p), latency ns), ascending p.
    pub points: Vec<(f64, f64)>,
    /// Under open load: latency from each op's actual start (what a
    /// closed-loop client reports), not from its due time.
    pub uncorrected: bool,
}

/// An open-loop cell: the schedule asked for and how it went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenRow {
    /// The arrival rate asked for.
    pub requested_rate_ops_s: f64,
    /// The rate achieved (median throughput).
    pub achieved_rate_ops_s: f64,
    /// p99 from each op's actual start (coordinated omission left in).
    pub uncorrected_p99_ns: Option<f64>,
    /// p99 of how late workers woke for ops they were early for.
    pub pacing_p99_ns: Option<f64>,
    /// Ops started late because the worker was busy (median over trials).
    pub late_starts: Option<f64>,
}

impl OpenRow {
    /// Whether the achieved rate fell short of the requested one by more
    /// than [`RATE_SHORTFALL`].
    pub fn fell_short(&self) -> bool {
        self.achieved_rate_ops_s < self.requested_rate_ops_s * (1.0 - RATE_SHORTFALL)
    }
}

/// How far below the requested rate an open-loop cell may fall before the
/// report says it could not keep up.
pub const RATE_SHORTFALL: f64 = 0.05;

/// Per-worker op counts of one cell, and Jain's fairness index.
#[derive(Debug, Clone, Serialize)]
pub struct Balance {
    /// The model.
    pub model: String,
    /// Workers.
    pub workers: u32,
    /// Ops per worker (from the median-wall trial), by worker index.
    pub ops: Vec<u64>,
    /// (sum x)^2 / (n sum x^2): 1 when perfectly even, 1/n when one worker
    /// did everything.
    pub jain_index: f64,
}

impl CellRow {
    /// Disturbed ok trials its figures leave out.
    pub fn left_out(&self) -> usize {
        self.trials_ok - self.trials_measured
    }

    /// Whether its figures are clean: no trial was disturbed, or enough
    /// were clean to leave the disturbed ones out. A comparison gives a
    /// verdict only on cells whose figures are clean on both sides.
    pub fn clean_figures(&self) -> bool {
        self.disturbed == 0 || self.left_out() > 0
    }

    /// What the tables say of its disturbed trials, if it had any: "4 of
    /// 5 clean, 1 disturbed left out", or that too few were clean.
    pub fn disturbed_text(&self) -> Option<String> {
        if self.disturbed == 0 {
            None
        } else if self.left_out() > 0 {
            Some(format!(
                "{} of {} clean, {} disturbed left out",
                self.trials_measured,
                self.trials_ok,
                self.left_out()
            ))
        } else {
            Some(format!(
                "{} disturbed, kept: fewer than {} clean",
                self.disturbed,
                super::MIN_CLEAN_TRIALS
            ))
        }
    }

    /// The slowest and fastest measured trial's throughput, ops/s.
    pub fn throughput_range_ops_s(&self) -> Option<(f64, f64)> {
        crate::stats::range(&self.ok_throughputs_ops_s)
    }
}

/// A scaling law.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Law {
    /// Amdahl's: a serial fraction, throughput that never falls.
    Amdahl,
    /// Gustafson's, for weak scaling.
    Gustafson,
    /// The Universal Scalability Law: contention and coherency.
    Usl,
}

impl Law {
    /// Its name in prose.
    pub fn name(self) -> &'static str {
        match self {
            Law::Amdahl => "Amdahl",
            Law::Gustafson => "Gustafson",
            Law::Usl => "USL",
        }
    }
}

/// The law a model's reading uses, and why.
#[derive(Debug, Clone, Serialize)]
pub struct LawChoice {
    /// The law.
    pub law: Law,
    /// Why, in words: the criterion and its value, or why there was no
    /// choice to make.
    pub why: String,
    /// The F-test of the USL against Amdahl's law on the same points,
    /// where both were fitted.
    pub criterion: Option<crate::fits::CoherencyTest>,
}

/// Where throughput peaks, when the chosen law says it does.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Peak {
    /// The worker count of the peak, n*.
    pub workers: f64,
    /// The measured counts it lies between, when it lies inside the data.
    pub between: Option<(u32, u32)>,
}

/// Why a slope fell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KneeCause {
    /// Past the physical cores: workers share cores with SMT siblings.
    Smt,
    /// Past one socket's CPUs: memory on the other node.
    Socket,
    /// Past the cores: more runnable threads than CPUs.
    Oversubscribed,
    /// The blocked share grows: locks, barriers.
    Blocked,
    /// CPU time per op grows with no waiting: shared hardware.
    SharedHardware,
    /// Several signs at once: the evidence does not single one out.
    Mixed,
    /// No recorded evidence says why.
    Unknown,
}

/// A fall in the slope of a model's speedup curve.
#[derive(Debug, Clone, Serialize)]
pub struct Knee {
    /// The last count before the slope falls.
    pub workers: u32,
    /// The next measured count.
    pub next_workers: u32,
    /// Speedup per added worker before the knee.
    pub slope_before: f64,
    /// Speedup per added worker after it.
    pub slope_after: f64,
    /// Why, from the evidence.
    pub cause: KneeCause,
    /// The knee in words, with its evidence.
    pub text: String,
}
