//! The signal half of the wall-clock sampler: the table of sampled
//! threads, and the handler that records the stack of the thread it
//! interrupts.
//!
//! A thread is sampled by sending it a signal of its own (a real-time
//! signal, installed with `SA_RESTART`) with `tgkill`. The handler runs on
//! that thread, whether it was running, waiting for a CPU or asleep in a
//! syscall: the kernel wakes a sleeping thread to run it, then restarts the
//! syscall (or returns `EINTR` from those that never restart, such as
//! `nanosleep` and `epoll_wait`, which std, crossbeam and mio retry).
//!
//! The handler may not allocate, lock or open files. So each thread has a
//! slot, set up outside the handler: its stack's bounds (the only memory
//! the unwinder may read), a framehop cache, and room for one stack. A
//! slot's state is a small atomic machine; the sampler asks only when a
//! slot is idle, so there is never more than one signal in flight per
//! thread, and a sample is never overwritten before it is read.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;

use framehop::{
    CacheNative, MustNotAllocateDuringUnwind, UnwindRegsNative, Unwinder, UnwinderNative,
};

/// Threads one process samples at once.
pub(super) const MAX_THREADS: usize = 512;
/// Frames kept per sample (the innermost).
pub(super) const MAX_DEPTH: usize = 128;

/// Not in use.
const FREE: u32 = 0;
/// A registered thread with nothing asked of it.
const IDLE: u32 = 1;
/// Signalled; its handler has not run yet.
const ASKED: u32 = 2;
/// Its handler is writing (or the slot is being set up).
const BUSY: u32 = 3;
/// A sample waits to be read.
const FILLED: u32 = 4;

type Cache = CacheNative<MustNotAllocateDuringUnwind>;

/// One sampled thread.
pub(super) struct Slot {
    tid: AtomicI32,
    state: AtomicU32,
    /// Whether its timed region is open: only then is it asked.
    in_window: AtomicBool,
    stack_low: AtomicUsize,
    stack_high: AtomicUsize,
    /// When its handler ran, ns on the monotonic clock.
    handled_ns: AtomicU64,
    /// Whether the handler interrupted a syscall.
    in_syscall: AtomicBool,
    /// Samples its handler took since the slot was claimed.
    handled: AtomicU64,
    depth: AtomicUsize,
    /// Written only by its own handler (state `BUSY`), read only by the
    /// sampler (state `FILLED`).
    frames: UnsafeCell<[u64; MAX_DEPTH]>,
    /// Set up once by the registering thread (state `BUSY`), then used
    /// only by that slot's handler.
    cache: UnsafeCell<Option<Box<Cache>>>,
}

// SAFETY: the cells are guarded by `state`, as the field docs say: one
// writer at a time, handed over with acquire/release on `state`.
unsafe impl Sync for Slot {}

impl Slot {
    const fn new() -> Self {
        Slot {
            tid: AtomicI32::new(0),
            state: AtomicU32::new(FREE),
            in_window: AtomicBool::new(false),
            stack_low: AtomicUsize::new(0),
            stack_high: AtomicUsize::new(0),
            handled_ns: AtomicU64::new(0),
            in_syscall: AtomicBool::new(false),
            handled: AtomicU64::new(0),
            depth: AtomicUsize::new(0),
            frames: UnsafeCell::new([0; MAX_DEPTH]),
            cache: UnsafeCell::new(None),
        }
    }
}

static SLOTS: [Slot; MAX_THREADS] = [const { Slot::new() }; MAX_THREADS];

/// The unwinder over every loaded object, built once before the first
/// signal (framehop's is immutable once built, so handlers share it).
static UNWINDER: OnceLock<UnwinderNative<Vec<u8>, MustNotAllocateDuringUnwind>> = OnceLock::new();

/// Whether the handler is installed.
static INSTALLED: OnceLock<bool> = OnceLock::new();

/// The signal the sampler sends: a real-time one, which nothing else in
/// the process uses, queued per thread.
pub(super) fn sample_signal() -> libc::c_int {
    libc::SIGRTMIN() + 5
}

