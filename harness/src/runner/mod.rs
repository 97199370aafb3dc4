//! The runner: executes a [`Plan`] and writes one record per trial as it
//! ends.
//!
//! Per workload it first calibrates the op count (unless `--ops` fixes it).
//! A plan's cells fall into sections (one workload and placement, every
//! model and worker count). Per section, every cell is set up first: the
//! model may refuse the workload (an `unsupported` record with the
//! reason), then its dispatch floor is measured with the empty
//! `synthetic/noop` op and one unrecorded warm-up runs. Then the trials of
//! the section's cells run round by round (trial 1 of every cell, then
//! trial 2, ...), in an order shuffled anew each round with a recorded
//! seed, so a burst of outside load spreads over every model instead of
//! landing on one. Each trial runs under the [`Supervisor`] and is judged
//! for disturbance ([`crate::disturbance`]); a disturbed one is re-run or
//! flagged as the plan says. A cell whose warm-up or trial fails stops
//! there: its record says why, on stderr too. A SIGINT or SIGTERM ends the
//! run after the trial under way stops; what finished is kept.

mod cell;
pub mod retries;
pub mod rounds;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reports::schema::{Record, Status};
use workloads::{RunShape, Scaling, Workload};

use crate::models::worker_run::{prepare_shared_for, WorkerRun};
use crate::models::ExecutionModel;
use crate::plan::{Cell, LoadMode, Plan};
use crate::recorder::Recording;
use crate::results::ResultsWriter;
use crate::supervisor::{Supervised, Supervisor};
use cell::{CellRun, SetUp};
use retries::{QuietRule, Retries};
use rounds::Rounds;

/// Ops used when calibration fails (the cell will record why).
const FALLBACK_OPS: u64 = 100;
/// Calibration stops after this long or this many ops.
const CALIBRATION_TIME: Duration = Duration::from_millis(40);
const CALIBRATION_MAX_OPS: u64 = 100_000;

/// How a run ended.
pub struct RunOutcome {
    /// Every record written, in order.
    pub records: Vec<Record>,
    /// The signal that stopped the run early, if one did.
    pub interrupted: Option<i32>,
    /// Why the run was not clean, if it was not (see [`Supervisor`]).
    pub unclean: Option<String>,
    /// Disturbed trials it kept, and how busy the machine was, if any
    /// were (see [`Retries::note`]).
    pub busy: Option<String>,
}

/// Runs every cell of `plan`, appending records to `writer` as their
/// trials end. Failed cells are also reported on stderr, with or without
/// a terminal.
pub fn run_plan(
    plan: &Plan,
    writer: &mut ResultsWriter,
    run_id: &str,
    show_progress: bool,
    verbose: bool,
) -> anyhow::Result<RunOutcome> {
    crate::os::machine::watch_cpus(&plan.cpus.ids());
    let sections = sections(plan);
    let planned: u64 = sections
        .iter()
        .flatten()
        .map(|_| u64::from(plan.trials))
        .sum();
    let progress = rounds::progress_bar(planned, show_progress);
    let mut records = Vec::new();
    let mut supervisor = Supervisor::new();
    // Waits for a quiet moment only where disturbed trials are re-run.
    let mut retries = Retries::new(
        (plan.disturbance.on_disturbance == crate::disturbance::OnDisturbance::Retry).then_some(
            QuietRule {
                rule: plan.disturbance.rule,
                cores: plan.cpus.core_count(),
            },
        ),
    );
    let results_dir = writer.dir().to_path_buf();
    // Each record is written the moment its trial ends, so a killed run
    // keeps every finished trial.
    let mut emit = |record: Record, label: &str| {
        if record.status != Status::Ok {
            // Through the bar, which is hidden without a terminal:
            // suspending it prints to stderr either way.
            let message = format!(
                "{label}: {} — {}",
                record.status.as_str(),
                shorten(record.error.as_deref().unwrap_or(""), 500)
            );
            progress.suspend(|| eprintln!("{message}"));
        } else if verbose {
            let message = trial_line(label, &record);
            progress.suspend(|| eprintln!("{message}"));
        }
        writer.append(&record).map_err(|e| {
            anyhow::anyhow!("writing {}/records.jsonl: {e}", writer.dir().display())
        })?;
        records.push(record);
        Ok::<_, anyhow::Error>(())
    };

    'sections: for (section_index, section) in sections.iter().enumerate() {
        let Some(first) = section.first() else {
            continue;
        };
        if crate::interrupt::requested().is_some() {
            break;
        }
        progress.set_message(format!(
            "setting up {}",
            plan.workloads[first.workload].info().id
        ));
        let ops = base_ops(plan, first.workload, &mut supervisor);
        let mut runs: Vec<CellRun> = Vec::new();
        for cell in section {
            let model: Arc<dyn ExecutionModel> = Arc::from(cell.model.build());
            match CellRun::set_up(plan, cell, model, ops, run_id, &mut supervisor) {
                SetUp::Ready(mut run) => {
                    if let Some(hz) = plan.flamegraph_hz {
                        run.sample_into(&results_dir, hz);
                    }
                    if let Some(hz) = plan.wall_profile_hz {
                        run.wall_profile_into(&results_dir, hz);
                    }
                    runs.push(*run)
                }
                SetUp::Refused(record) => {
                    emit(*record, &cell_label(plan, cell))?;
                    progress.inc(u64::from(plan.trials));
                }
                SetUp::Interrupted => break 'sections,
            }
        }
        let seed =
            |round: u32| plan.trial_order_seed ^ ((section_index as u64) << 32) ^ u64::from(round);
        let ended = rounds::run_rounds(
            &mut runs,
            seed,
            &mut supervisor,
            &mut retries,
            &progress,
            &mut emit,
        )?;
        if ended == Rounds::Interrupted {
            break 'sections;
        }
    }
    progress.finish_and_clear();
    Ok(RunOutcome {
        busy: retries.note(&records),
        records,
        interrupted: crate::interrupt::requested(),
        unclean: supervisor.unclean_note(),
    })
}

