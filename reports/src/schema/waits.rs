//! What a wall-clock profile says about one trial (`run --wall-profile`):
//! how the workers' sampled time split into on-CPU, waiting for a CPU and
//! blocked, and the call sites where they were blocked.

use serde::{Deserialize, Serialize};

/// The primitive a blocked thread waited in, read from its stack (and,
/// where the stack does not say, from the syscall it slept in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitPrimitive {
    /// A mutex's lock path.
    Mutex,
    /// A reader-writer lock.
    Rwlock,
    /// A condition variable.
    Condvar,
    /// A barrier.
    Barrier,
    /// A channel's send or receive.
    Channel,
    /// A runtime or pool with nothing to run (tokio's or rayon's park).
    Park,
    /// A futex the stack does not name otherwise.
    Futex,
    /// A read from a socket, a pipe or a file.
    IoRead,
    /// A write, a send or an fsync.
    IoWrite,
    /// Waiting for readiness: poll, select, epoll, accept.
    IoReadiness,
    /// A timed sleep.
    Sleep,
    /// Waiting for a child process.
    ChildProcess,
    /// Anything else.
    Other,
}

impl WaitPrimitive {
    /// How the page and the terminal name it.
    pub fn phrase(self) -> &'static str {
        match self {
            WaitPrimitive::Mutex => "mutex",
            WaitPrimitive::Rwlock => "rwlock",
            WaitPrimitive::Condvar => "condvar",
            WaitPrimitive::Barrier => "barrier",
            WaitPrimitive::Channel => "channel",
            WaitPrimitive::Park => "idle (parked)",
            WaitPrimitive::Futex => "futex",
            WaitPrimitive::IoRead => "IO read",
            WaitPrimitive::IoWrite => "IO write",
            WaitPrimitive::IoReadiness => "IO readiness",
            WaitPrimitive::Sleep => "sleep",
            WaitPrimitive::ChildProcess => "child process",
            WaitPrimitive::Other => "other",
        }
    }
}

/// One call site where the workers were blocked in one trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitSite {
    /// The primitive.
    pub primitive: WaitPrimitive,
    /// The function the calling code called to wait, e.g.
    /// `std::sync::barrier::Barrier::wait`.
    pub function: String,
    /// The innermost frame of the workload's (or the caller's) own code
    /// below it; `null` when the whole stack is library code (a runtime
    /// thread with nothing to run).
    pub caller: Option<String>,
    /// Whether the thread was inside an async task's poll: a blocking
    /// call on an executor thread, which stalls every task queued there.
    pub in_async_task: bool,
    /// Samples at this site.
    pub samples: u64,
    /// Its share of the trial's blocked samples.
    pub share_of_blocked: f64,
    /// Its share of all the trial's samples: comparable with the
    /// breakdown's `blocked_fraction`.
    pub share_of_time: f64,
}

/// How one trial's wall-clock samples split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WallProfile {
    /// Samples asked per second per thread.
    pub asked_hz: u32,
    /// Ticks sampled over the threads' timed regions (a sample delayed
    /// over several ticks counts for each).
    pub samples: u64,
    /// Share of them on a CPU.
    pub on_cpu_fraction: f64,
    /// Waiting for a CPU.
    pub runqueue_fraction: f64,
    /// Blocked.
    pub blocked_fraction: f64,
    /// Blocked inside an async task's poll (async models only; see
    /// [`WaitSite::in_async_task`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_in_tasks_fraction: Option<f64>,
}
