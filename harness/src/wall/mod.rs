//! Wall-clock profiles (`run --wall-profile`): where every worker thread
//! was, at a fixed wall-clock interval, whether it was running, waiting for
//! a CPU or blocked. The CPU profile ([`crate::sampler`]) sees only threads
//! on a CPU, so a thread asleep on a lock, a barrier, a channel, a socket
//! or a timer never shows there; this one names where it sleeps.
//!
//! A sampler thread wakes `hz` times a second. For every registered thread
//! whose timed region is open it reads the thread's state from `/proc`
//! ([`state`]), then signals it ([`signal`]); the thread's handler records
//! its stack with framehop, and the sampler collects it on its next tick.
//! A thread still owing a sample from an earlier tick (it has not been on
//! a CPU since) is not signalled again: its next sample stands for every
//! tick it missed, as time spent waiting for a CPU.
//!
//! Threads register themselves as they start ([`register_current_thread`]:
//! workers, runtime threads, process children) and open and close their
//! timed region ([`set_window`]) where the models already read their
//! clocks, so nothing runs in the op loop. After the trial the samples are
//! symbolized (outside any timed region) into folded stacks with the
//! thread's state as the root frame and its syscall as the leaf:
//! `blocked;corebench-threads0;...;std::sync::barrier::Barrier::wait;...;[futex]`.
//! `reports::waits` reads the wait sites from them.

mod cell;
#[cfg(target_os = "linux")]
mod modules;
#[cfg(target_os = "linux")]
mod signal;
pub mod state;

pub use cell::CellWall;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Samples per second per thread, unless `--wall-profile-hz` says
/// otherwise. Its cost is measured by `scripts/wall-profile-cost.sh`.
pub const DEFAULT_WALL_HZ: u32 = 100;

/// A running thread whose handler ran later than this after its signal
/// was waiting for a CPU, not running: a thread on a CPU takes the signal
/// within microseconds.
const RUNQUEUE_DELAY_NS: u64 = 250_000;

/// Whether a profile is being taken in this process.
static ARMED: AtomicBool = AtomicBool::new(false);

/// Root frames of the folded stacks: the thread's state.
pub use reports::waits::{ROOT_BLOCKED, ROOT_ON_CPU, ROOT_RUNQUEUE};

/// What each registered thread is called in the profile (`worker0`,
/// `runtime1`): thread names are cut at 15 bytes, and workers' would
/// read alike.
static LABELS: std::sync::Mutex<Option<HashMap<i32, String>>> = std::sync::Mutex::new(None);

/// Gives the calling thread a slot, while a profile is armed, and names it
/// `label` (a thread registered already keeps its first name): called by
/// every thread that runs workers' ops as it starts. Costs one load when
/// none is armed.
pub fn register_current_thread(label: &str) {
    #[cfg(target_os = "linux")]
    if ARMED.load(Ordering::Acquire) && signal::register_current() {
        let tid = crate::os::threads::current_tid() as i32;
        let mut labels = LABELS.lock().unwrap_or_else(|p| p.into_inner());
        labels
            .get_or_insert_with(HashMap::new)
            .entry(tid)
            .or_insert_with(|| label.to_string());
    }
    #[cfg(not(target_os = "linux"))]
    let _ = label;
}

