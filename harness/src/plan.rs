//! Plans: what a `corebench run` will do, built and validated from the
//! command line before anything runs.
//!
//! A [`Plan`] is workloads x models x worker counts x placements, each cell
//! run for `trials` measured trials after a warm-up. [`Profile`]s set the
//! defaults (how many trials, how long a trial should take); every
//! validation error is a [`UsageError`] naming the bad value and the valid
//! ones. Op counts are calibrated per workload so that a trial at one
//! worker takes about the profile's target time, unless `--ops` fixes them.

use std::sync::Arc;
use std::time::Duration;

use workloads::{IoEnv, Registry, Scaling, Workload};

use reports::schema::CALIBRATION_WORKLOAD;

use crate::disturbance::DisturbancePolicy;
use crate::error::UsageError;
use crate::models::Model;
use crate::placement::{parse_placement_list, CpuSet, Placement};
use crate::recorder::Recording;

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
    /// Measured trials per cell.
    pub fn trials(self) -> u32 {
        match self {
            Profile::Quick => 3,
            Profile::Default => 5,
            Profile::Full => 10,
        }
    }

    /// How long a trial at one worker should take.
    pub fn target_trial(self) -> Duration {
        match self {
            Profile::Quick => Duration::from_millis(90),
            Profile::Default => Duration::from_millis(450),
            Profile::Full => Duration::from_millis(1000),
        }
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
    /// `--pin`.
    pub pin: String,
    /// `--scaling`.
    pub scaling: Scaling,
    /// `--trials`, if given.
    pub trials: Option<u32>,
    /// `--ops`, if given.
    pub ops: Option<u64>,
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

/// A validated plan.
pub struct Plan {
    /// Workloads, in the order given.
    pub workloads: Vec<Arc<dyn Workload>>,
    /// Models.
    pub models: Vec<Model>,
    /// Worker counts, ascending.
    pub workers: Vec<usize>,
    /// Worker counts of IO-bound workloads: past the core count under
    /// `auto`, the same as `workers` otherwise.
    pub io_workers: Vec<usize>,
    /// Placements.
    pub placements: Vec<Placement>,
    /// Strong or weak.
    pub scaling: Scaling,
    /// Measured trials per cell.
    pub trials: u32,
    /// Fixed op count (total for strong scaling, per worker for weak and
    /// lockstep), or `None` to calibrate to `target_trial`.
    pub ops: Option<u64>,
    /// Target duration of one trial at one worker.
    pub target_trial: Duration,
    /// Runtime threads for the async models, or `None` for
    /// `min(workers, cores)`.
    pub runtime_threads: Option<usize>,
    /// A trial running longer than this is abandoned as `timeout`.
    pub trial_timeout: Duration,
    /// The cores this process may use.
    pub cpus: CpuSet,
    /// How ops are timed.
    pub recording: Recording,
    /// Index in `workloads` of the `cpu/calibrate` reference cell added to
    /// the run (it runs once, under `seq` at one worker, first).
    pub calibration: Option<usize>,
    /// Closed or open load.
    pub load: LoadMode,
    /// The loopback server, `--target`, and the folder for IO workloads'
    /// files; filled in by `run` once the server is up.
    pub io: IoEnv,
    /// The workloads the plan's specs were looked up in; the `process`
    /// model's children build the same one.
    pub registry: Arc<Registry>,
    /// What to do with disturbed trials.
    pub disturbance: DisturbancePolicy,
    /// The seed of the shuffled trial order within each round.
    pub trial_order_seed: u64,
    /// Samples per CPU-second for flamegraphs; `None`: not sampled.
    pub flamegraph_hz: Option<u32>,
    /// A `--target` on this machine serves the IO workloads: its CPU is
    /// expected load. Set by `run` with the services.
    pub target_is_local: bool,
    /// Warm-up trials per cell before the measured ones (`--warmup`),
    /// each a tenth of a measured trial's ops; 0 runs none.
    pub warmup_trials: u32,
}

/// One cell of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// Index into [`Plan::workloads`].
    pub workload: usize,
    /// The model.
    pub model: Model,
    /// Worker count.
    pub workers: usize,
    /// Index into [`Plan::placements`].
    pub placement: usize,
}