/// Installs the handler and loads the unwind tables; false where either
/// failed (then nothing is sampled).
pub(super) fn install() -> bool {
    *INSTALLED.get_or_init(|| {
        UNWINDER.get_or_init(|| {
            let mut unwinder = UnwinderNative::new();
            for module in super::modules::loaded_modules() {
                unwinder.add_module(module);
            }
            unwinder
        });
        // SAFETY: a zeroed sigaction is valid; the handler is async-signal
        // safe (see `on_signal`).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sample_signal(), &action, std::ptr::null_mut()) == 0
        }
    })
}

/// The calling thread's id.
fn gettid() -> i32 {
    // SAFETY: gettid has no arguments and cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) as i32 }
}

/// The calling thread's stack, `[low, high)`, from its pthread attributes.
fn own_stack() -> Option<(usize, usize)> {
    // SAFETY: the attribute object is initialised by pthread_getattr_np
    // and destroyed after use; the out-pointers are valid.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut base: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let got = libc::pthread_attr_getstack(&attr, &mut base, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        (got == 0 && !base.is_null()).then(|| (base as usize, base as usize + size))
    }
}

/// Gives the calling thread a slot; false when the table is full or its
/// stack cannot be read. A thread registered already keeps its slot.
pub(super) fn register_current() -> bool {
    let tid = gettid();
    if SLOTS
        .iter()
        .any(|s| s.tid.load(Ordering::Acquire) == tid && s.state.load(Ordering::Acquire) != FREE)
    {
        return true;
    }
    let Some((low, high)) = own_stack() else {
        return false;
    };
    for slot in &SLOTS {
        if slot
            .state
            .compare_exchange(FREE, BUSY, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            continue;
        }
        slot.stack_low.store(low, Ordering::Relaxed);
        slot.stack_high.store(high, Ordering::Relaxed);
        slot.in_window.store(false, Ordering::Relaxed);
        slot.handled.store(0, Ordering::Relaxed);
        // SAFETY: the slot is BUSY and claimed by this thread: no handler
        // and no sampler touches its cells now.
        unsafe {
            let cache = &mut *slot.cache.get();
            if cache.is_none() {
                *cache = Some(Box::new(Cache::default()));
            }
        }
        slot.tid.store(tid, Ordering::Release);
        slot.state.store(IDLE, Ordering::Release);
        return true;
    }
    false
}

/// Samples thread `tid`'s handler has taken since it registered.
#[cfg(test)]
pub(super) fn handled(tid: i32) -> u64 {
    SLOTS
        .iter()
        .find(|s| s.tid.load(Ordering::Acquire) == tid)
        .map_or(0, |s| s.handled.load(Ordering::Relaxed))
}

/// Opens or closes the timed region of thread `tid`.
pub(super) fn set_window(tid: i32, open: bool) {
    for slot in &SLOTS {
        if slot.tid.load(Ordering::Acquire) == tid && slot.state.load(Ordering::Acquire) != FREE {
            slot.in_window.store(open, Ordering::Release);
        }
    }
}

/// A slot as the sampler sees it between ticks.
pub(super) enum Seen {
    /// Unused, or its window is closed.
    Nothing,
    /// Ready to be asked.
    Idle { tid: i32 },
    /// Asked, and its handler has not finished.
    Waiting,
    /// A sample is ready.
    Filled { tid: i32 },
}

/// What slot `index` holds now.
pub(super) fn look(index: usize) -> Seen {
    let slot = &SLOTS[index];
    match slot.state.load(Ordering::Acquire) {
        IDLE if slot.in_window.load(Ordering::Acquire) => Seen::Idle {
            tid: slot.tid.load(Ordering::Acquire),
        },
        ASKED | BUSY => Seen::Waiting,
        FILLED => Seen::Filled {
            tid: slot.tid.load(Ordering::Acquire),
        },
        _ => Seen::Nothing,
    }
}

