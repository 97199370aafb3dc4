//! The runner: executes a [`Plan`] cell by cell and writes one record per
//! trial as it ends.
//!
//! Per workload it first calibrates the op count (unless `--ops` fixes it).
//! Per cell it asks the model whether it can run the workload (a refusal
//! becomes an `unsupported` record with the reason), measures the model's
//! dispatch floor with the empty `synthetic/noop` op, runs one unrecorded
//! warm-up, then the measured trials. Every trial runs on a fresh
//! supervisor thread with a time limit, so a hanging trial is recorded as
//! `timeout` (its threads abandoned) and a panicking one as `failed`, and
//! the run goes on. A cell whose warm-up or trial fails stops there: its
//! record says why.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use reports::schema::{
    Fairness, ModelOverhead, OpenLoop, PlacementRef, Record, Status, WorkerRecord, WorkloadRef,
    SCHEMA_VERSION,
};
use workloads::{parse_spec, IoEnv, RunShape, Scaling, Workload};

use crate::models::{
    prepare_shared_for, ExecutionModel, OpBudget, TrialError, TrialOutcome, TrialSpec, WorkerRun,
};
use crate::plan::{Cell, LoadMode, Plan};
use crate::recorder::Recording;
use crate::results::ResultsWriter;

/// Empty ops per worker used to measure a model's dispatch floor.
const FLOOR_OPS_PER_WORKER: u64 = 2000;
/// Ops used when calibration fails (the cell will record why).
const FALLBACK_OPS: u64 = 100;
/// Calibration stops after this long or this many ops.
const CALIBRATION_TIME: Duration = Duration::from_millis(40);
const CALIBRATION_MAX_OPS: u64 = 100_000;
/// Trials of the `cpu/calibrate` reference cell, at least.
const CALIBRATION_MIN_TRIALS: u32 = 7;
/// Extra time the supervisor gives a model to report its own time-out.
const SUPERVISOR_GRACE: Duration = Duration::from_secs(2);

/// Runs every cell of `plan`, appending records to `writer`. Returns every
/// record written.
pub fn run_plan(
    plan: &Plan,
    writer: &mut ResultsWriter,
    run_id: &str,
    show_progress: bool,
) -> anyhow::Result<Vec<Record>> {
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

    for cell in &cells {
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
        run_cell(plan, cell, ops, run_id, &mut |record: Record| {
            if record.status != Status::Ok {
                progress.println(format!(
                    "{label}: {} — {}",
                    record.status.as_str(),
                    record.error.as_deref().unwrap_or("")
                ));
            }
            writer.append(&record).map_err(|e| {
                anyhow::anyhow!("writing {}/records.jsonl: {e}", writer.dir().display())
            })?;
            records.push(record);
            Ok(())
        })?;
        progress.inc(1);
    }
    progress.finish_and_clear();
    Ok(records)
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

/// What every record of one cell shares.
struct CellContext<'a> {
    plan: &'a Plan,
    cell: &'a Cell,
    run_id: &'a str,
    cores: Vec<Option<usize>>,
    runtime_threads: Option<usize>,
}

