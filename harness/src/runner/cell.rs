//! One cell of a plan as the runner drives it: set up once (a refusal,
//! the dispatch floor, the warm-up), then one trial at a time as its
//! section's rounds come to it, each trial judged for disturbance and,
//! when the policy says so, run again later in its round.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use reports::schema::{ModelOverhead, Record, Status};
use workloads::{Scaling, Workload};

use crate::disturbance::{self, Context, OnDisturbance};
use crate::failure::Failure;
use crate::models::{ExecutionModel, OpBudget, TrialOutcome, TrialSpec};
use crate::plan::{Cell, LoadMode, Plan};
use crate::record::{RecordContext, TrialParts};
use crate::sampler::CellSampler;
use crate::supervisor::Supervisor;
use crate::wall::CellWall;

use super::rounds::{TrialEnd, TrialSource};

/// Empty ops per worker used to measure a model's dispatch floor.
const FLOOR_OPS_PER_WORKER: u64 = 2000;
/// Trials of the `cpu/calibrate` reference cell, at least.
const CALIBRATION_MIN_TRIALS: u32 = 7;
/// Clean trials a cell needs before its CPU time per op is judged.
const CPU_PER_OP_MIN_TRIALS: usize = 2;

/// A cell between trials.
pub(super) struct CellRun<'p> {
    plan: &'p Plan,
    cell: Cell,
    model: Arc<dyn ExecutionModel>,
    workload: Arc<dyn Workload>,
    ctx: RecordContext,
    base_ops: u64,
    units: usize,
    dispatch_floor_ns: Option<f64>,
    /// Trials to run, and run so far.
    trials: u32,
    done: u32,
    /// Stopped early (a failed trial).
    stopped: bool,
    /// The attempt at the current trial (1 for a first try).
    attempt: u32,
    /// Its last disturbed attempt, while it waits to run again.
    pending: Option<Record>,
    /// Its trials kept clean so far.
    clean: usize,
    /// CPU time per op of its clean trials, ns.
    cpu_per_op: Vec<f64>,
    context: Context,
    /// Its samples, with `--flamegraph`.
    sampler: Option<CellSampler>,
    /// Its wall-clock samples, with `--wall-profile`.
    wall: Option<CellWall>,
}

/// How setting a cell up ended.
pub(super) enum SetUp<'p> {
    /// Ready for its trials.
    Ready(Box<CellRun<'p>>),
    /// It cannot run, or its warm-up failed: this record says why.
    Refused(Box<Record>),
    /// The run was interrupted.
    Interrupted,
}

impl<'p> CellRun<'p> {
    /// Builds the cell's context, asks the model, measures the floor and
    /// runs the warm-up.
    pub fn set_up(
        plan: &'p Plan,
        cell: &Cell,
        model: Arc<dyn ExecutionModel>,
        base_ops: u64,
        run_id: &str,
        supervisor: &mut Supervisor,
    ) -> SetUp<'p> {
        let workload = Arc::clone(&plan.workloads[cell.workload]);
        let runtime_threads = plan.runtime_threads_for(cell.model, cell.workers);
        let units = runtime_threads.unwrap_or(cell.workers);
        let ctx = RecordContext {
            workload: Arc::clone(&workload),
            model: cell.model.name().to_string(),
            workers: cell.workers,
            runtime_threads,
            placement: plan.placements[cell.placement].to_string(),
            cores: plan.cpus.resolve(&plan.placements[cell.placement], units),
            scaling: plan.scaling,
            load: plan.load,
            recording: plan.recording,
            run_id: run_id.to_string(),
            is_async: cell.model.info().is_async,
        };
        let refusal = match plan.load {
            LoadMode::Open { .. } if workload.requirements().lockstep => Err(format!(
                "{} is lockstep (its ops are parts of rounds every worker runs together), so it cannot follow an open arrival schedule; run it with --load closed",
                workload.info().id
            )),
            _ => model.check_support(workload.as_ref(), cell.workers),
        };
        if let Err(reason) = refusal {
            let mut parts =
                TrialParts::failed(Failure::unsupported(reason), ModelOverhead::default());
            parts.notes.extend(supervisor.unclean_note());
            return SetUp::Refused(Box::new(ctx.record(parts)));
        }
        let uses_server = workload.http_use() != workloads::HttpUse::None;
        let context = Context {
            cores: plan.cpus.core_count(),
            // The loopback server's threads compete with the IO workers.
            // (The pool's submitter does not count: it sleeps until half
            // its window of jobs is done, so it rarely wants a core, and
            // counting it hid real waits at as many workers as cores.)
            // A workload's own helpers (a pipeline's stages) do too.
            extra_threads: workload.helper_threads()
                + if uses_server && !plan.target_is_local {
                    plan.cpus.core_count()
                } else {
                    0
                },
            target_load_expected: uses_server && plan.target_is_local,
        };
        let trials = if plan.calibration == Some(cell.workload) {
            plan.trials.max(CALIBRATION_MIN_TRIALS)
        } else {
            plan.trials
        };
        let mut run = CellRun {
            plan,
            cell: cell.clone(),
            model,
            workload,
            ctx,
            base_ops,
            units,
            dispatch_floor_ns: None,
            trials,
            done: 0,
            stopped: false,
            attempt: 1,
            pending: None,
            clean: 0,
            cpu_per_op: Vec::new(),
            context,
            sampler: None,
            wall: None,
        };
        run.dispatch_floor_ns = run.measure_floor(supervisor);
        for _ in 0..plan.warmup_trials {
            let warm_up = supervisor.run(
                &run.model,
                run.spec(
                    Arc::clone(&run.workload),
                    run.budget((base_ops / 10).max(1)),
                ),
                plan.trial_timeout,
            );
            if crate::interrupt::requested().is_some() {
                return SetUp::Interrupted;
            }
            let Err(e) = failure_of(&warm_up) else {
                continue;
            };
            let overhead = ModelOverhead {
                dispatch_floor_ns: run.dispatch_floor_ns,
                spawn_ns: None,
            };
            let mut parts = TrialParts::failed(e.prefixed("warm-up: "), overhead);
            parts.notes.extend(supervisor.unclean_note());
            return SetUp::Refused(Box::new(run.ctx.record(parts)));
        }
        SetUp::Ready(Box::new(run))
    }

    /// Samples its measured trials at `hz` into `results_dir/profiles/`.
    pub fn sample_into(&mut self, results_dir: &std::path::Path, hz: u32) {
        let in_children = self.cell.model.info().in_children;
        let cell = self.ctx.cell_key();
        self.sampler = Some(CellSampler::new(results_dir, hz, in_children, cell));
    }

    /// Samples its measured trials' threads at `hz` of wall-clock time
    /// into `results_dir/profiles/`.
    pub fn wall_profile_into(&mut self, results_dir: &std::path::Path, hz: u32) {
        let in_children = self.cell.model.info().in_children;
        self.wall = Some(CellWall::new(
            results_dir,
            hz,
            in_children,
            self.ctx.cell_key(),
        ));
    }
}