/// Signals the thread of idle slot `index`; false when it is gone.
pub(super) fn ask(index: usize, tid: i32) -> bool {
    let slot = &SLOTS[index];
    if slot
        .state
        .compare_exchange(IDLE, ASKED, Ordering::AcqRel, Ordering::Relaxed)
        .is_err()
    {
        return true;
    }
    // SAFETY: a plain syscall; a thread that has exited makes it fail.
    let sent =
        unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, sample_signal()) } == 0;
    if !sent {
        let _ = slot
            .state
            .compare_exchange(ASKED, IDLE, Ordering::AcqRel, Ordering::Relaxed);
    }
    sent
}

/// A sample as its handler left it.
pub(super) struct Taken {
    /// Innermost first, each an address inside its call instruction or
    /// at the interrupted instruction.
    pub frames: Vec<u64>,
    /// When the handler ran, ns on the monotonic clock.
    pub handled_ns: u64,
    /// Whether the thread was in a syscall.
    pub in_syscall: bool,
}

/// Takes the sample of filled slot `index`. The slot is idle again.
pub(super) fn take(index: usize) -> Taken {
    let slot = &SLOTS[index];
    let depth = slot.depth.load(Ordering::Acquire).min(MAX_DEPTH);
    // SAFETY: the slot is FILLED: its handler is done, and none runs
    // until it is asked again.
    let frames = unsafe { (&*slot.frames.get())[..depth].to_vec() };
    let taken = Taken {
        frames,
        handled_ns: slot.handled_ns.load(Ordering::Acquire),
        in_syscall: slot.in_syscall.load(Ordering::Acquire),
    };
    slot.state.store(IDLE, Ordering::Release);
    taken
}

/// Frees every slot: the trial is over. A signal still in flight is
/// cancelled; a handler still writing is waited for (it takes
/// microseconds).
pub(super) fn release_all() {
    for slot in &SLOTS {
        loop {
            match slot.state.load(Ordering::Acquire) {
                FREE => break,
                BUSY => std::thread::yield_now(),
                state => {
                    if slot
                        .state
                        .compare_exchange(state, BUSY, Ordering::AcqRel, Ordering::Relaxed)
                        .is_ok()
                    {
                        slot.tid.store(0, Ordering::Release);
                        slot.in_window.store(false, Ordering::Release);
                        slot.state.store(FREE, Ordering::Release);
                        break;
                    }
                }
            }
        }
    }
}

/// Now on the monotonic clock, ns (async-signal-safe).
pub(super) fn monotonic_ns() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes only `now`.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

/// The handler. Async-signal-safe: atomics, `gettid`, `clock_gettime`,
/// and framehop's unwinder with a cache set up beforehand and a stack
/// reader bounded to the thread's own stack. `errno` is kept.
extern "C" fn on_signal(_: libc::c_int, _: *mut libc::siginfo_t, context: *mut libc::c_void) {
    // SAFETY: errno is thread-local; it is put back as it was.
    let errno = unsafe { *libc::__errno_location() };
    let tid = gettid();
    if let Some(slot) = SLOTS.iter().find(|s| s.tid.load(Ordering::Acquire) == tid) {
        if slot
            .state
            .compare_exchange(ASKED, BUSY, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            if slot.tid.load(Ordering::Acquire) == tid {
                // SAFETY: the slot is BUSY and this is its thread.
                unsafe { fill(slot, context) };
                slot.handled.fetch_add(1, Ordering::Relaxed);
                slot.state.store(FILLED, Ordering::Release);
            } else {
                slot.state.store(ASKED, Ordering::Release);
            }
        }
    }
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = errno };
}