/// Opens (`open`) or closes the timed region of thread `tid`: only threads
/// inside theirs are sampled, as the breakdown counts only that time.
pub fn set_window(tid: u32, open: bool) {
    #[cfg(target_os = "linux")]
    if ARMED.load(Ordering::Acquire) {
        signal::set_window(tid as i32, open);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (tid, open);
}

/// [`set_window`] for the calling thread; asks for its id only while a
/// profile is armed.
pub fn set_window_of_current(open: bool) {
    #[cfg(target_os = "linux")]
    if ARMED.load(Ordering::Acquire) {
        signal::set_window(crate::os::threads::current_tid() as i32, open);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = open;
}

/// A trial's samples, symbolized and folded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WallSamples {
    /// Folded stack (state first) to the ticks it stands for.
    pub stacks: Vec<(String, u64)>,
    /// Ticks in all.
    pub samples: u64,
}

impl WallSamples {
    /// Adds `other`'s stacks.
    pub fn merge(&mut self, other: WallSamples) {
        self.stacks.extend(other.stacks);
        self.samples += other.samples;
    }
}

/// The sampler, armed for one trial.
pub struct WallProfiler {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Sampled>,
}

/// What the sampler thread collected: the samples, counted as they come
/// (a long run at a high rate must not keep every one), and the names of
/// the threads it saw (read while they lived).
#[derive(Default)]
struct Sampled {
    samples: HashMap<SampleKey, u64>,
    names: HashMap<i32, String>,
}

/// What makes two samples the same: thread, state, syscall and stack.
type SampleKey = (i32, &'static str, Option<Option<i64>>, Vec<u64>);

impl WallProfiler {
    /// Arms the sampler at `hz` per thread; `None` where it cannot run
    /// (not Linux, or the handler could not be installed).
    pub fn start(hz: u32) -> Option<WallProfiler> {
        Self::start_every(Duration::from_nanos(1_000_000_000 / u64::from(hz.max(1))))
    }

    /// Arms the sampler with a tick every `interval`.
    fn start_every(interval: Duration) -> Option<WallProfiler> {
        #[cfg(target_os = "linux")]
        {
            if !signal::install() {
                return None;
            }
            ARMED.store(true, Ordering::Release);
            let stop = Arc::new(AtomicBool::new(false));
            let spawned = std::thread::Builder::new()
                .name("corebench-wall".into())
                .spawn({
                    let stop = Arc::clone(&stop);
                    move || sample_until(&stop, interval)
                });
            let Ok(thread) = spawned else {
                // No sampler: threads must not keep registering.
                ARMED.store(false, Ordering::Release);
                return None;
            };
            Some(WallProfiler { stop, thread })
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = interval;
            None
        }
    }

    /// Stops the sampler, frees the threads' slots, and folds the samples.
    pub fn finish(self) -> WallSamples {
        self.stop.store(true, Ordering::Release);
        let raw = self.thread.join().unwrap_or_default();
        ARMED.store(false, Ordering::Release);
        #[cfg(target_os = "linux")]
        signal::release_all();
        *LABELS.lock().unwrap_or_else(|p| p.into_inner()) = None;
        fold(raw)
    }
}

/// The sampler thread: a tick every `interval` until `stop`, then one last
/// collection.
#[cfg(target_os = "linux")]
fn sample_until(stop: &AtomicBool, interval: Duration) -> Sampled {
    use signal::{look, Seen as Slot, MAX_THREADS};
    use state::{Seen, StateReader};

    let mut readers: HashMap<i32, StateReader> = HashMap::new();
    let mut names = HashMap::new();
    let mut asked: Vec<Option<(Seen, u64)>> = vec![None; MAX_THREADS];
    let mut missed = vec![0u64; MAX_THREADS];
    let mut samples: HashMap<SampleKey, u64> = HashMap::new();
    let mut next = Instant::now();
    loop {
        let stopping = stop.load(Ordering::Acquire);
        for index in 0..MAX_THREADS {
            if let Slot::Filled { tid } = look(index) {
                let taken = signal::take(index);
                if let Some((seen, asked_ns)) = asked[index].take() {
                    let late = missed[index] > 0
                        || taken.handled_ns.saturating_sub(asked_ns) > RUNQUEUE_DELAY_NS;
                    let (root, syscall) = match seen {
                        // Woken between the read and the signal: its
                        // stack is where it runs now.
                        Seen::Blocked { syscall: Some(_) } if !taken.in_syscall => {
                            (ROOT_ON_CPU, None)
                        }
                        Seen::Blocked { syscall } => (ROOT_BLOCKED, Some(syscall)),
                        Seen::Running if late => (ROOT_RUNQUEUE, None),
                        Seen::Running => (ROOT_ON_CPU, None),
                    };
                    *samples
                        .entry((tid, root, syscall, taken.frames))
                        .or_insert(0) += 1 + missed[index];
                }
                missed[index] = 0;
            }
            if stopping {
                continue;
            }
            match look(index) {
                Slot::Idle { tid } => {
                    let reader = readers.entry(tid).or_insert_with(|| {
                        names.insert(tid, thread_name(tid));
                        StateReader::open(tid)
                    });
                    if let Some(seen) = reader.read() {
                        asked[index] = Some((seen, signal::monotonic_ns()));
                        if !signal::ask(index, tid) {
                            asked[index] = None;
                        }
                    }
                }
                Slot::Waiting => missed[index] += 1,
                Slot::Nothing | Slot::Filled { .. } => {}
            }
        }
        if stopping {
            return Sampled { samples, names };
        }
        next += interval;
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        } else {
            next = now;
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn sample_until(_: &AtomicBool, _: Duration) -> Sampled {
    Sampled::default()
}

/// Symbolizes and folds the samples. Each address is resolved once;
/// inlined functions become frames of their own, as in a backtrace.
fn fold(sampled: Sampled) -> WallSamples {
    let Sampled { samples, mut names } = sampled;
    let mut symbols: HashMap<u64, Vec<String>> = HashMap::new();
    let mut stacks: HashMap<String, u64> = HashMap::new();
    let mut total = 0;
    for ((tid, root, syscall, frames), weight) in samples {
        let thread = names.entry(tid).or_insert_with(|| thread_name(tid)).clone();
        let mut parts = vec![root.to_string(), thread];
        for address in frames.iter().rev() {
            let names = symbols
                .entry(*address)
                .or_insert_with(|| symbolize(*address));
            parts.extend(names.iter().cloned());
        }
        if let Some(syscall) = syscall {
            parts.push(state::syscall_frame(syscall));
        }
        total += weight;
        *stacks.entry(parts.join(";")).or_insert(0) += weight;
    }
    let mut stacks: Vec<(String, u64)> = stacks.into_iter().collect();
    stacks.sort();
    WallSamples {
        stacks,
        samples: total,
    }
}

/// The function names at `address`, outermost first (a function and the
/// ones inlined into it), as folded frames: full paths without generic
/// arguments, `;` and spaces replaced.
fn symbolize(address: u64) -> Vec<String> {
    let mut names = Vec::new();
    // resolve() looks up `address - 1`, the convention for return
    // addresses; framehop's lookup address is already adjusted.
    backtrace::resolve((address + 1) as *mut std::ffi::c_void, |symbol| {
        if let Some(name) = symbol.name() {
            let name = reports::waits::plain_name(&format!("{name:#}"));
            // Line tables name an inlined function without its path
            // (`wait`); its source file gives the module.
            let name = match symbol.filename().and_then(module_of_file) {
                Some(module) if !name.contains("::") => format!("{module}::{name}"),
                _ => name,
            };
            names.push(name.replace([';', ' '], "_"));
        }
    });
    if names.is_empty() {
        names.push(format!("{address:#x}"));
    }
    names.reverse();
    names
}

/// The module a Rust source file holds, from its path:
/// `.../library/std/src/sync/barrier.rs` is `std::sync::barrier`,
/// `.../crossbeam-channel-0.5.15/src/flavors/array.rs` is
/// `crossbeam_channel::flavors::array`, `.../workloads/src/io/sleep.rs`
/// is `workloads::io::sleep`.
fn module_of_file(path: &std::path::Path) -> Option<String> {
    let parts: Vec<&str> = path.iter().filter_map(|p| p.to_str()).collect();
    let src = parts.iter().rposition(|p| *p == "src")?;
    let krate = parts.get(src.checked_sub(1)?)?;
    // A registry crate's folder carries its version: `name-1.2.3`.
    let krate = match krate.rfind('-') {
        Some(at) if krate[at + 1..].starts_with(|c: char| c.is_ascii_digit()) => &krate[..at],
        _ => krate,
    };
    let mut module = vec![krate.replace('-', "_")];
    for (i, part) in parts[src + 1..].iter().enumerate() {
        let last = i + src + 2 == parts.len();
        let part = if last {
            part.strip_suffix(".rs")?
        } else {
            part
        };
        if !(last && matches!(part, "lib" | "mod" | "main")) {
            module.push(part.to_string());
        }
    }
    Some(module.join("::"))
}

/// Thread `tid`'s label, or else its name.
fn thread_name(tid: i32) -> String {
    let labels = LABELS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(label) = labels.as_ref().and_then(|l| l.get(&tid)) {
        return label.replace([';', ' '], "_");
    }
    std::fs::read_to_string(format!("/proc/self/task/{tid}/comm"))
        .map(|name| name.trim().replace([';', ' '], "_"))
        .unwrap_or_else(|_| format!("thread-{tid}"))
}

#[cfg(all(test, target_os = "linux"))]
mod resume_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn a_source_file_names_its_module() {
        let module = |p: &str| module_of_file(Path::new(p));
        assert_eq!(
            module("/rustc/abc/library/std/src/sync/barrier.rs").as_deref(),
            Some("std::sync::barrier")
        );
        assert_eq!(
            module("/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/crossbeam-channel-0.5.15/src/flavors/array.rs")
                .as_deref(),
            Some("crossbeam_channel::flavors::array")
        );
        assert_eq!(
            module("/work/main/workloads/src/io/mod.rs").as_deref(),
            Some("workloads::io")
        );
        assert_eq!(module("/tmp/x.c"), None);
    }
}
