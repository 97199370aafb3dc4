//! Per-thread accounting from `/proc/self/task/TID/`: `schedstat` (time on
//! a CPU, time waiting on a run queue for one, timeslices, in ns), `stat`
//! (user and system time, minor and major faults, the CPU it last ran on),
//! `status` (voluntary and involuntary context switches) and `sched`
//! (migrations). Some kernels keep no schedstats, or read `0 0 0` with
//! delay accounting off: a thread that ran yet shows no CPU time means the
//! figures are unavailable, never 0.

use std::fs;

use super::perf::{SoftwareCounts, ThreadCounters};

/// One thread's counters at one moment (or, differenced, over a region).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SchedStat {
    /// Time on a CPU, ns.
    pub on_cpu_ns: u64,
    /// Time runnable but waiting for a CPU, ns.
    pub runqueue_ns: u64,
    /// Times it was given a CPU.
    pub timeslices: u64,
    /// User time, ns (in ticks of `CLK_TCK`).
    pub user_ns: u64,
    /// System time, ns (in ticks of `CLK_TCK`).
    pub sys_ns: u64,
    /// Context switches it asked for (it blocked).
    pub voluntary_switches: u64,
    /// Context switches forced on it (preempted).
    pub involuntary_switches: u64,
    /// Page faults served without IO.
    pub minor_faults: u64,
    /// Page faults that needed IO.
    pub major_faults: u64,
    /// Moves to another CPU (`se.nr_migrations`; 0 where not kept).
    pub migrations: u64,
    /// The CPU it last ran on.
    pub last_cpu: Option<u32>,
}

impl SchedStat {
    /// Thread `tid` of this process now, or `None` when it has exited or
    /// its schedstat says nothing.
    pub fn of_thread(tid: u32) -> Option<SchedStat> {
        read(&format!("/proc/self/task/{tid}"))
    }

    /// The calling thread now. Its time on a CPU comes from
    /// `CLOCK_THREAD_CPUTIME_ID`, which includes the slice it is running in:
    /// schedstat adds a running thread's slice only when it is switched out.
    pub fn of_this_thread() -> Option<SchedStat> {
        let mut stat = read("/proc/thread-self")?;
        stat.on_cpu_ns = thread_cpu_ns();
        Some(stat)
    }

    /// What happened since `earlier` (`last_cpu` is this reading's).
    pub fn since(self, earlier: SchedStat) -> SchedStat {
        let d = |a: u64, b: u64| a.saturating_sub(b);
        SchedStat {
            on_cpu_ns: d(self.on_cpu_ns, earlier.on_cpu_ns),
            runqueue_ns: d(self.runqueue_ns, earlier.runqueue_ns),
            timeslices: d(self.timeslices, earlier.timeslices),
            user_ns: d(self.user_ns, earlier.user_ns),
            sys_ns: d(self.sys_ns, earlier.sys_ns),
            voluntary_switches: d(self.voluntary_switches, earlier.voluntary_switches),
            involuntary_switches: d(self.involuntary_switches, earlier.involuntary_switches),
            minor_faults: d(self.minor_faults, earlier.minor_faults),
            major_faults: d(self.major_faults, earlier.major_faults),
            migrations: d(self.migrations, earlier.migrations),
            last_cpu: self.last_cpu,
        }
    }
}

/// The calling thread's CPU time, ns, from `CLOCK_THREAD_CPUTIME_ID`.
fn thread_cpu_ns() -> u64 {
    // SAFETY: timespec is plain data, filled in by the call.
    let ts = unsafe {
        let mut ts: libc::timespec = std::mem::zeroed();
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts);
        ts
    };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Reads a task folder's files into one reading.
fn read(dir: &str) -> Option<SchedStat> {
    let mut stat = parse(&fs::read_to_string(format!("{dir}/schedstat")).ok()?)?;
    if let Ok(text) = fs::read_to_string(format!("{dir}/stat")) {
        add_stat(&mut stat, &text);
    }
    if let Ok(text) = fs::read_to_string(format!("{dir}/status")) {
        for line in text.lines() {
            let number =
                |prefix: &str| -> Option<u64> { line.strip_prefix(prefix)?.trim().parse().ok() };
            if let Some(n) = number("voluntary_ctxt_switches:") {
                stat.voluntary_switches = n;
            }
            if let Some(n) = number("nonvoluntary_ctxt_switches:") {
                stat.involuntary_switches = n;
            }
        }
    }
    if let Ok(text) = fs::read_to_string(format!("{dir}/sched")) {
        stat.migrations = text
            .lines()
            .find_map(|l| {
                l.strip_prefix("se.nr_migrations")?
                    .split(':')
                    .nth(1)?
                    .trim()
                    .parse()
                    .ok()
            })
            .unwrap_or(0);
    }
    Some(stat)
}