/// The plan's cells in sections: consecutive cells of one workload and
/// placement (the calibration reference is a section of its own).
fn sections(plan: &Plan) -> Vec<Vec<Cell>> {
    let mut sections: Vec<Vec<Cell>> = Vec::new();
    for cell in plan.cells() {
        match sections.last_mut() {
            Some(last)
                if last[0].workload == cell.workload && last[0].placement == cell.placement =>
            {
                last.push(cell)
            }
            _ => sections.push(vec![cell]),
        }
    }
    sections
}

/// The op count of one trial of workload `index` at one worker.
fn base_ops(plan: &Plan, index: usize, supervisor: &mut Supervisor) -> u64 {
    let workload = &plan.workloads[index];
    let ops = match (plan.ops, plan.load) {
        (Some(ops), _) => ops,
        // Open load: a trial lasts the target time at the rate.
        (None, LoadMode::Open { rate_ops_s }) => {
            (rate_ops_s * plan.target_trial.as_secs_f64()).ceil() as u64
        }
        (None, LoadMode::Closed) => calibrate(workload, plan, supervisor),
    };
    let max_workers = plan.workers_for(index).iter().max().copied();
    ops.max(max_workers.unwrap_or(1) as u64 * 2)
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
        "{} · {} · {} · pin {}",
        plan.workloads[cell.workload].info().id,
        cell.model,
        reports::format::workers_phrase(cell.workers as u32),
        plan.placements[cell.placement]
    )
}

/// Ops at one worker for about `target` of work, from timing the op on the
/// calling thread.
fn calibrate(workload: &Arc<dyn Workload>, plan: &Plan, supervisor: &mut Supervisor) -> u64 {
    let mut shape = RunShape::new(1, Scaling::Strong, CALIBRATION_MAX_OPS);
    shape.io = plan.io.clone();
    let target = plan.target_trial;
    let stop = Arc::new(AtomicBool::new(false));
    let what = Supervised {
        thread_name: "corebench-calib",
        workload: workload.spec(),
        under: "calibration at 1 worker".to_string(),
        timeout: plan.trial_timeout,
        stop: Arc::clone(&stop),
    };
    let workload = Arc::clone(workload);
    // Supervised like a trial: an op that never returns, or cannot
    // allocate, must not stop the run before its first trial.
    let per_op_ns = supervisor.supervise(what, move || {
        let shared = prepare_shared_for(workload.as_ref(), shape)?;
        let mut run = WorkerRun::set_up(&shared, 0, None, Recording::PerOp);
        let start = Instant::now();
        let mut ops = 0u64;
        while start.elapsed() < CALIBRATION_TIME
            && ops < CALIBRATION_MAX_OPS
            && !stop.load(Ordering::Relaxed)
        {
            run.run_one(ops)?;
            ops += 1;
        }
        Ok(start.elapsed().as_nanos() as f64 / ops.max(1) as f64)
    });
    match per_op_ns {
        Ok(per_op_ns) => {
            ((target.as_nanos() as f64 / per_op_ns.max(1.0)) as u64).clamp(1, 100_000_000)
        }
        Err(_) => FALLBACK_OPS,
    }
}