/// Writes the interrupted stack into `slot`.
///
/// # Safety
/// The caller holds `slot` (state `BUSY`) and runs on its thread.
unsafe fn fill(slot: &Slot, context: *mut libc::c_void) {
    slot.handled_ns.store(monotonic_ns(), Ordering::Relaxed);
    // SAFETY: the caller holds the slot.
    let frames = unsafe { &mut *slot.frames.get() };
    let mut depth = 0;
    let registers = registers(context);
    slot.in_syscall.store(
        // SAFETY: pc is the interrupted instruction, in mapped code.
        registers.is_some_and(|(pc, _)| unsafe { at_syscall(pc) }),
        Ordering::Relaxed,
    );
    if let (Some((pc, regs)), Some(unwinder)) = (registers, UNWINDER.get()) {
        let (low, high) = (
            slot.stack_low.load(Ordering::Relaxed),
            slot.stack_high.load(Ordering::Relaxed),
        );
        let mut read_stack = |address: u64| {
            let address = address as usize;
            if address >= low && address.checked_add(8).is_some_and(|end| end <= high) {
                // SAFETY: inside this thread's own mapped stack.
                Ok(unsafe { (address as *const u64).read_unaligned() })
            } else {
                Err(())
            }
        };
        // SAFETY: the caller holds the slot.
        match unsafe { (*slot.cache.get()).as_deref_mut() } {
            Some(cache) => {
                let mut frames_iter = unwinder.iter_frames(pc, regs, cache, &mut read_stack);
                while let Ok(Some(frame)) = frames_iter.next() {
                    if depth == MAX_DEPTH {
                        break;
                    }
                    frames[depth] = frame.address_for_lookup();
                    depth += 1;
                }
            }
            None => {
                frames[0] = pc;
                depth = 1;
            }
        }
    }
    slot.depth.store(depth, Ordering::Release);
}

/// Whether `pc` is at or just after a syscall instruction: where a thread
/// interrupted in a syscall resumes (the kernel moves a restarted one back
/// onto the instruction). A thread read as blocked that is not there had
/// woken before the signal came.
///
/// # Safety
/// `pc` is an interrupted thread's program counter: mapped code. Bytes are
/// read only within its page.
#[cfg(target_arch = "x86_64")]
unsafe fn at_syscall(pc: u64) -> bool {
    const SYSCALL: [u8; 2] = [0x0f, 0x05];
    let offset = pc & 0xfff;
    // SAFETY: both reads stay inside pc's page, which is mapped.
    unsafe {
        (offset <= 0xffe && (pc as *const [u8; 2]).read_unaligned() == SYSCALL)
            || (offset >= 2 && ((pc - 2) as *const [u8; 2]).read_unaligned() == SYSCALL)
    }
}

/// Whether `pc` is at or just after a syscall instruction (`svc #0`).
///
/// # Safety
/// As on x86_64.
#[cfg(target_arch = "aarch64")]
unsafe fn at_syscall(pc: u64) -> bool {
    const SVC_0: u32 = 0xd400_0001;
    let offset = pc & 0xfff;
    // SAFETY: both reads stay inside pc's page, which is mapped.
    unsafe {
        (offset <= 0xffc && (pc as *const u32).read_unaligned() == SVC_0)
            || (offset >= 4 && ((pc - 4) as *const u32).read_unaligned() == SVC_0)
    }
}

/// The interrupted program counter and the registers framehop starts from.
#[cfg(target_arch = "x86_64")]
fn registers(context: *mut libc::c_void) -> Option<(u64, UnwindRegsNative)> {
    let context = context as *const libc::ucontext_t;
    if context.is_null() {
        return None;
    }
    // SAFETY: the kernel passes a valid ucontext to an SA_SIGINFO handler.
    let regs = unsafe { &(*context).uc_mcontext.gregs };
    let pc = regs[libc::REG_RIP as usize] as u64;
    Some((
        pc,
        UnwindRegsNative::new(
            pc,
            regs[libc::REG_RSP as usize] as u64,
            regs[libc::REG_RBP as usize] as u64,
        ),
    ))
}

/// The interrupted program counter and the registers framehop starts from.
#[cfg(target_arch = "aarch64")]
fn registers(context: *mut libc::c_void) -> Option<(u64, UnwindRegsNative)> {
    let context = context as *const libc::ucontext_t;
    if context.is_null() {
        return None;
    }
    // SAFETY: the kernel passes a valid ucontext to an SA_SIGINFO handler.
    let mcontext = unsafe { &(*context).uc_mcontext };
    Some((
        mcontext.pc,
        UnwindRegsNative::new(mcontext.regs[30], mcontext.sp, mcontext.regs[29]),
    ))
}