impl TrialSource for CellRun<'_> {
    fn label(&self) -> String {
        super::cell_label(self.plan, &self.cell)
    }

    fn wants_more(&self) -> bool {
        !self.stopped && self.done < self.trials
    }

    fn skipped(&self) -> u32 {
        self.trials - self.done
    }

    /// Runs its next trial, or a disturbed one again; a disturbed attempt
    /// the policy re-runs is held and reported as such.
    fn next_trial(&mut self, round: u32, supervisor: &mut Supervisor) -> Option<TrialEnd> {
        let policy = self.plan.disturbance;
        let attempt = self.attempt;
        let armed = self.sampler.as_ref().and_then(CellSampler::arm);
        let wall = self.wall.as_ref().and_then(CellWall::arm);
        let mut result = supervisor.run(
            &self.model,
            self.spec(Arc::clone(&self.workload), self.budget(self.base_ops)),
            self.plan.trial_timeout,
        );
        if crate::interrupt::requested().is_some() {
            return None;
        }
        let view = result.as_ref().ok().map(|outcome| {
            let mut view = disturbance::judge(outcome, self.context, &policy.rule);
            view.attempt = attempt;
            self.judge_cpu_per_op(outcome, &mut view);
            if policy.on_disturbance == OnDisturbance::Ignore {
                view.disturbed = false;
                view.reasons.clear();
            }
            view
        });
        let overhead = ModelOverhead {
            dispatch_floor_ns: self.dispatch_floor_ns,
            spawn_ns: result.as_ref().ok().and_then(|o| o.spawn_ns),
        };
        let cpu_per_op = result.as_ref().ok().and_then(cpu_per_op_ns);
        let child_samples = result.as_mut().ok().and_then(|o| o.child_samples.take());
        let child_wall = result.as_mut().ok().and_then(|o| o.child_wall.take());
        let mut notes = Vec::new();
        if let Some(sampler) = self.sampler.as_mut() {
            if let Err(e) = sampler.finish(armed, child_samples) {
                notes.push(format!("its samples could not be saved: {e}"));
            }
        }
        let mut waits = None;
        if let Some(cell_wall) = self.wall.as_mut() {
            let (reading, saved) = cell_wall.finish(wall, child_wall);
            if reading.is_none() {
                if let Ok(outcome) = &result {
                    notes.push(format!(
                        "its wall-clock profile took no samples: the trial ({}) was shorter than the sampling interval ({}); raise --wall-profile-hz or --ops",
                        reports::format::format_ns(outcome.wall_ns as f64),
                        reports::format::format_ns(1e9 / f64::from(cell_wall.asked_hz()))
                    ));
                }
            }
            waits = reading;
            if let Err(e) = saved {
                notes.push(format!("its wall-clock samples could not be saved: {e}"));
            }
        }
        notes.extend(supervisor.unclean_note());
        let disturbed = view.as_ref().is_some_and(|v| v.disturbed);
        let record = self.ctx.record(TrialParts {
            trial: self.done,
            round: Some(round),
            result,
            overhead,
            machine: view,
            notes,
            waits,
        });
        let retry = disturbed
            && record.status == Status::Ok
            && policy.on_disturbance == OnDisturbance::Retry
            && attempt <= policy.max_retries;
        if retry {
            self.attempt += 1;
            self.pending = Some(record);
            return Some(TrialEnd::Disturbed);
        }
        if record.status == Status::Ok && !disturbed {
            self.clean += 1;
            self.cpu_per_op.extend(cpu_per_op);
        }
        Some(TrialEnd::Kept(Box::new(self.finish(record))))
    }

    fn clean_so_far(&self) -> usize {
        self.clean
    }

    fn holds_disturbed(&self) -> bool {
        self.pending.is_some()
    }

    fn keep_disturbed(&mut self) -> Option<Record> {
        let record = self.pending.take()?;
        Some(self.finish(record))
    }
}