impl Plan {
    /// Builds and validates a plan over the built-in workloads.
    pub fn build(input: &PlanInput, cpus: CpuSet) -> Result<Plan, UsageError> {
        Self::build_with(input, cpus, Arc::new(Registry::builtin()))
    }

    /// Builds and validates a plan whose specs name workloads of `registry`.
    pub fn build_with(
        input: &PlanInput,
        cpus: CpuSet,
        registry: Arc<Registry>,
    ) -> Result<Plan, UsageError> {
        let mut workloads: Vec<Arc<dyn Workload>> = match &input.workloads {
            Some(list) => registry
                .parse_spec_list(list)
                .map_err(|e| UsageError::new(format!("--workloads: {e}")))?
                .into_iter()
                .map(Arc::from)
                .collect(),
            None => registry
                .infos()
                .filter(|w| w.in_profiles)
                .map(|w| registry.parse_spec(w.id).map(Arc::from))
                .collect::<Result<_, _>>()
                .map_err(|e| UsageError::new(e.to_string()))?,
        };
        if workloads.is_empty() {
            return Err(UsageError::new(
                "--workloads is empty; `corebench list` shows the valid workloads",
            ));
        }
        // The reference cell, unless asked away or already in the plan.
        let calibration = (input.calibration
            && !workloads
                .iter()
                .any(|w| w.info().id == CALIBRATION_WORKLOAD))
        .then(|| {
            workloads.push(Arc::from(
                registry
                    .parse_spec(CALIBRATION_WORKLOAD)
                    .expect("every registry holds the calibration workload"),
            ));
            workloads.len() - 1
        });
        let models = match input.models.as_deref() {
            None | Some("all") => crate::models::ALL.to_vec(),
            Some(list) => parse_models(list)?,
        };
        let (workers, io_workers) = match input.workers.as_deref() {
            None | Some("auto") => (
                auto_workers(cpus.core_count()),
                auto_io_workers(cpus.core_count()),
            ),
            Some(list) => {
                let counts = parse_workers(list)?;
                (counts.clone(), counts)
            }
        };
        let load: LoadMode = input.load.parse()?;
        let placements = parse_placement_list(&input.pin)?;
        for placement in &placements {
            cpus.validate(placement)?;
        }
        let trials = input.trials.unwrap_or(input.profile.trials());
        if trials == 0 {
            return Err(UsageError::new(
                "bad --trials 0: expected a whole number >= 1",
            ));
        }
        if let Some(ops) = input.ops.filter(|ops| !(1..=MAX_OPS).contains(ops)) {
            return Err(UsageError::new(format!(
                "bad --ops {ops}: expected a whole number from 1 to {MAX_OPS}"
            )));
        }
        if let Some(threads) = input.runtime_threads {
            if threads == 0 || threads > MAX_WORKERS {
                return Err(UsageError::new(format!(
                    "bad --runtime-threads {threads}: expected a whole number from 1 to {MAX_WORKERS}"
                )));
            }
        }
        if input.trial_timeout.is_zero() {
            return Err(UsageError::new(
                "bad --trial-timeout-s 0: expected a number of seconds > 0",
            ));
        }
        let largest = workers
            .iter()
            .chain(&io_workers)
            .max()
            .copied()
            .unwrap_or(1);
        check_open_schedule(load, input, largest)?;
        Ok(Plan {
            workloads,
            models,
            workers,
            io_workers,
            placements,
            scaling: input.scaling,
            trials,
            ops: input.ops,
            target_trial: input.profile.target_trial(),
            runtime_threads: input.runtime_threads,
            trial_timeout: input.trial_timeout,
            cpus,
            recording: input.recording,
            calibration,
            load,
            io: IoEnv::default(),
            registry,
            disturbance: input.disturbance,
            trial_order_seed: input.seed.unwrap_or_else(|| {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                now.as_nanos() as u64 ^ u64::from(std::process::id())
            }),
            target_is_local: false,
            flamegraph_hz: None,
            warmup_trials: 1,
        })
    }

