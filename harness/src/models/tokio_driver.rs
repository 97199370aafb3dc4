//! The part both tokio models share: spawning one task per worker on a
//! built runtime, setting each up, releasing them together with a tokio
//! barrier, and driving ops (async where the workload offers it, else the
//! sync op on the runtime thread). Tasks claim batches from a shared
//! counter like the `threads` model. A sync op never yields, as CPU-bound
//! code in a task does not: tasks sharing a thread run one after another.
//! (Yielding between batches was tried; tokio then tends to keep the
//! yielding tasks on the thread that woke them, and a second runtime thread
//! sat idle: the result measured our yields, not the workload.)

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::FutureExt;
use reports::schema::ThreadRecord;
use workloads::{SharedRun, WorkerOp};

use super::worker_run::{merge_in_process, WorkerRun};
use super::{lock, Failure, Model, OpBudget, TrialOutcome, TrialSpec};
use crate::os::machine::MachineSnapshot;
use crate::os::schedstat::ThreadsSnapshot;
use crate::os::threads::{current_tid, thread_ids, thread_state};
use crate::pacing::{lower_timer_slack, pace_until, OpenSchedule};
use crate::recorder::schedule::{claim, MAX_CLAIM_OPS};
use crate::recorder::{flatten_op_result, WorkerRecorder};

/// Runtime threads as they started: their thread id, and where they were
/// placed or why pinning failed.
pub(crate) type ThreadLog = Arc<Mutex<Vec<(u32, Result<ThreadRecord, String>)>>>;

/// Runs one trial on `runtime`. `spawn_start` is when runtime creation
/// began, so spawn time covers the runtime and the tasks' set-up.
pub(crate) fn run_tasks(
    model: Model,
    runtime: tokio::runtime::Runtime,
    spec: &TrialSpec,
    shared: Arc<dyn SharedRun>,
    threads: ThreadLog,
    spawn_start: Instant,
) -> Result<TrialOutcome, Failure> {
    let workers = spec.workers;
    let runtime_threads = model
        .runtime_threads(workers, usize::MAX, Some(spec.runtime_threads))
        .unwrap_or(1)
        .max(1);
    let use_async = spec.shape(model).async_ops;
    let (ready, mut ready_signals) = tokio::sync::mpsc::channel::<()>(workers.max(1));
    // Tasks report ready over a channel and wait for a release that only
    // the block_on thread sends. That thread is not a runtime thread, so the
    // tasks it wakes land in the shared queue every runtime thread takes
    // from. (With a barrier, the last task to arrive wakes the others into
    // its own thread's LIFO slot, where no other thread can steal them, and
    // CPU-bound tasks then run one after another on one thread.)
    // Carries the release time: the base of an open-loop schedule.
    let (go, go_signal) = tokio::sync::watch::channel::<Option<Instant>>(None);
    let next_op = Arc::new(AtomicU64::new(0));
    let stop = Arc::clone(&spec.stop);
    let budget = spec.budget;
    let recording = spec.recording;
    let deadline = tokio::time::Instant::from_std(spec.deadline);
    let open = spec.open_rate_ops_s.is_some();
    // Open load: a pacer thread hands each task its ops at their due times.
    let mut pacer = open.then(|| Pacer::new(workers));

    let result = runtime.block_on(async {
        let mut tasks = Vec::with_capacity(workers);
        for index in 0..workers {
            let (shared, ready, mut go_signal) =
                (Arc::clone(&shared), ready.clone(), go_signal.clone());
            let (next_op, stop) = (Arc::clone(&next_op), Arc::clone(&stop));
            let due_ops = pacer.as_mut().map(|p| p.take_receiver(index));
            tasks.push(tokio::spawn(async move {
                // The runtime thread is pinned already; this reads it back.
                let mut run = WorkerRun::set_up_with(&shared, index, None, recording, open);
                let _ = ready.send(()).await;
                let _ = go_signal.wait_for(|released| released.is_some()).await;
                match due_ops {
                    Some(due_ops) => drive_open(&mut run, due_ops, &stop, use_async).await,
                    None => drive(&mut run, budget, workers, &next_op, &stop, use_async).await,
                }
                run
            }));
        }
        drop(ready);
        let all_ready = async {
            for _ in 0..workers {
                ready_signals.recv().await;
            }
        };
        if tokio::time::timeout_at(deadline, all_ready).await.is_err() {
            stop.store(true, Ordering::Relaxed);
            return Err(super::start::start_timeout(model));
        }
        let spawn_ns = spawn_start.elapsed().as_nanos() as u64;
        // Runtime threads outlive the tasks: read from here at both edges.
        // The tasks can all be ready before the last worker thread has
        // started (and logged itself), so wait for every one of them.
        while lock(&threads).len() < runtime_threads && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        let tids: Vec<u32> = lock(&threads)
            .iter()
            .take(runtime_threads)
            .map(|(tid, _)| *tid)
            .collect();
        let threads_at_release = thread_ids();
        let mut threads_before = ThreadsSnapshot::start(&tids);
        let before = MachineSnapshot::take();
        let release = Instant::now();
        let _ = go.send(Some(release));
        let pacer_thread = match (pacer.take(), spec.open_schedule(release, 0)) {
            (Some(pacer), Some(schedule)) => Some(pacer.start(schedule.whole(), Arc::clone(&stop))),
            _ => None,
        };
        let mut runs = Vec::with_capacity(workers);
        for task in tasks {
            runs.push(
                task.await.map_err(|e| {
                    Failure::failed(format!("worker task failed outside an op: {e}"))
                })?,
            );
        }
        let machine = MachineSnapshot::take().since(&before);
        let sched = ThreadsSnapshot::take(&tids).since(&mut threads_before);
        if let Some(thread) = pacer_thread {
            let _ = thread.join();
        }
        let mut outcome = merge_in_process(runs, release, machine, spawn_ns, &shared);
        outcome.sched = sched;
        let blocking = blocking_threads_since(&threads_at_release, &tids);
        if blocking > 0 {
            outcome.notes.push(format!(
                "tokio's blocking pool ran {blocking} thread(s) (tokio::fs, spawn_blocking); \
                 their time is not in the per-thread accounting or the breakdown"
            ));
        }
        Ok(outcome)
    });
    runtime.shutdown_background();
    let mut outcome = result?;
    outcome.async_op = use_async;
    let log = lock(&threads);
    // Entries past the worker threads are blocking-pool threads.
    for (_, entry) in log.iter().take(runtime_threads) {
        match entry {
            Ok(record) => outcome.runtime_threads.push(record.clone()),
            Err(e) => return Err(Failure::failed(format!("runtime thread: {e}"))),
        }
    }
    outcome.runtime_threads.sort_by_key(|t| t.index);
    Ok(outcome)
}

