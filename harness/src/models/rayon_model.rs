//! `rayon`: a rayon pool built per run with one thread per worker, each
//! pinned from `start_handler`. Per-worker state is built on every pool
//! thread by a `broadcast` before timing. The timed region is
//! `(0..total).into_par_iter()`, as a rayon user writes it: rayon splits
//! the op range and steals by ops, so its threads end together; lockstep
//! workloads run their rounds in a second `broadcast`, one part per thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crossbeam_utils::CachePadded;
use rayon::prelude::*;

use super::worker_run::{merge_in_process, prepare_shared, WorkerRun};
use super::{lock, ExecutionModel, Failure, Model, ModelInfo, OpBudget, TrialOutcome, TrialSpec};
use crate::os::machine::MachineSnapshot;
use crate::os::schedstat::ThreadsSnapshot;
use crate::placement::place_current_thread;
use crate::recorder::schedule::OpSource;

/// The fewest ops rayon may hand one thread at a time: enough that taking
/// the thread's slot costs nothing per op, few enough that the last pieces
/// balance the threads' ends.
const MIN_OPS_PER_PIECE: usize = 16;

/// What the `rayon` model is.
pub(super) const MODEL: Model = Model::new(&INFO);

const INFO: ModelInfo = ModelInfo::new(
    "rayon",
    "a rayon pool per run (pinned in start_handler); op batches spread by work stealing",
    (0, 158, 115),
    || Box::new(Rayon),
)
.costs("ops are claimed in batches from a shared counter, and the pool's threads steal work between batches");

/// The `rayon` model.
pub struct Rayon;

type Slot = CachePadded<Mutex<Option<WorkerRun>>>;

impl ExecutionModel for Rayon {
    fn model(&self) -> Model {
        MODEL
    }

    fn run_trial(&self, spec: &TrialSpec) -> Result<TrialOutcome, Failure> {
        let spawn_start = Instant::now();
        let shared = prepare_shared(spec, self.model())?;
        let workers = spec.workers;
        let pin_errors: Arc<Vec<Mutex<Option<String>>>> =
            Arc::new((0..workers).map(|_| Mutex::new(None)).collect());
        let cores: Vec<Option<usize>> = (0..workers).map(|i| spec.core_of(i)).collect();

        let pool = {
            let pin_errors = Arc::clone(&pin_errors);
            rayon::ThreadPoolBuilder::new()
                .num_threads(workers)
                .thread_name(|i| format!("corebench-rayon{i}"))
                .start_handler(move |index| {
                    if let Err(e) = place_current_thread(cores[index]) {
                        *lock(&pin_errors[index]) = Some(e);
                    }
                })
                .build()
                .map_err(|e| Failure::failed(format!("could not build the rayon pool: {e}")))?
        };

        let slots: Vec<Slot> = (0..workers)
            .map(|_| CachePadded::new(Mutex::new(None)))
            .collect();
        pool.broadcast(|ctx| {
            // Pinned already by start_handler: set_up only reads it back.
            let mut run = WorkerRun::set_up_with(
                &shared,
                ctx.index(),
                None,
                spec.recording,
                spec.open_rate_ops_s.is_some(),
            );
            if let Some(e) = lock(&pin_errors[ctx.index()]).take() {
                run.error = Some(Failure::failed(e));
            }
            *lock(&slots[ctx.index()]) = Some(run);
        });
        let spawn_ns = spawn_start.elapsed().as_nanos() as u64;
        let stop: &AtomicBool = &spec.stop;

        // Pool threads outlive the timed region: read from here at both
        // edges, whatever rayon ran on them.
        let tids: Vec<u32> = slots
            .iter()
            .filter_map(|slot| lock(slot).as_ref().map(|run| run.tid))
            .collect();
        let mut threads_before = ThreadsSnapshot::start(&tids);
        let before = MachineSnapshot::take();
        let release = Instant::now();
        match spec.budget {
            // Open loop: every pool thread keeps to its share of the
            // schedule; work stealing has nothing to balance.
            OpBudget::Shared { .. } if spec.open_rate_ops_s.is_some() => {
                pool.broadcast(|ctx| {
                    if let Some(schedule) = spec.open_schedule(release, ctx.index()) {
                        with_own_slot(&slots, |run| run.run(OpSource::Open(schedule), stop));
                    }
                });
            }
            // As a rayon user writes it: the op indices as a parallel
            // range, which rayon splits and steals by ops. A piece of the
            // range takes its thread's slot once, not once per op.
            OpBudget::Shared { total } => {
                // Indexed ranges are of usize: ops fit on a 64-bit machine.
                let total = usize::try_from(total).unwrap_or(usize::MAX);
                pool.install(|| {
                    (0..total)
                        .into_par_iter()
                        .with_min_len(MIN_OPS_PER_PIECE)
                        .for_each_init(
                            || own_slot(&slots),
                            |slot, op_index| {
                                if stop.load(Ordering::Relaxed) {
                                    return;
                                }
                                let run = slot.as_mut().and_then(|guard| guard.as_mut());
                                if run.is_none_or(|run| run.run_one(op_index as u64).is_err()) {
                                    stop.store(true, Ordering::Relaxed);
                                }
                            },
                        )
                });
            }
            OpBudget::PerWorker { ops } => {
                pool.broadcast(|_| {
                    with_own_slot(&slots, |run| {
                        run.run(
                            OpSource::Fixed {
                                start: 0,
                                count: ops,
                            },
                            stop,
                        )
                    })
                });
            }
        }
        let machine = MachineSnapshot::take().since(&before);
        let sched = ThreadsSnapshot::take(&tids).since(&mut threads_before);
        drop(pool);

        let runs: Vec<WorkerRun> = slots
            .into_iter()
            .filter_map(|slot| CachePadded::into_inner(slot).into_inner().ok().flatten())
            .collect();
        if runs.len() != workers {
            return Err(Failure::failed(format!(
                "only {} of {workers} rayon threads were set up",
                runs.len()
            )));
        }
        let mut outcome = merge_in_process(runs, release, machine, spawn_ns, &shared);
        outcome.sched = sched;
        Ok(outcome)
    }
}

/// The calling pool thread's own slot, locked. Only that thread ever
/// locks it during the timed region, so the lock is never contended.
fn own_slot(slots: &[Slot]) -> Option<std::sync::MutexGuard<'_, Option<WorkerRun>>> {
    rayon::current_thread_index().map(|index| lock(&slots[index]))
}

/// Runs `f` on the calling pool thread's own slot. Only that thread ever
/// locks it during the timed region, so the lock is never contended.
fn with_own_slot(slots: &[Slot], f: impl FnOnce(&mut WorkerRun)) {
    let Some(index) = rayon::current_thread_index() else {
        return;
    };
    if let Some(run) = lock(&slots[index]).as_mut() {
        f(run);
    }
}
