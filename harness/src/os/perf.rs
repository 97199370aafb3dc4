//! Perf counters of one thread through `perf_event_open` (the perf-event2
//! crate).
//!
//! - Software counters: task-clock, context switches, CPU migrations and
//!   page faults. They need no PMU, so they work on VMs where hardware
//!   counters do not; `perf_event_paranoid` 3, or a seccomp filter in a
//!   container, can still refuse them, and then each figure is null with
//!   the reason in host.json (`platform.software_counters_unavailable`).
//! - Hardware counters, where the PMU allows: cycles, instructions, cache
//!   references and misses (the last-level cache on most CPUs), branch
//!   misses. Each one the kernel refuses is null; host.json says why
//!   (`platform.hardware_counters_unavailable`). When the machine has no
//!   PMU they are not even tried, so a VM pays nothing for them.
//!
//! A worker's counters are opened before the release and read at both
//! edges of the timed region, outside the op loop, and the two reads
//! differenced: opening and closing perf events is not free (about 0.1 ms
//! each on this VM, the first open in a process 8–11 ms), so it stays
//! outside every timed window.

use std::io;

/// What a thread's hardware counters counted; `None` for each counter the
/// machine does not have or refused. Scaled up by enabled over running
/// time when the PMU multiplexed them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct HardwareCounts {
    /// CPU cycles.
    pub cycles: Option<u64>,
    /// Retired instructions.
    pub instructions: Option<u64>,
    /// Cache references.
    pub cache_references: Option<u64>,
    /// Cache misses.
    pub cache_misses: Option<u64>,
    /// Mispredicted branches.
    pub branch_misses: Option<u64>,
}

impl HardwareCounts {
    /// The names and values as the schema's `counters` map has them.
    pub fn named(&self) -> [(&'static str, Option<u64>); 5] {
        [
            ("cycles", self.cycles),
            ("instructions", self.instructions),
            ("cache_references", self.cache_references),
            ("cache_misses", self.cache_misses),
            ("branch_misses", self.branch_misses),
        ]
    }

    /// What was counted between `earlier` and these; a counter missing
    /// from either reading is missing.
    pub fn since(self, earlier: HardwareCounts) -> HardwareCounts {
        let d = |a: Option<u64>, b: Option<u64>| Some(a?.saturating_sub(b?));
        HardwareCounts {
            cycles: d(self.cycles, earlier.cycles),
            instructions: d(self.instructions, earlier.instructions),
            cache_references: d(self.cache_references, earlier.cache_references),
            cache_misses: d(self.cache_misses, earlier.cache_misses),
            branch_misses: d(self.branch_misses, earlier.branch_misses),
        }
    }
}

/// What a thread's counters counted since they were opened.
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
    /// The hardware counters opened beside them.
    #[serde(default)]
    pub hardware: HardwareCounts,
}

impl SoftwareCounts {
    /// The names and values as the schema's `counters` map has them,
    /// hardware counters included (null where unavailable).
    pub fn named(&self) -> Vec<(&'static str, Option<u64>)> {
        let software = [
            ("task_clock_ns", self.task_clock_ns),
            ("context_switches", self.context_switches),
            ("cpu_migrations", self.cpu_migrations),
            ("page_faults", self.page_faults),
        ];
        software
            .into_iter()
            .map(|(name, v)| (name, Some(v)))
            .chain(self.hardware.named())
            .collect()
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
            hardware: self.hardware.since(earlier.hardware),
        }
    }

    /// Every name, all null: a thread whose counters could not be opened.
    pub fn unavailable() -> Vec<(&'static str, Option<u64>)> {
        SoftwareCounts::default()
            .named()
            .into_iter()
            .map(|(name, _)| (name, None))
            .collect()
    }
}

/// One thread's open software counters.
#[cfg(target_os = "linux")]
pub struct ThreadCounters {
    task_clock: perf_event::Counter,
    context_switches: perf_event::Counter,
    cpu_migrations: perf_event::Counter,
    page_faults: perf_event::Counter,
    /// Cycles, instructions, cache references, cache misses, branch
    /// misses, each where the PMU allowed it.
    hardware: [Option<perf_event::Counter>; 5],
}

#[cfg(target_os = "linux")]
impl ThreadCounters {
    /// Opens and starts the counters of thread `tid` (`None`: the calling
    /// thread). Kernel-side events count too: a context switch happens in
    /// the kernel.
    pub fn open(tid: Option<u32>) -> io::Result<ThreadCounters> {
        use perf_event::events::Hardware;
        use perf_event::events::Software;
        let hardware = |event: Hardware| {
            if hardware_counters_tried() {
                open_one(event, tid).ok()
            } else {
                None
            }
        };
        Ok(ThreadCounters {
            task_clock: open_one(Software::TASK_CLOCK, tid)?,
            context_switches: open_one(Software::CONTEXT_SWITCHES, tid)?,
            cpu_migrations: open_one(Software::CPU_MIGRATIONS, tid)?,
            page_faults: open_one(Software::PAGE_FAULTS, tid)?,
            hardware: [
                hardware(Hardware::CPU_CYCLES),
                hardware(Hardware::INSTRUCTIONS),
                hardware(Hardware::CACHE_REFERENCES),
                hardware(Hardware::CACHE_MISSES),
                hardware(Hardware::BRANCH_MISSES),
            ],
        })
    }

    /// What they counted so far.
    pub fn read(&mut self) -> io::Result<SoftwareCounts> {
        Ok(SoftwareCounts {
            task_clock_ns: self.task_clock.read()?,
            context_switches: self.context_switches.read()?,
            cpu_migrations: self.cpu_migrations.read()?,
            page_faults: self.page_faults.read()?,
            hardware: {
                let [cycles, instructions, cache_references, cache_misses, branch_misses] = self
                    .hardware
                    .each_mut()
                    .map(|c| c.as_mut().and_then(scaled));
                HardwareCounts {
                    cycles,
                    instructions,
                    cache_references,
                    cache_misses,
                    branch_misses,
                }
            },
        })
    }
}

/// A hardware counter's value, scaled up by enabled over running time
/// when the PMU had more events than registers and took turns; `None` if
/// it never ran.
#[cfg(target_os = "linux")]
fn scaled(counter: &mut perf_event::Counter) -> Option<u64> {
    let read = counter.read_count_and_time().ok()?;
    if read.time_running == 0 {
        return None;
    }
    if read.time_running >= read.time_enabled {
        return Some(read.count);
    }
    Some((read.count as u128 * read.time_enabled as u128 / read.time_running as u128) as u64)
}

/// Opens and starts one counter of thread `tid` (`None`: the calling
/// thread). Kernel-side events count too: a context switch happens in the
/// kernel.
#[cfg(target_os = "linux")]
fn open_one(
    event: impl perf_event::events::Event + 'static,
    tid: Option<u32>,
) -> io::Result<perf_event::Counter> {
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
}

/// Whether hardware counters are worth opening here: once per process,
/// from [`crate::os::platform::hardware_counters_unavailable`].
#[cfg(target_os = "linux")]
fn hardware_counters_tried() -> bool {
    static TRIED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRIED.get_or_init(|| super::platform::hardware_counters_unavailable().is_none())
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