/// The op, recorder and error slot of a worker that is ready to run; for
/// one whose set-up failed, raises `stop` (so the others end) and gives
/// `None`.
fn ready_parts<'a>(
    run: &'a mut WorkerRun,
    stop: &AtomicBool,
) -> Option<(
    &'a mut Box<dyn WorkerOp>,
    &'a mut WorkerRecorder,
    &'a mut Option<Failure>,
)> {
    let WorkerRun {
        op,
        recorder,
        error,
        ..
    } = run;
    match op {
        Some(op) if error.is_none() => Some((op, recorder, error)),
        _ => {
            stop.store(true, Ordering::Relaxed);
            None
        }
    }
}

/// Runs this task's ops: batches claimed from the shared counter, or its
/// fixed rounds for lockstep workloads.
async fn drive(
    run: &mut WorkerRun,
    budget: OpBudget,
    workers: usize,
    next_op: &AtomicU64,
    stop: &AtomicBool,
    use_async: bool,
) {
    let Some((op, recorder, error)) = ready_parts(run, stop) else {
        return;
    };
    let mut fixed_next = 0u64;
    loop {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let range = match budget {
            OpBudget::Shared { total } => match claim(next_op, total, workers) {
                Some(range) => range,
                None => return,
            },
            OpBudget::PerWorker { ops } => {
                if fixed_next >= ops {
                    return;
                }
                let range = fixed_next..(fixed_next + MAX_CLAIM_OPS).min(ops);
                fixed_next = range.end;
                range
            }
        };
        let result = if use_async {
            let mut result = Ok(());
            for op_index in range {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                result = time_one(op.as_mut(), recorder, op_index).await;
                if result.is_err() {
                    break;
                }
            }
            result
        } else {
            recorder.time_range(op.as_mut(), range, stop)
        };
        if let Err(e) = result {
            *error = Some(e);
            stop.store(true, Ordering::Relaxed);
            return;
        }
    }
}

/// An op the pacer hands a task: its index and due time.
type DueOp = (u64, Instant);

/// The open-loop pacer of the async models: one OS thread that sleeps to
/// each op's due time (with the timer slack lowered, as the sync models
/// pace themselves) and hands the op to task `op % workers` over that
/// task's channel, so each task keeps its wrk2-style share of the schedule.
/// tokio's own timer ticks in whole milliseconds, too coarse to pace ops
/// due every millisecond or less; a pacer thread sleeps, never spins, and
/// costs one wake-up per op.
struct Pacer {
    senders: Vec<tokio::sync::mpsc::UnboundedSender<DueOp>>,
    receivers: Vec<Option<tokio::sync::mpsc::UnboundedReceiver<DueOp>>>,
}

