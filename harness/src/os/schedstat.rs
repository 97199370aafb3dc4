//! Per-thread scheduler accounting from `/proc/self/task/TID/schedstat`:
//! time on a CPU, time waiting on a run queue for one, and timeslices, in
//! ns. Some kernels keep no schedstats, or read `0 0 0` with delay
//! accounting off: a thread that ran yet shows no CPU time means the
//! figures are unavailable, never 0.

use std::fs;

/// One thread's scheduler counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SchedStat {
    /// Time on a CPU, ns.
    pub on_cpu_ns: u64,
    /// Time runnable but waiting for a CPU, ns.
    pub runqueue_ns: u64,
    /// Times it was given a CPU.
    pub timeslices: u64,
}

impl SchedStat {
    /// Thread `tid` of this process now, or `None` when it has exited or
    /// the file says nothing.
    pub fn of_thread(tid: u32) -> Option<SchedStat> {
        parse(&fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")).ok()?)
    }

    /// The calling thread now.
    pub fn of_this_thread() -> Option<SchedStat> {
        parse(&fs::read_to_string("/proc/thread-self/schedstat").ok()?)
    }

    /// What happened since `earlier`.
    pub fn since(self, earlier: SchedStat) -> SchedStat {
        SchedStat {
            on_cpu_ns: self.on_cpu_ns.saturating_sub(earlier.on_cpu_ns),
            runqueue_ns: self.runqueue_ns.saturating_sub(earlier.runqueue_ns),
            timeslices: self.timeslices.saturating_sub(earlier.timeslices),
        }
    }
}

fn parse(text: &str) -> Option<SchedStat> {
    let mut numbers = text.split_whitespace().map(|n| n.parse::<u64>().ok());
    Some(SchedStat {
        on_cpu_ns: numbers.next()??,
        runqueue_ns: numbers.next()??,
        timeslices: numbers.next()??,
    })
}

/// One thread's share of a timed region: its counters over the region and
/// the region's wall time as the thread saw it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ThreadSched {
    /// The thread.
    pub tid: u32,
    /// Its counters over the region.
    pub sched: SchedStat,
    /// The region's length for this thread, ns.
    pub wall_ns: u64,
}

/// Counters of several threads at one moment, to be differenced later.
#[derive(Debug, Clone, Default)]
pub struct ThreadsSnapshot {
    at: Option<std::time::Instant>,
    threads: Vec<(u32, SchedStat)>,
}

impl ThreadsSnapshot {
    /// Reads `tids` now.
    pub fn take(tids: &[u32]) -> Self {
        ThreadsSnapshot {
            at: Some(std::time::Instant::now()),
            threads: tids
                .iter()
                .filter_map(|&tid| Some((tid, SchedStat::of_thread(tid)?)))
                .collect(),
        }
    }

    /// Each thread's counters since `earlier`, over the wall time between
    /// the two snapshots.
    pub fn since(&self, earlier: &ThreadsSnapshot) -> Vec<ThreadSched> {
        let wall_ns = match (self.at, earlier.at) {
            (Some(now), Some(then)) => now.saturating_duration_since(then).as_nanos() as u64,
            _ => 0,
        };
        self.threads
            .iter()
            .filter_map(|(tid, now)| {
                let (_, then) = earlier.threads.iter().find(|(t, _)| t == tid)?;
                Some(ThreadSched {
                    tid: *tid,
                    sched: now.since(*then),
                    wall_ns,
                })
            })
            .collect()
    }
}

/// The share of the threads' time spent waiting for a CPU: run-queue time
/// over their wall time. `None` when the kernel gave no figures (no thread
/// shows time on a CPU).
pub fn runqueue_fraction(threads: &[ThreadSched]) -> Option<f64> {
    let on_cpu: u64 = threads.iter().map(|t| t.sched.on_cpu_ns).sum();
    let runqueue: u64 = threads.iter().map(|t| t.sched.runqueue_ns).sum();
    let wall: u64 = threads.iter().map(|t| t.wall_ns).sum();
    (on_cpu > 0 && wall > 0).then(|| runqueue as f64 / wall as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_differences_the_three_counters() {
        let a = parse("100 20 3\n").unwrap();
        let b = parse("250 70 5").unwrap();
        assert_eq!(
            b.since(a),
            SchedStat {
                on_cpu_ns: 150,
                runqueue_ns: 50,
                timeslices: 2
            }
        );
        assert!(parse("x").is_none());
    }

    #[test]
    fn a_spinning_thread_shows_time_on_a_cpu() {
        let before = SchedStat::of_this_thread().unwrap();
        let _ = workloads::kernel::spin_work(20_000_000, 1);
        let spent = SchedStat::of_this_thread().unwrap().since(before);
        assert!(spent.on_cpu_ns > 0, "{spent:?}");
    }

    #[test]
    fn no_cpu_time_means_no_figure() {
        let idle = ThreadSched {
            tid: 1,
            sched: SchedStat::default(),
            wall_ns: 1000,
        };
        assert_eq!(runqueue_fraction(&[idle]), None);
        let busy = ThreadSched {
            sched: SchedStat {
                on_cpu_ns: 500,
                runqueue_ns: 250,
                timeslices: 1,
            },
            ..idle
        };
        assert_eq!(runqueue_fraction(&[busy]), Some(0.25));
    }
}