/// Runs one cell, passing each record to `emit` as its trial ends: one per
/// trial, or one record saying why the cell could not run or failed.
fn run_cell(
    plan: &Plan,
    cell: &Cell,
    base_ops: u64,
    run_id: &str,
    emit: &mut dyn FnMut(Record) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let workload = Arc::clone(&plan.workloads[cell.workload]);
    let model: Arc<dyn ExecutionModel> = Arc::from(cell.model.model());
    let runtime_threads = plan.runtime_threads_for(cell.model, cell.workers);
    let units = runtime_threads.unwrap_or(cell.workers);
    let ctx = CellContext {
        plan,
        cell,
        run_id,
        cores: plan.cpus.resolve(&plan.placements[cell.placement], units),
        runtime_threads,
    };

    let refusal = match plan.load {
        LoadMode::Open { .. } if workload.requirements().lockstep => Err(format!(
            "{} is lockstep (its ops are parts of rounds every worker runs together), so it cannot follow an open arrival schedule; run it with --load closed",
            workload.info().id
        )),
        _ => model.check_support(workload.as_ref(), cell.workers),
    };
    if let Err(reason) = refusal {
        return emit(ctx.record(
            0,
            Err(TrialError {
                status: Status::Unsupported,
                message: reason,
            }),
            ModelOverhead::default(),
        ));
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
    };

    let dispatch_floor_ns = measure_floor(&model, &spec, cell.workers);
    let warm_up = supervised(
        &model,
        spec(Arc::clone(&workload), budget((base_ops / 10).max(1))),
        plan.trial_timeout,
    );
    if let Err(e) = failure_of(&warm_up) {
        let overhead = ModelOverhead {
            dispatch_floor_ns,
            spawn_ns: None,
        };
        let mut record = ctx.record(0, warm_up, overhead);
        record.status = e.status;
        record.error = Some(format!("warm-up: {}", e.message));
        return emit(record);
    }

    // The calibration reference gets extra trials: comparisons divide by it.
    let trials = if plan.calibration == Some(cell.workload) {
        plan.trials.max(CALIBRATION_MIN_TRIALS)
    } else {
        plan.trials
    };
    for trial in 0..trials {
        let result = supervised(
            &model,
            spec(Arc::clone(&workload), budget(base_ops)),
            plan.trial_timeout,
        );
        let overhead = ModelOverhead {
            dispatch_floor_ns,
            spawn_ns: result.as_ref().ok().and_then(|o| o.spawn_ns),
        };
        let record = ctx.record(trial, result, overhead);
        let stop = record.status != Status::Ok;
        emit(record)?;
        if stop {
            break;
        }
    }
    Ok(())
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
fn failure_of(result: &Result<TrialOutcome, TrialError>) -> Result<(), TrialError> {
    match result {
        Ok(outcome) => match outcome.first_error() {
            Some(message) => Err(TrialError {
                status: status_of_error(&message),
                message,
            }),
            None => Ok(()),
        },
        Err(e) => Err(e.clone()),
    }
}

/// `deadlocked` for a worker error that reports a deadlock, else `failed`.
fn status_of_error(message: &str) -> Status {
    if message.contains(workloads::DEADLOCK_MARKER) {
        Status::Deadlocked
    } else {
        Status::Failed
    }
}

/// Per-worker balance of a multi-worker trial: Jain's index, max/min, and
/// the workers that did under a tenth of the mean (starved).
fn fairness_of(ops: &[u64]) -> Option<Fairness> {
    if ops.len() < 2 {
        return None;
    }
    let as_f64: Vec<f64> = ops.iter().map(|&o| o as f64).collect();
    let mean = as_f64.iter().sum::<f64>() / ops.len() as f64;
    let (min, max) = (ops.iter().copied().min()?, ops.iter().copied().max()?);
    Some(Fairness {
        jain_index: reports::analysis::jain_index(&as_f64),
        max_min_ratio: if min > 0 {
            Some(max as f64 / min as f64)
        } else {
            None
        },
        starved_workers: ops
            .iter()
            .enumerate()
            .filter(|(_, &o)| (o as f64) < 0.1 * mean)
            .map(|(i, _)| i as u32)
            .collect(),
    })
}

/// Runs the empty op through the model: time per op per worker.
fn measure_floor(
    model: &Arc<dyn ExecutionModel>,
    spec: &dyn Fn(Arc<dyn Workload>, OpBudget) -> TrialSpec,
    workers: usize,
) -> Option<f64> {
    let noop: Arc<dyn Workload> = Arc::from(parse_spec("synthetic/noop").ok()?);
    let total = FLOOR_OPS_PER_WORKER * workers as u64;
    let mut trial = spec(noop, OpBudget::Shared { total });
    // The floor is the model's cost per op flat out, whatever the load.
    trial.open_rate_ops_s = None;
    let timeout = trial.deadline.saturating_duration_since(Instant::now());
    let outcome = supervised(model, trial, timeout).ok()?;
    let ops = outcome.ops();
    (ops > 0 && outcome.first_error().is_none())
        .then(|| outcome.wall_ns as f64 * workers as f64 / ops as f64)
}

/// Runs one trial on a fresh thread and waits at most `timeout` (plus a
/// grace period for the model's own time-out handling). A trial still
/// running then is abandoned: its threads are left blocked, and the cell is
/// recorded as `timeout`.
fn supervised(
    model: &Arc<dyn ExecutionModel>,
    spec: TrialSpec,
    timeout: Duration,
) -> Result<TrialOutcome, TrialError> {
    let (sender, receiver) = mpsc::channel();
    let model = Arc::clone(model);
    let spawned = thread::Builder::new()
        .name("corebench-trial".to_string())
        .spawn(move || {
            let result = catch_unwind(AssertUnwindSafe(|| model.run_trial(&spec)));
            let _ = sender.send(result);
        });
    if let Err(e) = spawned {
        return Err(TrialError::failed(format!(
            "could not start the trial thread: {e}"
        )));
    }
    match receiver.recv_timeout(timeout + SUPERVISOR_GRACE) {
        Ok(Ok(result)) => result,
        Ok(Err(panic)) => Err(TrialError::failed(format!(
            "the model panicked: {}",
            crate::recorder::panic_message(panic.as_ref())
        ))),
        Err(_) => Err(TrialError {
            status: Status::Timeout,
            message: format!(
                "no result after {:.0} s; the trial's threads were abandoned",
                timeout.as_secs_f64()
            ),
        }),
    }
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

impl CellContext<'_> {
    fn record(
        &self,
        trial: u32,
        result: Result<TrialOutcome, TrialError>,
        model_overhead: ModelOverhead,
    ) -> Record {
        let workload = &self.plan.workloads[self.cell.workload];
        let mut record = Record {
            schema_version: SCHEMA_VERSION,
            run_id: self.run_id.to_string(),
            started_at: chrono::Local::now().to_rfc3339(),
            workload: WorkloadRef {
                id: workload.info().id.to_string(),
                spec: workload.spec(),
                params: workload
                    .params()
                    .0
                    .iter()
                    .map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or_default()))
                    .collect(),
            },
            model: self.cell.model.name().to_string(),
            workers: self.cell.workers as u32,
            runtime_threads: self.runtime_threads.map(|t| t as u32),
            placement: PlacementRef {
                strategy: self.plan.placements[self.cell.placement].to_string(),
                requested_cores: self.cores.iter().map(|c| c.map(|c| c as u32)).collect(),
            },
            scaling: self.plan.scaling.as_str().to_string(),
            load: self.plan.load.label(),
            trial,
            status: Status::Ok,
            error: None,
            ops: 0,
            wall_ns: 0,
            cpu_user_ns: 0,
            cpu_sys_ns: 0,
            throughput_ops_s: 0.0,
            latency: None,
            histogram: None,
            per_worker: Vec::new(),
            runtime_thread_placement: Vec::new(),
            model_overhead,
            async_op: false,
            recording: self.plan.recording.as_str().to_string(),
            fairness: None,
            open_loop: None,
            parent_pid: std::process::id(),
            counters: Default::default(),
            workload_histograms: Default::default(),
        };
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(e) => {
                record.status = e.status;
                record.error = Some(e.message);
                return record;
            }
        };
        if let Some(error) = outcome.first_error() {
            record.status = status_of_error(&error);
            record.error = Some(error);
        }
        record.fairness = fairness_of(&outcome.workers.iter().map(|w| w.ops).collect::<Vec<_>>());
        record.ops = outcome.histogram.len();
        record.wall_ns = outcome.wall_ns;
        record.cpu_user_ns = outcome.cpu.user_ns;
        record.cpu_sys_ns = outcome.cpu.sys_ns;
        record.throughput_ops_s = if outcome.wall_ns > 0 {
            record.ops as f64 / (outcome.wall_ns as f64 / 1e9)
        } else {
            0.0
        };
        record.latency = reports::histogram::summarise(&outcome.histogram);
        record.histogram = match reports::histogram::encode(&outcome.histogram) {
            Ok(encoded) if !outcome.histogram.is_empty() => Some(encoded),
            Ok(_) => None,
            Err(e) => {
                record.status = Status::Failed;
                record.error = Some(e.to_string());
                None
            }
        };
        record.per_worker = outcome
            .workers
            .iter()
            .map(|w| WorkerRecord {
                index: w.index as u32,
                pid: w.pid,
                core: w.placed.core,
                cpus_allowed: w.placed.cpus_allowed.clone(),
                ops: w.ops,
                wall_ns: w.wall_ns,
                error: w.error.clone(),
            })
            .collect();
        record.runtime_thread_placement = outcome.runtime_threads;
        record.async_op = outcome.async_op;
        record.recording = outcome.recording.as_str().to_string();
        record.counters = outcome.counters;
        for (name, histogram) in &outcome.workload_histograms {
            match reports::histogram::encode(histogram) {
                Ok(encoded) => {
                    record.workload_histograms.insert(name.clone(), encoded);
                }
                Err(e) => {
                    record.status = Status::Failed;
                    record.error = Some(format!("{name}: {e}"));
                }
            }
        }
        if let (Some(open), LoadMode::Open { rate_ops_s }) = (&outcome.open, self.plan.load) {
            let encode = |h: &hdrhistogram::Histogram<u64>| {
                (!h.is_empty())
                    .then(|| reports::histogram::encode(h).ok())
                    .flatten()
            };
            record.open_loop = Some(OpenLoop {
                requested_rate_ops_s: rate_ops_s,
                uncorrected_latency: reports::histogram::summarise(&open.uncorrected),
                uncorrected_histogram: encode(&open.uncorrected),
                pacing_error: reports::histogram::summarise(&open.pacing),
                pacing_histogram: encode(&open.pacing),
                late_starts: open.late_starts,
            });
        }
        record
    }
}
