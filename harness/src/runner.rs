//! The runner: executes a [`Plan`] cell by cell and writes one record per
//! trial as it ends.
//!
//! Per workload it first calibrates the op count (unless `--ops` fixes it).
//! Per cell it asks the model whether it can run the workload (a refusal
//! becomes an `unsupported` record with the reason), measures the model's
//! dispatch floor with the empty `synthetic/noop` op, runs one unrecorded
//! warm-up, then the measured trials, each under the [`Supervisor`]: a
//! hanging trial is recorded as `timeout` (its threads told to stop and
//! watched), a panicking one as `failed`, and the run goes on. A cell whose
//! warm-up or trial fails stops there: its record says why, on stderr too.
//! A SIGINT or SIGTERM ends the run after the trial under way stops; what
//! finished is kept.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use reports::schema::{ModelOverhead, Record, Status};
use workloads::{IoEnv, RunShape, Scaling, Workload};

use crate::failure::Failure;
use crate::models::worker_run::{prepare_shared_for, WorkerRun};
use crate::models::{ExecutionModel, OpBudget, TrialOutcome, TrialSpec};
use crate::plan::{Cell, LoadMode, Plan};
use crate::record::RecordContext;
use crate::recorder::Recording;
use crate::results::ResultsWriter;
use crate::supervisor::Supervisor;

/// Empty ops per worker used to measure a model's dispatch floor.
const FLOOR_OPS_PER_WORKER: u64 = 2000;
/// Ops used when calibration fails (the cell will record why).
const FALLBACK_OPS: u64 = 100;
/// Calibration stops after this long or this many ops.
const CALIBRATION_TIME: Duration = Duration::from_millis(40);
const CALIBRATION_MAX_OPS: u64 = 100_000;
/// Trials of the `cpu/calibrate` reference cell, at least.
const CALIBRATION_MIN_TRIALS: u32 = 7;

/// How a run ended.
pub struct RunOutcome {
    /// Every record written, in order.
    pub records: Vec<Record>,
    /// The signal that stopped the run early, if one did.
    pub interrupted: Option<i32>,
    /// Why the run was not clean, if it was not (see [`Supervisor`]).
    pub unclean: Option<String>,
}

/// Whether a cell ran to its end or the run was interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CellEnd {
    Done,
    Interrupted,
}

