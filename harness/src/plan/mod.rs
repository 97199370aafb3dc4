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

pub mod file;
mod input;
pub use input::*;

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
    /// Wall-clock samples per second per thread for the wall-clock
    /// profile; `None`: not sampled.
    pub wall_profile_hz: Option<u32>,
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
            // A plan file of `exec` programs alone.
            Some(list) if list.trim().is_empty() && input.exec_programs > 0 => Vec::new(),
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
        if workloads.is_empty() && input.exec_programs == 0 {
            return Err(UsageError::new(
                "--workloads is empty; `corebench list` shows the valid workloads",
            ));
        }
        // The reference cell, unless asked away or already in the plan.
        let calibration = (input.calibration
            && !workloads.is_empty()
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
        let io_workers = match input.io_workers.as_deref() {
            Some(list) => parse_workers(list)?,
            None => io_workers,
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
            target_trial: input
                .target_trial
                .unwrap_or_else(|| input.profile.target_trial()),
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
            flamegraph_hz: input.flamegraph_hz,
            wall_profile_hz: input.wall_profile_hz,
            warmup_trials: input.warmup_trials,
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
    let target = input
        .target_trial
        .unwrap_or_else(|| input.profile.target_trial());
    let target_ops = (rate_ops_s * target.as_secs_f64()).ceil();
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

#[cfg(test)]
mod tests;