impl Pacer {
    fn new(workers: usize) -> Self {
        let (senders, receivers) = (0..workers)
            .map(|_| {
                let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
                (sender, Some(receiver))
            })
            .unzip();
        Pacer { senders, receivers }
    }

    fn take_receiver(&mut self, index: usize) -> tokio::sync::mpsc::UnboundedReceiver<DueOp> {
        self.receivers[index].take().expect("one receiver per task")
    }

    /// Starts pacing `schedule` (every op of the trial) on a new thread;
    /// the tasks' channels close when it ends.
    fn start(self, schedule: OpenSchedule, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
        let senders = self.senders;
        std::thread::spawn(move || {
            lower_timer_slack();
            let workers = senders.len().max(1) as u64;
            for op_index in schedule.ops() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let due = schedule.due(op_index);
                pace_until(due);
                let _ = senders[(op_index % workers) as usize].send((op_index, due));
            }
        })
    }
}

/// Runs the ops the pacer hands this task, each recorded from its due
/// time. An op already waiting when the task asks for it was due while the
/// task was busy: a late start. Otherwise the task was early, and how long
/// after the due time it woke is pacing error (the pacer's timer plus the
/// runtime's wake-up).
async fn drive_open(
    run: &mut WorkerRun,
    mut due_ops: tokio::sync::mpsc::UnboundedReceiver<DueOp>,
    stop: &AtomicBool,
    use_async: bool,
) {
    let Some((op, recorder, error)) = ready_parts(run, stop) else {
        return;
    };
    loop {
        let (next, woke) = match due_ops.try_recv() {
            Ok(next) => (next, None),
            Err(tokio::sync::mpsc::error::TryRecvError::Empty) => match due_ops.recv().await {
                Some(next) => (next, Some(Instant::now())),
                None => return,
            },
            Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => return,
        };
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let (op_index, due) = next;
        op.note_due(due);
        let started = Instant::now();
        let result = match op.as_async().filter(|_| use_async) {
            Some(async_op) => {
                AssertUnwindSafe(async_op.run_op_async(op_index))
                    .catch_unwind()
                    .await
            }
            None => std::panic::catch_unwind(AssertUnwindSafe(|| op.run_op(op_index))),
        };
        let end = Instant::now();
        let result = flatten_op_result(result);
        if let Err(e) = recorder.finish_open_op(op_index, due, started, woke, end, result) {
            *error = Some(e);
            stop.store(true, Ordering::Relaxed);
            return;
        }
    }
}

/// Times one async op (the async form always runs one op per timing: an
/// await may hand the thread to other tasks, whose time must not count).
async fn time_one(
    op: &mut dyn WorkerOp,
    recorder: &mut WorkerRecorder,
    op_index: u64,
) -> Result<(), Failure> {
    let Some(async_op) = op.as_async() else {
        return recorder.time_op(op, op_index);
    };
    let start = Instant::now();
    let result = AssertUnwindSafe(async_op.run_op_async(op_index))
        .catch_unwind()
        .await;
    let end = Instant::now();
    recorder.finish_op(op_index, start, end, flatten_op_result(result))
}

/// Threads tokio started since `before` that are not `runtime` threads:
/// its blocking pool, which starts threads on demand. The multi-threaded
/// runtime names them like its workers (`corebench-tokio`); the
/// current-thread one by tokio's default (`tokio-rt-worker`, or
/// `tokio-runtime-worker` in older versions).
fn blocking_threads_since(before: &[u32], runtime: &[u32]) -> usize {
    thread_ids()
        .into_iter()
        .filter(|tid| !before.contains(tid) && !runtime.contains(tid))
        .filter_map(thread_state)
        .filter(|t| t.name.starts_with("corebench-tokio") || t.name.starts_with("tokio-r"))
        .count()
}

/// An `on_thread_start` hook that pins the n-th started runtime thread to
/// `cores[n]` and logs what the OS then reports.
pub(crate) fn pinning_hook(
    cores: Vec<Option<usize>>,
    log: ThreadLog,
) -> impl Fn() + Send + Sync + 'static {
    let started = AtomicU64::new(0);
    move || {
        let index = started.fetch_add(1, Ordering::Relaxed) as usize;
        crate::wall::register_current_thread(&format!("runtime{index}"));
        let core = cores.get(index).copied().flatten();
        let entry = crate::placement::place_current_thread(core).map(|placed| ThreadRecord {
            index: index as u32,
            core: placed.core,
            cpus_allowed: placed.cpus_allowed,
            os: None,
        });
        lock(&log).push((current_tid(), entry));
    }
}