    /// Every cell, grouped by workload, then placement, then model. A
    /// model runs only up to its own worker limit, whatever `--workers`
    /// says (`seq` at one worker: the T(1) every model is compared with).
    pub fn cells(&self) -> Vec<Cell> {
        let mut cells = Vec::new();
        if let Some(workload) = self.calibration {
            cells.push(Cell {
                workload,
                model: crate::models::REFERENCE,
                workers: 1,
                placement: 0,
            });
        }
        for workload in (0..self.workloads.len()).filter(|w| Some(*w) != self.calibration) {
            for placement in 0..self.placements.len() {
                for &model in &self.models {
                    let counts = model.worker_counts(self.workers_for(workload));
                    for workers in counts {
                        cells.push(Cell {
                            workload,
                            model,
                            workers,
                            placement,
                        });
                    }
                }
            }
        }
        cells
    }

    /// The worker counts of workload `index`.
    pub fn workers_for(&self, index: usize) -> &[usize] {
        if self.workloads[index].io_bound() {
            &self.io_workers
        } else {
            &self.workers
        }
    }

    /// Runtime threads an async model uses at `workers` tasks.
    pub fn runtime_threads_for(&self, model: Model, workers: usize) -> Option<usize> {
        model.runtime_threads(workers, self.cpus.core_count(), self.runtime_threads)
    }
}