/// One finished trial, for `-v`: throughput, median and p99 latency, and
/// the machine's verdict.
pub(crate) fn trial_line(label: &str, record: &Record) -> String {
    use reports::format::{format_ns, format_rate};
    let latency = record.latency.as_ref().map_or(String::new(), |l| {
        format!(
            ", p50 {} p99 {}",
            format_ns(l.p50_ns as f64),
            format_ns(l.p99_ns as f64)
        )
    });
    let disturbed = record
        .machine
        .as_ref()
        .filter(|m| m.disturbed)
        .map_or(String::new(), |m| {
            format!(" [disturbed: {}]", m.reasons.join("; "))
        });
    format!(
        "{label} trial {}: {} ops/s{latency}{disturbed}",
        record.trial,
        format_rate(record.throughput_ops_s)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::Failure;
    use crate::models::mock::{MockModel, Scripted};
    use crate::placement::CpuSet;
    use crate::plan::{PlanInput, Profile};
    use rounds::{TrialEnd, TrialSource};

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
            disturbance: Default::default(),
            seed: Some(7),
            flamegraph_hz: None,
            wall_profile_hz: None,
            warmup_trials: 1,
            ..PlanInput::default()
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
        let mut supervisor = Supervisor::new();
        let model: Arc<dyn ExecutionModel> = Arc::new(model);
        match CellRun::set_up(plan, &cell, model, 1000, "run", &mut supervisor) {
            SetUp::Refused(record) => vec![*record],
            SetUp::Interrupted => unreachable!("no signal in tests"),
            SetUp::Ready(mut run) => {
                let mut records = Vec::new();
                let mut round = 0;
                while run.wants_more() {
                    // A disturbed attempt runs again at once here: the
                    // round loop's own order is tested in `rounds`.
                    match run.next_trial(round, &mut supervisor) {
                        Some(TrialEnd::Kept(record)) => records.push(*record),
                        Some(TrialEnd::Disturbed) => continue,
                        None => unreachable!("no signal in tests"),
                    }
                    round += 1;
                }
                records
            }
        }
    }

    #[test]
    fn every_trial_of_a_scripted_cell_becomes_a_record_with_its_numbers() {
        let plan = plan(3);
        let script = vec![measured(100), measured(1_000), measured(2_000)];
        let records = records_of(&plan, MockModel::new(script));
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
    fn a_disturbed_trial_runs_again_and_its_clean_attempt_is_kept() {
        let plan = plan(2);
        let hog = Scripted::Disturbed {
            ops_per_worker: 500,
            op_ns: 2_000_000,
        };
        let script = vec![measured(100), measured(1_000), hog, measured(2_000)];
        let records = records_of(&plan, MockModel::new(script));
        assert_eq!(records.len(), 2);
        let views: Vec<(u32, bool)> = records
            .iter()
            .map(|r| {
                let view = r.machine.as_ref().expect("a machine view");
                (view.attempt, view.disturbed)
            })
            .collect();
        assert_eq!(views, [(2, false), (1, false)]);
        assert_eq!(records[0].trial, 0);

        // Every attempt disturbed: the last is kept, marked, after
        // --max-retries re-runs.
        let hog = Scripted::Disturbed {
            ops_per_worker: 500,
            op_ns: 2_000_000,
        };
        let records = records_of(
            &plan,
            MockModel::new(vec![measured(100), measured(1_000), hog]),
        );
        let view = records[0].machine.as_ref().unwrap();
        assert!(view.disturbed);
        assert_eq!(view.attempt, 4);
        assert!(view.reasons[0].contains("other processes used 1.00 of the 2 cores"));
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
        let records = records_of(&plan, MockModel::new(script));
        assert_eq!(records.len(), 2, "the cell stops at its first bad trial");
        assert_eq!(records[1].status, Status::Deadlocked);
        assert_eq!(
            records[1].error.as_deref(),
            Some("worker 1: op 4 failed: deadlock detected: worker 1 waits for A")
        );

        let timeout = Scripted::Failed(Failure::timeout("no result after 5 s"));
        let script = vec![measured(100), timeout];
        let records = records_of(&plan, MockModel::new(script));
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].status, Status::Timeout);
        assert_eq!(
            records[0].error.as_deref(),
            Some("warm-up: no result after 5 s")
        );

        let refusing = MockModel::new(vec![]).refusing("no reason at all");
        let records = records_of(&plan, refusing);
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].status, Status::Unsupported);
        assert_eq!(records[0].error.as_deref(), Some("no reason at all"));
    }
}