/// Runs every cell of `plan`, appending records to `writer` as their
/// trials end. Failed cells are also reported on stderr, with or without
/// a terminal.
pub fn run_plan(
    plan: &Plan,
    writer: &mut ResultsWriter,
    run_id: &str,
    show_progress: bool,
) -> anyhow::Result<RunOutcome> {
    let cells = plan.cells();
    let progress = if show_progress {
        ProgressBar::new(cells.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    progress.set_style(
        ProgressStyle::with_template(
            "[{bar:30.cyan/blue}] cell {pos}/{len} · {msg} · {elapsed} elapsed, eta {eta}",
        )
        .expect("static template is valid")
        .progress_chars("=> "),
    );

    let mut base_ops: Vec<Option<u64>> = vec![None; plan.workloads.len()];
    let mut records = Vec::new();
    let mut supervisor = Supervisor::new();

    for cell in &cells {
        if crate::interrupt::requested().is_some() {
            break;
        }
        let workload = &plan.workloads[cell.workload];
        let label = cell_label(plan, cell);
        progress.set_message(label.clone());
        let ops = *base_ops[cell.workload].get_or_insert_with(|| {
            let ops = match (plan.ops, plan.load) {
                (Some(ops), _) => ops,
                // Open load: a trial lasts the target time at the rate.
                (None, LoadMode::Open { rate_ops_s }) => {
                    (rate_ops_s * plan.target_trial.as_secs_f64()).ceil() as u64
                }
                (None, LoadMode::Closed) => {
                    calibrate(workload.as_ref(), plan.target_trial, &plan.io)
                }
            };
            let max_workers = plan.workers_for(cell.workload).iter().max().copied();
            ops.max(max_workers.unwrap_or(1) as u64 * 2)
        });
        // Each record is written the moment its trial ends, so a killed
        // run keeps every finished trial.
        let model: Arc<dyn ExecutionModel> = Arc::from(cell.model.model());
        let end = run_cell(
            plan,
            cell,
            model,
            ops,
            run_id,
            &mut supervisor,
            &mut |mut record: Record, unclean: Option<&str>| {
                record.notes.extend(unclean.map(str::to_string));
                if record.status != Status::Ok {
                    // Through the bar, which is hidden without a terminal:
                    // suspending it prints to stderr either way.
                    let message = format!(
                        "{label}: {} — {}",
                        record.status.as_str(),
                        shorten(record.error.as_deref().unwrap_or(""), 500)
                    );
                    progress.suspend(|| eprintln!("{message}"));
                }
                writer.append(&record).map_err(|e| {
                    anyhow::anyhow!("writing {}/records.jsonl: {e}", writer.dir().display())
                })?;
                records.push(record);
                Ok(())
            },
        )?;
        if end == CellEnd::Interrupted {
            break;
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    Ok(RunOutcome {
        records,
        interrupted: crate::interrupt::requested(),
        unclean: supervisor.unclean_note().map(str::to_string),
    })
}

/// The first `max_chars` characters of `text`'s first line.
fn shorten(text: &str, max_chars: usize) -> String {
    let line = text.lines().next().unwrap_or("");
    match line.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line.to_string(),
    }
}

fn cell_label(plan: &Plan, cell: &Cell) -> String {
    format!(
        "{} · {} · {} workers · pin {}",
        plan.workloads[cell.workload].info().id,
        cell.model,
        cell.workers,
        plan.placements[cell.placement]
    )
}

/// Where a cell's records go as its trials end, with the run's unclean
/// note if it has one.
type Emit<'a> = dyn FnMut(Record, Option<&str>) -> anyhow::Result<()> + 'a;

/// Runs one cell, passing each record to `emit` as its trial ends: one per
/// trial, or one record saying why the cell could not run or failed. An
/// interrupted trial leaves no record.
fn run_cell(
    plan: &Plan,
    cell: &Cell,
    model: Arc<dyn ExecutionModel>,
    base_ops: u64,
    run_id: &str,
    supervisor: &mut Supervisor,
    emit: &mut Emit<'_>,
) -> anyhow::Result<CellEnd> {
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
    };

    let refusal = match plan.load {
        LoadMode::Open { .. } if workload.requirements().lockstep => Err(format!(
            "{} is lockstep (its ops are parts of rounds every worker runs together), so it cannot follow an open arrival schedule; run it with --load closed",
            workload.info().id
        )),
        _ => model.check_support(workload.as_ref(), cell.workers),
    };
    if let Err(reason) = refusal {
        let record = ctx.record(
            0,
            Err(Failure::unsupported(reason)),
            ModelOverhead::default(),
        );
        emit(record, supervisor.unclean_note())?;
        return Ok(CellEnd::Done);
    }

    let lockstep = workload.requirements().lockstep;
    let budget = |ops: u64| budget_for(lockstep, plan.scaling, cell.workers, ops);
    let spec = |workload: Arc<dyn Workload>, budget: OpBudget| TrialSpec {
        workload,
        workers: cell.workers,
        scaling: plan.scaling,
        budget,
        cores: ctx.cores.clone(),
        runtime_threads: units,
        recording: plan.recording,
        deadline: Instant::now() + plan.trial_timeout,
        open_rate_ops_s: match plan.load {
            LoadMode::Open { rate_ops_s } => Some(rate_ops_s),
            LoadMode::Closed => None,
        },
        io: plan.io.clone(),
        stop: Arc::new(AtomicBool::new(false)),
    };

    let dispatch_floor_ns = measure_floor(plan, supervisor, &model, &spec, cell.workers);
    let warm_up = supervisor.run(
        &model,
        spec(Arc::clone(&workload), budget((base_ops / 10).max(1))),
        plan.trial_timeout,
    );
    if crate::interrupt::requested().is_some() {
        return Ok(CellEnd::Interrupted);
    }
    if let Err(e) = failure_of(&warm_up) {
        let overhead = ModelOverhead {
            dispatch_floor_ns,
            spawn_ns: None,
        };
        let record = ctx.record(0, Err(e.prefixed("warm-up: ")), overhead);
        emit(record, supervisor.unclean_note())?;
        return Ok(CellEnd::Done);
    }

    // The calibration reference gets extra trials: comparisons divide by it.
    let trials = if plan.calibration == Some(cell.workload) {
        plan.trials.max(CALIBRATION_MIN_TRIALS)
    } else {
        plan.trials
    };
    for trial in 0..trials {
        let result = supervisor.run(
            &model,
            spec(Arc::clone(&workload), budget(base_ops)),
            plan.trial_timeout,
        );
        if crate::interrupt::requested().is_some() {
            return Ok(CellEnd::Interrupted);
        }
        let overhead = ModelOverhead {
            dispatch_floor_ns,
            spawn_ns: result.as_ref().ok().and_then(|o| o.spawn_ns),
        };
        let record = ctx.record(trial, result, overhead);
        let stop = record.status != Status::Ok;
        emit(record, supervisor.unclean_note())?;
        if stop {
            break;
        }
    }
    Ok(CellEnd::Done)
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

/// Runs the empty op through the model: time per op per worker.
fn measure_floor(
    plan: &Plan,
    supervisor: &mut Supervisor,
    model: &Arc<dyn ExecutionModel>,
    spec: &dyn Fn(Arc<dyn Workload>, OpBudget) -> TrialSpec,
    workers: usize,
) -> Option<f64> {
    let noop: Arc<dyn Workload> = Arc::from(plan.registry.parse_spec("synthetic/noop").ok()?);
    let total = FLOOR_OPS_PER_WORKER * workers as u64;
    let mut trial = spec(noop, OpBudget::Shared { total });
    // The floor is the model's cost per op flat out, whatever the load.
    trial.open_rate_ops_s = None;
    let timeout = trial.deadline.saturating_duration_since(Instant::now());
    let outcome = supervisor.run(model, trial, timeout).ok()?;
    let ops = outcome.ops();
    (ops > 0 && outcome.first_error().is_none())
        .then(|| outcome.wall_ns as f64 * workers as f64 / ops as f64)
}

/// Ops at one worker for about `target` of work, from timing the op on the
/// calling thread.
fn calibrate(workload: &dyn Workload, target: Duration, io: &IoEnv) -> u64 {
    let mut shape = RunShape::new(1, Scaling::Strong, CALIBRATION_MAX_OPS);
    shape.io = io.clone();
    let Ok(shared) = prepare_shared_for(workload, shape) else {
        return FALLBACK_OPS;
    };
    let mut run = WorkerRun::set_up(&shared, 0, None, Recording::PerOp);
    let start = Instant::now();
    let mut ops = 0u64;
    while start.elapsed() < CALIBRATION_TIME && ops < CALIBRATION_MAX_OPS {
        if run.run_one(ops).is_err() {
            return FALLBACK_OPS;
        }
        ops += 1;
    }
    let per_op_ns = start.elapsed().as_nanos() as f64 / ops.max(1) as f64;
    ((target.as_nanos() as f64 / per_op_ns.max(1.0)) as u64).clamp(1, 100_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::mock::{MockModel, Scripted};
    use crate::models::ModelKind;
    use crate::placement::CpuSet;
    use crate::plan::{PlanInput, Profile};

    fn plan(trials: u32) -> Plan {
        let input = PlanInput {
            profile: Profile::Quick,
            workloads: Some("cpu/primes".into()),
            models: Some("threads".into()),
            workers: Some("2".into()),
            pin: "none".into(),
            scaling: Scaling::Strong,
            trials: Some(trials),
            ops: Some(1000),
            runtime_threads: None,
            trial_timeout: Duration::from_secs(5),
            recording: Recording::PerOp,
            calibration: false,
            load: "closed".into(),
        };
        Plan::build(&input, CpuSet::on_cores(&[0, 1])).unwrap()
    }

    fn measured(op_ns: u64) -> Scripted {
        Scripted::Measured {
            ops_per_worker: 500,
            op_ns,
            cpu_fraction_pct: 100,
        }
    }

    /// Runs the plan's one cell through `script` (the dispatch floor and
    /// the warm-up take the first two entries) and returns its records.
    fn records_of(plan: &Plan, model: MockModel) -> Vec<Record> {
        let cell = plan.cells().remove(0);
        let mut records = Vec::new();
        let mut supervisor = Supervisor::new();
        let model = Arc::new(model);
        run_cell(
            plan,
            &cell,
            model,
            1000,
            "run",
            &mut supervisor,
            &mut |r, _| {
                records.push(r);
                Ok(())
            },
        )
        .unwrap();
        records
    }

    #[test]
    fn every_trial_of_a_scripted_cell_becomes_a_record_with_its_numbers() {
        let plan = plan(3);
        let script = vec![measured(100), measured(1_000), measured(2_000)];
        let records = records_of(&plan, MockModel::new(ModelKind::Threads, script));
        assert_eq!(records.len(), 3);
        let first = &records[0];
        assert_eq!(
            (first.status, first.trial, first.workers),
            (Status::Ok, 0, 2)
        );
        assert_eq!(first.ops, 1000);
        assert_eq!(first.wall_ns, 1_000_000, "500 ops of 2 us on each worker");
        assert!((first.throughput_ops_s - 1_000_000.0).abs() < 1e-6);
        assert_eq!(first.cpu_user_ns, 2_000_000);
        assert_eq!(first.fairness.as_ref().unwrap().jain_index, 1.0);
        assert_eq!(first.model_overhead.dispatch_floor_ns, Some(100.0));
        assert_eq!(first.latency.as_ref().unwrap().p50_ns, 2000);
    }

    #[test]
    fn a_deadlock_a_timeout_and_a_refusal_are_typed_outcomes() {
        let plan = plan(5);
        let deadlock = Scripted::WorkerFailed {
            worker: 1,
            failure: Failure::of_op(workloads::OpError::deadlock("worker 1 waits for A"))
                .prefixed("op 4 "),
        };
        let script = vec![measured(100), measured(100), measured(100), deadlock];
        let records = records_of(&plan, MockModel::new(ModelKind::Threads, script));
        assert_eq!(records.len(), 2, "the cell stops at its first bad trial");
        assert_eq!(records[1].status, Status::Deadlocked);
        assert_eq!(
            records[1].error.as_deref(),
            Some("worker 1: op 4 failed: deadlock detected: worker 1 waits for A")
        );

        let timeout = Scripted::Failed(Failure::timeout("no result after 5 s"));
        let script = vec![measured(100), timeout];
        let records = records_of(&plan, MockModel::new(ModelKind::Threads, script));
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].status, Status::Timeout);
        assert_eq!(
            records[0].error.as_deref(),
            Some("warm-up: no result after 5 s")
        );

        let refusing = MockModel::new(ModelKind::Threads, vec![]).refusing("no reason at all");
        let records = records_of(&plan, refusing);
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].status, Status::Unsupported);
        assert_eq!(records[0].error.as_deref(), Some("no reason at all"));
    }
}
