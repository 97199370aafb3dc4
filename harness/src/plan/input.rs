//! What a plan is built from: the profiles' defaults, the fields the
//! command line (or a caller) fills in ([`PlanInput`]), the load mode, and
//! the parsers and limits of every value, each error naming the bad value
//! and the valid ones.

use std::time::Duration;

use crate::disturbance::DisturbancePolicy;
use crate::error::UsageError;
use crate::models::Model;
use crate::recorder::Recording;
use workloads::Scaling;

/// The largest worker count accepted.
pub const MAX_WORKERS: usize = 4096;
/// The largest `--ops` accepted: at 50 ns an op, most of a day.
pub const MAX_OPS: u64 = 1_000_000_000_000;

/// A named set of defaults for `corebench run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// About 30 s on a 2-core machine: short trials, 3 per cell.
    Quick,
    /// About 3 minutes on a 2-core machine: 5 trials per cell.
    Default,
    /// Long trials, 10 per cell, for results worth publishing.
    Full,
}

impl Profile {
    /// Measured trials per cell, from the profile's shipped plan file
    /// (`plans/NAME.toml`).
    pub fn trials(self) -> u32 {
        super::file::profile_defaults(self).0
    }

    /// How long a trial at one worker should take, from the profile's
    /// shipped plan file.
    pub fn target_trial(self) -> Duration {
        super::file::profile_defaults(self).1
    }
}

/// The validated inputs of a plan, as the command line gives them.
#[derive(Debug, Clone)]
pub struct PlanInput {
    /// The profile supplying defaults.
    pub profile: Profile,
    /// `--workloads`, if given.
    pub workloads: Option<String>,
    /// `--models`, if given.
    pub models: Option<String>,
    /// `--workers`, if given.
    pub workers: Option<String>,
    /// The IO-bound workloads' counts, if given apart from `workers` (a
    /// plan file's `io_workers`).
    pub io_workers: Option<String>,
    /// `--pin`.
    pub pin: String,
    /// `--scaling`.
    pub scaling: Scaling,
    /// `--trials`, if given.
    pub trials: Option<u32>,
    /// `--ops`, if given.
    pub ops: Option<u64>,
    /// How long a trial at one worker should take, if not the profile's.
    pub target_trial: Option<Duration>,
    /// `--runtime-threads`, if given.
    pub runtime_threads: Option<usize>,
    /// `--trial-timeout-s`.
    pub trial_timeout: Duration,
    /// `--record`.
    pub recording: Recording,
    /// Whether to add the `cpu/calibrate` reference cell.
    pub calibration: bool,
    /// `--load`: `closed` or `open:RATE`.
    pub load: String,
    /// What to do with a disturbed trial, and what counts as one.
    pub disturbance: DisturbancePolicy,
    /// The seed of the trial order within rounds; `None`: a new one.
    pub seed: Option<u64>,
    /// Samples per CPU-second for flamegraphs; `None`: not sampled.
    pub flamegraph_hz: Option<u32>,
    /// Wall-clock samples per second per thread for the wall-clock
    /// profile; `None`: not sampled.
    pub wall_profile_hz: Option<u32>,
    /// Warm-up trials per cell before the measured ones.
    pub warmup_trials: u32,
    /// `[[exec]]` programs of the plan file: with some, a plan may name
    /// no workloads.
    pub exec_programs: usize,
}

/// What `corebench run` does with no flags and no plan file.
impl Default for PlanInput {
    fn default() -> Self {
        PlanInput {
            profile: Profile::Default,
            workloads: None,
            models: None,
            workers: None,
            io_workers: None,
            pin: "none".into(),
            scaling: Scaling::Strong,
            trials: None,
            ops: None,
            target_trial: None,
            runtime_threads: None,
            trial_timeout: Duration::from_secs(60),
            recording: Recording::PerOp,
            calibration: true,
            load: "closed".into(),
            disturbance: DisturbancePolicy::default(),
            seed: None,
            flamegraph_hz: None,
            wall_profile_hz: None,
            warmup_trials: 1,
            exec_programs: 0,
        }
    }
}

/// How ops arrive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LoadMode {
    /// Each worker starts its next op when the last one ends.
    Closed,
    /// Ops are due on a constant schedule of `rate_ops_s` over all
    /// workers; latency counts from each op's due time.
    Open {
        /// The requested arrival rate.
        rate_ops_s: f64,
    },
}

