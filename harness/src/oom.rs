//! An op that runs out of memory fails its trial, not the run.
//!
//! When an allocation fails, Rust prints "memory allocation of N bytes
//! failed" and aborts the process: under the in-process models that would
//! end the whole run (exit 134, no report). Rust has no stable way to turn
//! that into a panic (`set_alloc_error_hook` and `-Zoom=panic` are
//! nightly), so corebench contains it in two steps:
//!
//! 1. [`ContainedAlloc`], the global allocator of the `corebench` binary
//!    (and of any suite binary that declares it), defers to the system
//!    allocator and, when an allocation on a thread other than the
//!    harness's own fails, notes its size in that thread;
//! 2. a `SIGABRT` handler, installed by the supervisor of in-process
//!    trials, parks a thread that aborts right after such a failure, for
//!    good, and tells the supervisor, which fails the trial with the size
//!    that could not be had and abandons its threads.
//!
//! A failed allocation that is handled (`try_reserve`) never aborts, so it
//! is left alone (though a deliberate abort later on that thread would be
//! taken for it). The parked thread holds no allocator lock (the system
//! allocator had returned), and glibc's `abort` raises the signal without
//! holding its own lock. The `process` model's children are not
//! contained: their abort ends only the child, which the parent reports.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

thread_local! {
    /// Set on the harness's own thread: its failures abort as usual.
    static HARNESS_THREAD: Cell<bool> = const { Cell::new(false) };
    /// The size of this thread's last failed allocation.
    static FAILED_BYTES: Cell<usize> = const { Cell::new(0) };
}

/// Whether this process contains failed allocations at all.
static CONTAINING: AtomicBool = AtomicBool::new(false);
/// A thread parked after a failed allocation: its size, and its tid.
static PARKED_BYTES: AtomicUsize = AtomicUsize::new(0);
static PARKED_TID: AtomicU32 = AtomicU32::new(0);

/// The system allocator, noting which thread's allocation failed (see the
/// module docs). A suite binary opts in with
/// `#[global_allocator] static ALLOC: corebench::oom::ContainedAlloc = corebench::oom::ContainedAlloc;`.
pub struct ContainedAlloc;

fn note(result: *mut u8, bytes: usize) -> *mut u8 {
    // Kept after later allocations succeed: Rust's out-of-memory message
    // allocates when it prints a backtrace (RUST_BACKTRACE) before it
    // aborts. `try_with`: a thread tearing down its locals may still
    // allocate.
    if result.is_null() {
        let _ = FAILED_BYTES.try_with(|failed| failed.set(bytes.max(1)));
    }
    result
}

// SAFETY: every call is passed to `System` unchanged; only a thread-local
// cell (const-initialised, no destructor, so it never allocates) is written.
unsafe impl GlobalAlloc for ContainedAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        note(unsafe { System.alloc(layout) }, layout.size())
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as above.
        note(unsafe { System.alloc_zeroed(layout) }, layout.size())
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        note(unsafe { System.realloc(ptr, layout, new_size) }, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// A thread that was parked after its allocation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parked {
    /// The allocation that failed, bytes.
    pub bytes: usize,
    /// The thread.
    pub tid: u32,
}

/// Starts containing failed allocations in this process, with the calling
/// thread as the harness's own. Idempotent.
pub fn contain_from_this_thread() {
    HARNESS_THREAD.with(|h| h.set(true));
    if CONTAINING.swap(true, Ordering::SeqCst) {
        return;
    }
    #[cfg(target_os = "linux")]
    // SAFETY: installs a handler that only touches atomics and
    // const-initialised thread-locals, and calls async-signal-safe
    // functions (signal, pause).
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_abort as *const () as usize;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGABRT, &action, std::ptr::null_mut());
    }
}

/// The thread parked since the last call, if one was.
pub fn take_parked() -> Option<Parked> {
    let bytes = PARKED_BYTES.swap(0, Ordering::SeqCst);
    (bytes > 0).then(|| Parked {
        bytes,
        tid: PARKED_TID.load(Ordering::SeqCst),
    })
}

#[cfg(target_os = "linux")]
extern "C" fn on_abort(_signal: libc::c_int) {
    let harness = HARNESS_THREAD.try_with(Cell::get).unwrap_or(true);
    let failed = FAILED_BYTES.try_with(Cell::get).unwrap_or(0);
    if harness || failed == 0 || !CONTAINING.load(Ordering::SeqCst) {
        // Not ours to contain: abort as if no handler were installed.
        // SAFETY: signal is async-signal-safe; abort raises again.
        unsafe { libc::signal(libc::SIGABRT, libc::SIG_DFL) };
        return;
    }
    // SAFETY: gettid and pause are async-signal-safe.
    let tid = unsafe { libc::syscall(libc::SYS_gettid) } as u32;
    PARKED_TID.store(tid, Ordering::SeqCst);
    PARKED_BYTES.store(failed, Ordering::SeqCst);
    loop {
        // SAFETY: as above; other handlers may wake it, so it waits again.
        unsafe { libc::pause() };
    }
}
