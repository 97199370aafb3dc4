//! Which core each thread of this process, and each child process, mostly
//! ran on over a trial (`os.mostly_on_core`), from the `processor` field
//! of `/proc/self/task/TID/stat` (a child's: `/proc/PID/stat`), read by a
//! sampler thread of its own. The op loop never reads it: the workers pay
//! nothing but the sampler's CPU time, a read of a few µs per thread every
//! [`CoreSampler::interval`]. Children are read from here rather than by
//! themselves, so their CPU time (which the `process` model compares with
//! their accounting) holds none of the sampler's.

use std::collections::HashMap;
use std::fs;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::threads::{current_tid, thread_ids};

/// A running sampler; [`CoreSampler::finish`] stops it and tallies.
pub struct CoreSampler {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<Tally>>,
}

/// Samples per thread per core.
type Tally = HashMap<u32, HashMap<u32, u32>>;

/// Each sampled thread's most frequent core.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MostlyOnCore(HashMap<u32, u32>);

impl MostlyOnCore {
    /// The core thread `tid` was seen on most often, if it was sampled.
    pub fn of(&self, tid: u32) -> Option<u32> {
        self.0.get(&tid).copied()
    }

    fn from_tally(tally: &Tally) -> Self {
        MostlyOnCore(
            tally
                .iter()
                .filter_map(|(tid, cores)| {
                    // Ties go to the lower core, so the answer is stable.
                    let (core, _) = cores
                        .iter()
                        .max_by_key(|(core, n)| (**n, std::cmp::Reverse(**core)))?;
                    Some((*tid, *core))
                })
                .collect(),
        )
    }
}

impl CoreSampler {
    /// How often the threads are read: every 10 ms, slower with many
    /// threads so that one sweep stays under about 4% of the interval
    /// (a `stat` read costs a few µs).
    pub fn interval(threads: usize) -> Duration {
        Duration::from_millis(10).max(Duration::from_micros(200) * threads as u32)
    }

    /// Starts sampling every thread of this process but the sampler.
    pub fn start() -> CoreSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = std::thread::Builder::new()
            .name("corebench-cores".into())
            .spawn(move || sample(&flag))
            .ok();
        CoreSampler { stop, handle }
    }

    /// Stops the sampler (within one interval) and says where each
    /// thread mostly ran.
    pub fn finish(mut self) -> MostlyOnCore {
        self.stop.store(true, Ordering::Relaxed);
        let Some(handle) = self.handle.take() else {
            return MostlyOnCore::default();
        };
        handle.thread().unpark();
        handle
            .join()
            .map(|tally| MostlyOnCore::from_tally(&tally))
            .unwrap_or_default()
    }
}

impl Drop for CoreSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            handle.thread().unpark();
        }
    }
}

fn sample(stop: &AtomicBool) -> Tally {
    let me = current_tid();
    let mut tally = Tally::new();
    while !stop.load(Ordering::Relaxed) {
        let tids = thread_ids();
        for &tid in tids.iter().filter(|&&t| t != me) {
            if let Some(core) = processor(&format!("/proc/self/task/{tid}/stat")) {
                *tally.entry(tid).or_default().entry(core).or_default() += 1;
            }
            // Child processes hang off the thread that started them; a
            // `process` worker is its child's main thread, keyed by pid.
            for pid in children(tid) {
                if let Some(core) = processor(&format!("/proc/{pid}/stat")) {
                    *tally.entry(pid).or_default().entry(core).or_default() += 1;
                }
            }
        }
        std::thread::park_timeout(CoreSampler::interval(tids.len()));
    }
    tally
}

/// The CPU the task whose `stat` file is at `path` last ran on (field
/// 39).
fn processor(path: &str) -> Option<u32> {
    parse_processor(&fs::read_to_string(path).ok()?)
}

/// The child processes thread `tid` started (empty where the kernel does
/// not list them: `CONFIG_PROC_CHILDREN`).
fn children(tid: u32) -> Vec<u32> {
    fs::read_to_string(format!("/proc/self/task/{tid}/children"))
        .map(|text| {
            text.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn parse_processor(text: &str) -> Option<u32> {
    // Field 39, counted from the state (field 3).
    super::threads::stat_fields(text)?.get(36)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_processor_after_an_awkward_name() {
        let fields: Vec<String> = (3..=52).map(|i| i.to_string()).collect();
        let line = format!("7 (a) b (c) {}", fields.join(" "));
        assert_eq!(parse_processor(&line), Some(39));
        assert_eq!(parse_processor("7 (x) R 1"), None);
    }

    #[test]
    fn the_most_frequent_core_wins_and_ties_go_low() {
        let mut tally = Tally::new();
        tally.insert(1, HashMap::from([(0, 3), (1, 5)]));
        tally.insert(2, HashMap::from([(3, 2), (1, 2)]));
        let mostly = MostlyOnCore::from_tally(&tally);
        assert_eq!(
            (mostly.of(1), mostly.of(2), mostly.of(9)),
            (Some(1), Some(1), None)
        );
    }

    #[test]
    fn a_thread_pinned_to_a_core_is_seen_there() {
        let allowed = crate::os::affinity::current_thread_affinity();
        let Some(&core) = allowed.last() else { return };
        let sampler = CoreSampler::start();
        let (tid_sender, tid_receiver) = std::sync::mpsc::channel();
        let worker = std::thread::spawn(move || {
            assert!(crate::os::affinity::pin_current_thread(core));
            tid_sender.send(current_tid()).unwrap();
            let end = std::time::Instant::now() + Duration::from_millis(80);
            while std::time::Instant::now() < end {
                std::hint::black_box(workloads::kernel::spin_work(10_000, 1));
            }
        });
        let tid = tid_receiver.recv().unwrap();
        worker.join().unwrap();
        let mostly = sampler.finish();
        assert_eq!(mostly.of(tid), Some(core as u32));
    }
}