impl CellRun<'_> {
    /// Ends the current trial with `record`.
    fn finish(&mut self, record: Record) -> Record {
        self.pending = None;
        self.attempt = 1;
        self.done += 1;
        self.stopped = record.status != Status::Ok;
        record
    }

    /// Holds a trial's CPU time per op to the cell's running median: a
    /// host that slowed down shows there when nothing else does. Only for
    /// workloads whose workers share nothing (contention varies it).
    fn judge_cpu_per_op(&self, outcome: &TrialOutcome, view: &mut reports::schema::MachineView) {
        if self.workload.requirements().shared_memory.is_some()
            || self.cpu_per_op.len() < CPU_PER_OP_MIN_TRIALS
        {
            return;
        }
        let Some(this) = cpu_per_op_ns(outcome) else {
            return;
        };
        view.cpu_per_op_ratio = disturbance::cpu_per_op_ratio(this, &self.cpu_per_op);
        if let Some(ratio) = view.cpu_per_op_ratio {
            if ratio > self.plan.disturbance.rule.max_cpu_per_op_ratio {
                view.disturbed = true;
                view.reasons.push(format!(
                    "CPU time per op was {ratio:.2}x the median of the cell's other trials"
                ));
            }
        }
    }

    fn budget(&self, ops: u64) -> OpBudget {
        budget_for(
            self.workload.requirements().lockstep,
            self.plan.scaling,
            self.cell.workers,
            ops,
        )
    }

    fn spec(&self, workload: Arc<dyn Workload>, budget: OpBudget) -> TrialSpec {
        TrialSpec {
            workload,
            workers: self.cell.workers,
            scaling: self.plan.scaling,
            budget,
            cores: self.ctx.cores.clone(),
            runtime_threads: self.units,
            recording: self.plan.recording,
            deadline: Instant::now() + self.plan.trial_timeout,
            open_rate_ops_s: match self.plan.load {
                LoadMode::Open { rate_ops_s } => Some(rate_ops_s),
                LoadMode::Closed => None,
            },
            io: self.plan.io.clone(),
            stop: Arc::new(AtomicBool::new(false)),
            sample_hz: self.sampler.as_ref().map(CellSampler::asked_hz),
            wall_hz: self.wall.as_ref().map(CellWall::asked_hz),
        }
    }

    /// Runs the empty op through the model: time per op per worker.
    fn measure_floor(&self, supervisor: &mut Supervisor) -> Option<f64> {
        let noop: Arc<dyn Workload> =
            Arc::from(self.plan.registry.parse_spec("synthetic/noop").ok()?);
        let workers = self.cell.workers;
        let mut trial = self.spec(
            noop,
            OpBudget::Shared {
                total: FLOOR_OPS_PER_WORKER * workers as u64,
            },
        );
        // The floor is the model's cost per op flat out, whatever the load.
        trial.open_rate_ops_s = None;
        let timeout = trial.deadline.saturating_duration_since(Instant::now());
        let outcome = supervisor.run(&self.model, trial, timeout).ok()?;
        let ops = outcome.ops();
        (ops > 0 && outcome.first_error().is_none())
            .then(|| outcome.wall_ns as f64 * workers as f64 / ops as f64)
    }
}

/// A finished trial's CPU time per op, ns.
fn cpu_per_op_ns(outcome: &TrialOutcome) -> Option<f64> {
    let ops = outcome.ops();
    (ops > 0 && outcome.first_error().is_none())
        .then(|| (outcome.cpu.user_ns + outcome.cpu.sys_ns) as f64 / ops as f64)
}

/// The op budget of one trial. Lockstep workloads run `ops` rounds on every
/// worker; the others run `ops` in all (strong) or per worker (weak).
fn budget_for(lockstep: bool, scaling: Scaling, workers: usize, ops: u64) -> OpBudget {
    if lockstep {
        return OpBudget::PerWorker { ops };
    }
    match scaling {
        Scaling::Strong => OpBudget::Shared {
            total: ops.max(workers as u64),
        },
        Scaling::Weak => OpBudget::Shared {
            total: ops * workers as u64,
        },
    }
}

/// A trial's error, or the first worker error of a finished trial.
fn failure_of(result: &Result<TrialOutcome, Failure>) -> Result<(), Failure> {
    match result {
        Ok(outcome) => outcome.first_error().map_or(Ok(()), Err),
        Err(e) => Err(e.clone()),
    }
}
