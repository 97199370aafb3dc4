//! Stopping on SIGINT and SIGTERM. The first signal asks the run to stop:
//! the trial under way is told to stop between ops, its threads, children
//! and scratch folders are cleaned up as on any other end, and what
//! finished is rendered. A second signal ends the process at once (the
//! children still die with it: they ask the kernel for that when they
//! start).
//!
//! The handlers only store to atomics (signal-safe); the runner reads them.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use signal_hook::consts::{SIGINT, SIGTERM};

static REQUESTED: AtomicBool = AtomicBool::new(false);
static SIGNAL: AtomicUsize = AtomicUsize::new(0);

/// Installs the handlers; call once, before the run starts.
pub fn install() -> std::io::Result<()> {
    for signal in [SIGINT, SIGTERM] {
        // Registered first, so it sees the flag before this signal sets
        // it: only a second signal ends the process here.
        signal_hook::flag::register_conditional_shutdown(signal, 128 + signal, &REQUESTED)?;
        signal_hook::flag::register_usize(signal, &SIGNAL, signal as usize)?;
        signal_hook::flag::register(signal, &REQUESTED)?;
    }
    Ok(())
}

/// The signal that asked the run to stop, if one did.
pub fn requested() -> Option<i32> {
    REQUESTED
        .load(Ordering::SeqCst)
        .then(|| SIGNAL.load(Ordering::SeqCst) as i32)
}

/// The conventional exit code of a process stopped by `signal`.
pub fn exit_code(signal: i32) -> i32 {
    128 + signal
}

/// The signal's name for messages.
pub fn name(signal: i32) -> &'static str {
    match signal {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}