/// Adds the fields of a task's `stat` line: faults, CPU times, last CPU.
fn add_stat(stat: &mut SchedStat, text: &str) {
    let Some(fields) = super::threads::stat_fields(text) else {
        return;
    };
    // Counted from the state (field 3 of the line): minflt is field 10,
    // majflt 12, utime 14, stime 15, processor 39.
    let at = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    let tick = super::machine::tick_ns();
    stat.minor_faults = at(7).unwrap_or(0);
    stat.major_faults = at(9).unwrap_or(0);
    stat.user_ns = at(11).unwrap_or(0) * tick;
    stat.sys_ns = at(12).unwrap_or(0) * tick;
    stat.last_cpu = at(36).map(|c| c as u32);
}

fn parse(text: &str) -> Option<SchedStat> {
    let mut numbers = text.split_whitespace().map(|n| n.parse::<u64>().ok());
    Some(SchedStat {
        on_cpu_ns: numbers.next()??,
        runqueue_ns: numbers.next()??,
        timeslices: numbers.next()??,
        ..SchedStat::default()
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
    /// Its software perf counters over the region, when they could be
    /// opened.
    pub counts: Option<SoftwareCounts>,
    /// The core it was seen on most often over the region (a sampler
    /// thread's reads of its `stat`), when it was sampled.
    pub mostly_on_cpu: Option<u32>,
}

/// Counters of several threads at one moment, to be differenced later.
#[derive(Default)]
pub struct ThreadsSnapshot {
    at: Option<std::time::Instant>,
    threads: Vec<(u32, SchedStat)>,
    /// Opened by [`ThreadsSnapshot::start`], read by the later `since`.
    counters: Vec<(u32, ThreadCounters)>,
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
            counters: Vec::new(),
        }
    }

    /// Reads `tids` now and opens their software perf counters, which a
    /// later snapshot's [`ThreadsSnapshot::since`] reads. Their timed
    /// region opens for the wall-clock profile too.
    pub fn start(tids: &[u32]) -> Self {
        for &tid in tids {
            crate::wall::set_window(tid, true);
        }
        let counters = tids
            .iter()
            .filter_map(|&tid| Some((tid, ThreadCounters::open(Some(tid)).ok()?)))
            .collect();
        ThreadsSnapshot {
            counters,
            ..ThreadsSnapshot::take(tids)
        }
    }

    /// Each thread's counters since `earlier`, over the wall time between
    /// the two snapshots. Their timed region closes for the wall-clock
    /// profile.
    pub fn since(&self, earlier: &mut ThreadsSnapshot) -> Vec<ThreadSched> {
        for (tid, _) in &self.threads {
            crate::wall::set_window(*tid, false);
        }
        let wall_ns = match (self.at, earlier.at) {
            (Some(now), Some(then)) => now.saturating_duration_since(then).as_nanos() as u64,
            _ => 0,
        };
        self.threads
            .iter()
            .filter_map(|(tid, now)| {
                let (_, then) = earlier.threads.iter().find(|(t, _)| t == tid)?;
                let counts = earlier
                    .counters
                    .iter_mut()
                    .find(|(t, _)| t == tid)
                    .and_then(|(_, c)| c.read().ok());
                Some(ThreadSched {
                    tid: *tid,
                    sched: now.since(*then),
                    wall_ns,
                    counts,
                    mostly_on_cpu: None,
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
                timeslices: 2,
                ..SchedStat::default()
            }
        );
        assert!(parse("x").is_none());
    }

    #[test]
    fn a_spinning_thread_shows_time_on_a_cpu_and_a_sleeping_one_switches() {
        let before = SchedStat::of_this_thread().unwrap();
        let _ = workloads::kernel::spin_work(50_000_000, 1);
        std::thread::sleep(std::time::Duration::from_millis(5));
        let spent = SchedStat::of_this_thread().unwrap().since(before);
        assert!(spent.on_cpu_ns > 0, "{spent:?}");
        assert!(spent.voluntary_switches >= 1, "{spent:?}");
        assert!(spent.last_cpu.is_some());
    }

    #[test]
    fn no_cpu_time_means_no_figure() {
        let idle = ThreadSched {
            tid: 1,
            sched: SchedStat::default(),
            wall_ns: 1000,
            counts: None,
            mostly_on_cpu: None,
        };
        assert_eq!(runqueue_fraction(&[idle]), None);
        let busy = ThreadSched {
            sched: SchedStat {
                on_cpu_ns: 500,
                runqueue_ns: 250,
                timeslices: 1,
                ..SchedStat::default()
            },
            ..idle
        };
        assert_eq!(runqueue_fraction(&[busy]), Some(0.25));
    }
}
