//! Software perf counters of one thread through `perf_event_open` (the
//! perf-event2 crate): task-clock, context switches, CPU migrations and page
//! faults. They need no PMU, so they work on VMs where hardware counters do
//! not; `perf_event_paranoid` 3, or a seccomp filter in a container, can
//! still refuse them, and then each figure is null with the reason in
//! host.json (`platform.software_counters_unavailable`).
//!
//! A worker's counters are opened before the release and read at both
//! edges of the timed region, outside the op loop, and the two reads
//! differenced: opening and closing perf events is not free (about 0.1 ms
//! each on this VM, the first open in a process 8–11 ms), so it stays
//! outside every timed window.

use std::io;

/// What a thread's software counters counted since they were opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SoftwareCounts {
    /// Time on a CPU, ns (the kernel's task clock).
    pub task_clock_ns: u64,
    /// Context switches, voluntary and forced.
    pub context_switches: u64,
    /// Moves to another CPU.
    pub cpu_migrations: u64,
    /// Page faults, minor and major.
    pub page_faults: u64,
}

impl SoftwareCounts {
    /// The names and values as the schema's `counters` map has them.
    pub fn named(&self) -> [(&'static str, u64); 4] {
        [
            ("task_clock_ns", self.task_clock_ns),
            ("context_switches", self.context_switches),
            ("cpu_migrations", self.cpu_migrations),
            ("page_faults", self.page_faults),
        ]
    }

    /// What was counted between `earlier` and these.
    pub fn since(self, earlier: SoftwareCounts) -> SoftwareCounts {
        SoftwareCounts {
            task_clock_ns: self.task_clock_ns.saturating_sub(earlier.task_clock_ns),
            context_switches: self
                .context_switches
                .saturating_sub(earlier.context_switches),
            cpu_migrations: self.cpu_migrations.saturating_sub(earlier.cpu_migrations),
            page_faults: self.page_faults.saturating_sub(earlier.page_faults),
        }
    }

    /// The names, for a thread whose counters could not be opened.
    pub const NAMES: [&'static str; 4] = [
        "task_clock_ns",
        "context_switches",
        "cpu_migrations",
        "page_faults",
    ];
}

/// One thread's open software counters.
#[cfg(target_os = "linux")]
pub struct ThreadCounters {
    task_clock: perf_event::Counter,
    context_switches: perf_event::Counter,
    cpu_migrations: perf_event::Counter,
    page_faults: perf_event::Counter,
}

#[cfg(target_os = "linux")]
impl ThreadCounters {
    /// Opens and starts the counters of thread `tid` (`None`: the calling
    /// thread). Kernel-side events count too: a context switch happens in
    /// the kernel.
    pub fn open(tid: Option<u32>) -> io::Result<ThreadCounters> {
        use perf_event::events::Software;
        let counter = |event: Software| {
            let mut builder = perf_event::Builder::new(event);
            match tid {
                Some(tid) => builder.observe_pid(tid as i32),
                None => builder.observe_self(),
            };
            builder
                .any_cpu()
                .inherit(false)
                .exclude_kernel(false)
                .enabled(true)
                .build()
        };
        Ok(ThreadCounters {
            task_clock: counter(Software::TASK_CLOCK)?,
            context_switches: counter(Software::CONTEXT_SWITCHES)?,
            cpu_migrations: counter(Software::CPU_MIGRATIONS)?,
            page_faults: counter(Software::PAGE_FAULTS)?,
        })
    }

    /// What they counted so far.
    pub fn read(&mut self) -> io::Result<SoftwareCounts> {
        Ok(SoftwareCounts {
            task_clock_ns: self.task_clock.read()?,
            context_switches: self.context_switches.read()?,
            cpu_migrations: self.cpu_migrations.read()?,
            page_faults: self.page_faults.read()?,
        })
    }
}

/// Elsewhere there are no perf counters.
#[cfg(not(target_os = "linux"))]
pub struct ThreadCounters;

#[cfg(not(target_os = "linux"))]
impl ThreadCounters {
    /// Always unsupported off Linux.
    pub fn open(_tid: Option<u32>) -> io::Result<ThreadCounters> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "perf counters exist on Linux only",
        ))
    }

    /// Never reached.
    pub fn read(&mut self) -> io::Result<SoftwareCounts> {
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
}

/// Why software counters cannot be had here, or `None` when they can:
/// tries to open them on the calling thread.
pub fn software_counters_unavailable() -> Option<String> {
    match ThreadCounters::open(None) {
        Ok(_) => None,
        Err(e) => Some(format!("perf_event_open refused software counters: {e}")),
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn counters_see_a_spin_and_a_sleep() {
        let Ok(mut counters) = ThreadCounters::open(None) else {
            // A kernel that refuses them says so in host.json instead.
            assert!(software_counters_unavailable().is_some());
            return;
        };
        let _ = workloads::kernel::spin_work(20_000_000, 1);
        std::thread::sleep(std::time::Duration::from_millis(5));
        let counts = counters.read().unwrap();
        assert!(counts.task_clock_ns > 0, "{counts:?}");
        assert!(counts.context_switches >= 1, "{counts:?}");
    }
}
