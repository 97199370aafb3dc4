//! Starting workers together: the `StartGate` that releases them at
//! once, spawning named scoped worker threads behind it, and joining them.

use std::sync::atomic::Ordering;
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use super::{Model, TrialSpec};
use crate::failure::Failure;
use crate::os::machine::MachineSnapshot;
use crate::recorder::panic_message;

/// Releases workers together once all are set up: the two halves of a
/// barrier. Workers call [`StartGate::arrive_and_wait`]; the model waits
/// for all of them with a deadline, reads its clocks, and opens the gate.
/// Unlike `std::sync::Barrier`, it can be opened with fewer arrivals (a
/// thread that failed to spawn, a set-up that hangs), so a broken start
/// fails the trial instead of hanging it. Waiting is blocking (a condvar),
/// never spinning.
#[derive(Default)]
pub(crate) struct StartGate {
    /// Arrivals, and when the gate opened.
    state: Mutex<(usize, Option<Instant>)>,
    changed: Condvar,
}

impl StartGate {
    /// Counts the caller as ready and blocks until the gate opens; returns
    /// when it opened (the base of an open-loop schedule).
    pub fn arrive_and_wait(&self) -> Instant {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.0 += 1;
        self.changed.notify_all();
        loop {
            if let Some(opened) = state.1 {
                return opened;
            }
            state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Blocks until `count` workers have arrived; false at the deadline.
    pub fn wait_ready(&self, count: usize, deadline: Instant) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while state.0 < count {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }

    /// Releases every waiting worker, and any that arrive later; returns
    /// the release time.
    pub fn open(&self) -> Instant {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let opened = *state.1.get_or_insert_with(Instant::now);
        drop(state);
        self.changed.notify_all();
        opened
    }
}

/// Workers started behind a [`StartGate`] and released: their handles,
/// and what the model measures from the release on.
pub(crate) struct Released<'scope, T> {
    /// The worker threads, to join.
    pub handles: Vec<std::thread::ScopedJoinHandle<'scope, T>>,
    /// From `spawn_start` until every worker was set up.
    pub spawn_ns: u64,
    /// The machine (and this process's CPU time) just before the release.
    pub before: MachineSnapshot,
    /// When the gate opened: the start of the timed region.
    pub at: Instant,
}

impl StartGate {
    /// Spawns one named scoped thread per worker of `spec` running
    /// `body(index)`, each of which must call [`StartGate::arrive_and_wait`]
    /// once set up; waits until all have arrived, then opens the gate. On a
    /// failed spawn or a start past the deadline it raises the trial's stop
    /// flag and opens the gate, so the threads already started end instead
    /// of waiting forever, and returns the error.
    pub(crate) fn start<'scope, T: Send + 'scope>(
        &'scope self,
        scope: &'scope std::thread::Scope<'scope, '_>,
        model: Model,
        spec: &'scope TrialSpec,
        spawn_start: Instant,
        body: &'scope (dyn Fn(usize) -> T + Sync),
    ) -> Result<Released<'scope, T>, Failure> {
        let count = spec.workers;
        let abandon = |error: Failure| {
            spec.stop.store(true, Ordering::Relaxed);
            self.open();
            error
        };
        let mut handles = Vec::with_capacity(count);
        for index in 0..count {
            let spawned = std::thread::Builder::new()
                .name(format!("corebench-{model}{index}"))
                .spawn_scoped(scope, move || body(index));
            match spawned {
                Ok(handle) => handles.push(handle),
                Err(e) => {
                    return Err(abandon(Failure::failed(format!(
                        "could not spawn thread {index} of {count}: {e}"
                    ))))
                }
            }
        }
        if !self.wait_ready(count, spec.deadline) {
            return Err(abandon(start_timeout(model)));
        }
        let spawn_ns = spawn_start.elapsed().as_nanos() as u64;
        let before = MachineSnapshot::take();
        Ok(Released {
            handles,
            spawn_ns,
            before,
            at: self.open(),
        })
    }
}

/// Joins scoped worker threads. Ops run under `catch_unwind`, so a join
/// error means the harness itself panicked; it is reported, not re-thrown.
pub(crate) fn join_workers<T>(
    handles: Vec<std::thread::ScopedJoinHandle<'_, T>>,
) -> Result<Vec<T>, Failure> {
    handles
        .into_iter()
        .map(|handle| {
            handle.join().map_err(|p| {
                Failure::failed(format!(
                    "worker thread panicked outside an op: {}",
                    panic_message(p.as_ref())
                ))
            })
        })
        .collect()
}

/// A time-out error for a start that did not complete.
pub(crate) fn start_timeout(model: Model) -> Failure {
    Failure::timeout(format!(
        "{model}: workers were not all set up before the trial's time limit"
    ))
}