impl std::str::FromStr for LoadMode {
    type Err = UsageError;
    /// Parses `closed` or `open:RATE` (ops per second, > 0).
    fn from_str(text: &str) -> Result<LoadMode, UsageError> {
        let text = text.trim();
        if text == "closed" {
            return Ok(LoadMode::Closed);
        }
        let bad = || {
            UsageError::new(format!(
                "bad --load '{text}': expected closed or open:RATE with RATE in ops per second > 0 (e.g. open:1000)"
            ))
        };
        let rate = text.strip_prefix("open:").ok_or_else(bad)?;
        match rate.trim().parse::<f64>() {
            Ok(rate) if rate.is_finite() && rate > 0.0 && rate <= 1e9 => {
                Ok(LoadMode::Open { rate_ops_s: rate })
            }
            _ => Err(bad()),
        }
    }
}

/// Written and read as its spelling (`closed`, `open:RATE`), as records
/// and the command line have it.
impl serde::Serialize for LoadMode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for LoadMode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The spelling in records: `closed` or `open:RATE`.
impl std::fmt::Display for LoadMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadMode::Closed => f.write_str("closed"),
            LoadMode::Open { rate_ops_s } => write!(f, "open:{rate_ops_s}"),
        }
    }
}

/// `1, 2, 4, ...` up to `cores`, always including `cores` itself.
pub fn auto_workers(cores: usize) -> Vec<usize> {
    let cores = cores.max(1);
    let mut counts: Vec<usize> = std::iter::successors(Some(1usize), |n| n.checked_mul(2))
        .take_while(|n| *n < cores)
        .collect();
    counts.push(cores);
    counts
}

/// The `auto` sweep of IO-bound workloads: `1, 2, 4, ...` up to 64 or the
/// core count, whichever is larger. Waiting work keeps scaling past the
/// cores, so the interesting part of its curve lies beyond them.
pub fn auto_io_workers(cores: usize) -> Vec<usize> {
    let mut counts = auto_workers(cores.max(IO_AUTO_MAX_WORKERS));
    if !counts.contains(&cores) {
        counts.push(cores);
        counts.sort_unstable();
    }
    counts
}

/// Where the `auto` sweep of IO-bound workloads stops, at least.
pub const IO_AUTO_MAX_WORKERS: usize = 64;

/// The longest `--trial-timeout-s` accepted: a day.
pub const MAX_TRIAL_TIMEOUT_S: f64 = 86_400.0;

/// Parses `--trial-timeout-s` for `run` and `exec` alike: seconds above 0
/// and at most [`MAX_TRIAL_TIMEOUT_S`].
pub fn parse_trial_timeout(seconds: f64) -> Result<Duration, UsageError> {
    if seconds.is_finite() && seconds > 0.0 && seconds <= MAX_TRIAL_TIMEOUT_S {
        return Ok(Duration::from_secs_f64(seconds));
    }
    // Large values as the user likely typed them (1e300), not 301 digits.
    let shown = if seconds.abs() < 1e9 {
        seconds.to_string()
    } else {
        format!("{seconds:e}")
    };
    Err(UsageError::new(format!(
        "bad --trial-timeout-s {shown}: expected a number of seconds above 0 and at most {MAX_TRIAL_TIMEOUT_S}"
    )))
}

/// Parses `--workers` counts for `run` and `exec` alike: whole numbers
/// from 1 to [`MAX_WORKERS`], sorted, without repeats.
pub fn parse_workers(list: &str) -> Result<Vec<usize>, UsageError> {
    let mut counts = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match item.parse::<usize>() {
            Ok(n) if (1..=MAX_WORKERS).contains(&n) => counts.push(n),
            _ => {
                return Err(UsageError::new(format!(
                    "bad --workers value '{item}': expected whole numbers from 1 to {MAX_WORKERS} (e.g. 1,2,4) or auto"
                )))
            }
        }
    }
    if counts.is_empty() {
        return Err(UsageError::new(
            "--workers is empty: expected whole numbers (e.g. 1,2,4) or auto",
        ));
    }
    counts.sort_unstable();
    counts.dedup();
    Ok(counts)
}

pub(super) fn parse_models(list: &str) -> Result<Vec<Model>, UsageError> {
    let mut models: Vec<Model> = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if item == "all" {
            models.extend(crate::models::ALL);
        } else {
            models.push(item.parse()?);
        }
    }
    if models.is_empty() {
        return Err(UsageError::new(
            "--models is empty; `corebench list` shows the valid models",
        ));
    }
    models.sort();
    models.dedup();
    Ok(models)
}
