//! `threads`: scoped OS threads, one per worker, created and set up before
//! timing and released together by a [`StartGate`]. Workers claim batches of
//! ops from one shared counter, so work is scheduled dynamically; lockstep
//! workloads instead give every worker its fixed rounds.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::Instant;

use super::start::{join_workers, StartGate};
use super::worker_run::{merge_in_process, prepare_shared, WorkerRun};
use super::{ExecutionModel, Failure, Model, ModelInfo, OpBudget, TrialOutcome, TrialSpec};
use crate::os::machine::MachineSnapshot;
use crate::recorder::schedule::OpSource;

/// What the `threads` model is.
pub(super) const MODEL: Model = Model::new(&INFO);

const INFO: ModelInfo = ModelInfo::new(
    "threads",
    "OS threads created before timing, released by one barrier; ops claimed in batches from a shared counter",
    (0, 114, 178),
    || Box::new(Threads),
)
.costs("ops are claimed in batches from a shared counter");

/// The `threads` model.
pub struct Threads;

impl ExecutionModel for Threads {
    fn model(&self) -> Model {
        MODEL
    }

    fn run_trial(&self, spec: &TrialSpec) -> Result<TrialOutcome, Failure> {
        let spawn_start = Instant::now();
        let shared = prepare_shared(spec, self.model())?;
        let workers = spec.workers;
        let gate = StartGate::default();
        let next_op = AtomicU64::new(0);
        let stop: &AtomicBool = &spec.stop;

        let body = |index: usize| {
            let mut run = WorkerRun::set_up_with(
                &shared,
                index,
                spec.core_of(index),
                spec.recording,
                spec.open_rate_ops_s.is_some(),
            );
            run.open_counters();
            let released = gate.arrive_and_wait();
            if !stop.load(Ordering::Relaxed) {
                let source = match spec.open_schedule(released, index) {
                    Some(schedule) => OpSource::Open(schedule),
                    None => source(spec.budget, workers, &next_op),
                };
                run.run(source, stop);
            }
            run
        };
        thread::scope(|scope| {
            let started = gate.start(scope, MODEL, spec, spawn_start, &body)?;
            let runs = join_workers(started.handles)?;
            let machine = MachineSnapshot::take().since(&started.before);
            let spawn_ns = started.spawn_ns;
            Ok(merge_in_process(
                runs, started.at, machine, spawn_ns, &shared,
            ))
        })
    }
}

fn source(budget: OpBudget, workers: usize, next_op: &AtomicU64) -> OpSource<'_> {
    match budget {
        OpBudget::Shared { total } => OpSource::Claim {
            next: next_op,
            total,
            workers,
        },
        OpBudget::PerWorker { ops } => OpSource::Fixed {
            start: 0,
            count: ops,
        },
    }
}