/// Checks that an open-load trial fits in its time limit: the schedule of
/// its ops at the requested rate must end before `--trial-timeout-s`, or
/// every cell would time out (`--load open:1e-300`).
fn check_open_schedule(
    load: LoadMode,
    input: &PlanInput,
    largest: usize,
) -> Result<(), UsageError> {
    let LoadMode::Open { rate_ops_s } = load else {
        return Ok(());
    };
    let target_ops = (rate_ops_s * input.profile.target_trial().as_secs_f64()).ceil();
    let per_trial = match (input.ops, input.scaling) {
        (Some(ops), Scaling::Weak) => ops as f64 * largest as f64,
        (Some(ops), Scaling::Strong) => ops as f64,
        (None, _) => target_ops,
    }
    .max(2.0 * largest as f64);
    let seconds = per_trial / rate_ops_s;
    if seconds >= input.trial_timeout.as_secs_f64() {
        // A tiny rate as the user likely typed it (1e-300), not 300 zeros.
        let rate = if rate_ops_s < 1e-3 {
            format!("{rate_ops_s:e}")
        } else {
            rate_ops_s.to_string()
        };
        return Err(UsageError::new(format!(
            "bad --load open:{rate}: {per_trial:.0} ops at {rate} ops/s take {seconds:.3e} s, past --trial-timeout-s {}; raise the rate or lower --ops",
            input.trial_timeout.as_secs_f64()
        )));
    }
    Ok(())
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

fn parse_models(list: &str) -> Result<Vec<Model>, UsageError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str) -> Model {
        name.parse().unwrap()
    }

    fn two_cpus() -> CpuSet {
        CpuSet::on_cores(&[0, 1])
    }

    fn input() -> PlanInput {
        PlanInput {
            profile: Profile::Quick,
            workloads: None,
            models: None,
            workers: None,
            pin: "none".into(),
            scaling: Scaling::Strong,
            trials: None,
            ops: None,
            runtime_threads: None,
            trial_timeout: Duration::from_secs(60),
            recording: Recording::PerOp,
            calibration: true,
            load: "closed".into(),
            disturbance: DisturbancePolicy::default(),
            seed: None,
        }
    }

    #[test]
    fn auto_workers_doubles_and_ends_at_the_core_count() {
        assert_eq!(auto_workers(1), vec![1]);
        assert_eq!(auto_workers(2), vec![1, 2]);
        assert_eq!(auto_workers(6), vec![1, 2, 4, 6]);
        assert_eq!(auto_workers(64), vec![1, 2, 4, 8, 16, 32, 64]);
        assert_eq!(auto_io_workers(2), vec![1, 2, 4, 8, 16, 32, 64]);
        assert_eq!(auto_io_workers(6), vec![1, 2, 4, 6, 8, 16, 32, 64]);
        assert_eq!(auto_io_workers(96), vec![1, 2, 4, 8, 16, 32, 64, 96]);
    }

    #[test]
    fn default_plan_has_every_profile_workload_and_model_and_seq_once() {
        let plan = Plan::build(&input(), two_cpus()).unwrap();
        // Five CPU workloads, io/http, and the calibration reference.
        assert_eq!(plan.workloads.len(), 7);
        assert_eq!(plan.models.len(), 7);
        let cells = plan.cells();
        // The reference first, then per CPU workload: seq at 1, six models
        // at 1 and 2; io/http: seq at 1, six models at 1, 2, 4, ..., 64.
        assert_eq!(cells.len(), 1 + 5 * (1 + 6 * 2) + (1 + 6 * 7));
        assert_eq!(
            plan.workloads[cells[0].workload].info().id,
            CALIBRATION_WORKLOAD
        );
        assert_eq!((cells[0].model, cells[0].workers), (model("seq"), 1));
        let without = Plan::build(
            &PlanInput {
                calibration: false,
                ..input()
            },
            two_cpus(),
        )
        .unwrap();
        assert_eq!(without.cells().len(), 5 * (1 + 6 * 2) + (1 + 6 * 7));
        assert!(cells
            .iter()
            .all(|c| c.model != model("seq") || c.workers == 1));
    }

    #[test]
    fn bad_inputs_name_the_value_and_the_valid_ones() {
        let check = |f: &dyn Fn(&mut PlanInput), needle: &str| {
            let mut i = input();
            f(&mut i);
            let err = Plan::build(&i, two_cpus()).err().expect(needle).to_string();
            assert!(err.contains(needle), "{err} lacks {needle}");
        };
        check(&|i| i.workers = Some("0".into()), "'0'");
        check(&|i| i.workers = Some("two".into()), "'two'");
        check(&|i| i.models = Some("fibers".into()), "threads");
        check(&|i| i.workloads = Some("cpu/nope".into()), "cpu/primes");
        check(&|i| i.pin = "cores=7".into(), "available cores: 0,1");
        check(&|i| i.trials = Some(0), "--trials 0");
        check(&|i| i.runtime_threads = Some(0), "--runtime-threads 0");
        check(&|i| i.load = "open:0".into(), "'open:0'");
        check(&|i| i.load = "open:-5".into(), "RATE in ops per second > 0");
        check(&|i| i.load = "open".into(), "closed or open:RATE");
        check(&|i| i.load = "poisson:10".into(), "closed or open:RATE");
        check(&|i| i.load = "open:1e-300".into(), "past --trial-timeout-s");
        check(&|i| i.ops = Some(u64::MAX), "--ops 18446744073709551615");
        check(
            &|i| i.pin = "cores=0-99999999999".into(),
            "core 99999999999",
        );
    }

    #[test]
    fn load_modes_parse() {
        assert_eq!("closed".parse::<LoadMode>().unwrap(), LoadMode::Closed);
        assert_eq!(
            "open:1000".parse::<LoadMode>().unwrap(),
            LoadMode::Open { rate_ops_s: 1000.0 }
        );
        assert_eq!(
            "open:2.5".parse::<LoadMode>().unwrap().to_string(),
            "open:2.5"
        );
    }

    #[test]
    fn tokio_threads_default_to_min_of_workers_and_cores() {
        let plan = Plan::build(&input(), two_cpus()).unwrap();
        assert_eq!(plan.runtime_threads_for(model("tokio"), 1), Some(1));
        assert_eq!(plan.runtime_threads_for(model("tokio"), 8), Some(2));
        assert_eq!(plan.runtime_threads_for(model("tokio-current"), 8), Some(1));
        assert_eq!(plan.runtime_threads_for(model("threads"), 8), None);
    }

    #[test]
    fn a_cgroup_quota_sets_the_auto_sweep() {
        let mut cpus = CpuSet::on_cores(&(0..64).collect::<Vec<u32>>());
        cpus.quota_cores = Some(2);
        let plan = Plan::build(&input(), cpus).unwrap();
        assert_eq!(plan.workers, vec![1, 2]);
        assert_eq!(plan.runtime_threads_for(model("tokio"), 8), Some(2));
    }
}
