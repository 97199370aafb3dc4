//! The machine around a run: CPU time per CPU from `/proc/stat` (busy,
//! steal), CPU pressure from `/proc/pressure/cpu`, cgroup throttling and
//! quota, and the CPU time of corebench itself and of its helper
//! processes (the loopback server). Snapshots at the edges of a trial's
//! timed region, differenced, say what else ran on this run's CPUs.
//!
//! `/proc/stat` counts in ticks of `CLK_TCK` (usually 10 ms), so a window
//! must span [`JUDGE_MIN_TICKS`] per CPU before its figures can be judged,
//! and a verdict allows for the rounding of its ticks.

use std::fs;
use std::sync::Mutex;

use super::usage::CpuTime;

/// Ticks per CPU a window needs before other processes' CPU is judged:
/// 200 ms at 100 Hz. Shorter windows hold more of the kernel's own work
/// and of the counters' rounding than of anyone else's.
pub const JUDGE_MIN_TICKS: u64 = 20;
/// Ticks per CPU a count can be off by over a window: each CPU's counters
/// are read in whole ticks at both edges.
const ROUNDING_TICKS: u64 = 2;

/// The CPUs the run may use, and the helper processes whose CPU is ours.
static WATCHED: Mutex<Watched> = Mutex::new(Watched {
    cpus: Vec::new(),
    helpers: Vec::new(),
});

struct Watched {
    cpus: Vec<usize>,
    helpers: Vec<u32>,
}

/// Sets the CPUs this run may use (the process's mask): what snapshots
/// read from `/proc/stat`.
pub fn watch_cpus(cpus: &[usize]) {
    WATCHED.lock().unwrap_or_else(|p| p.into_inner()).cpus = cpus.to_vec();
}

/// Counts `pid`'s CPU time as the run's own (a helper it started).
pub fn watch_helper(pid: u32) {
    WATCHED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .helpers
        .push(pid);
}

/// One CPU's counters from `/proc/stat`, in ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTicks {
    /// user + nice + system: busy time, leaving out irq and softirq,
    /// where loopback traffic lands.
    pub busy: u64,
    /// Stolen by the hypervisor.
    pub steal: u64,
    /// Every column: the CPU's whole time.
    pub total: u64,
}

/// Everything read at one edge of a timed region.
#[derive(Debug, Clone, Default)]
pub struct MachineSnapshot {
    /// The watched CPUs' counters.
    pub cpus: Vec<CpuTicks>,
    /// `/proc/pressure/cpu` "some" total, µs.
    pub pressure_us: Option<u64>,
    /// The cgroup's throttled time, ns.
    pub throttled_ns: Option<u64>,
    /// This process's CPU time (every thread).
    pub own: CpuTime,
    /// The helper processes' CPU time, ns.
    pub helpers_ns: u64,
    /// When.
    pub at: Option<std::time::Instant>,
}

/// What happened between two snapshots.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MachineDelta {
    /// Wall time, ns.
    pub wall_ns: u64,
    /// CPUs watched.
    pub cpus: usize,
    /// Busy CPU time on the watched CPUs, ns.
    pub busy_ns: u64,
    /// Stolen time on them, ns.
    pub steal_ns: u64,
    /// Their whole time, ns.
    pub total_ns: u64,
    /// The smallest tick count any watched CPU moved by.
    pub min_ticks: u64,
    /// CPU pressure stall, ns (`None` without PSI).
    pub pressure_ns: Option<u64>,
    /// Cgroup throttling, ns (`None` without a cgroup cpu.stat).
    pub throttled_ns: Option<u64>,
    /// This process's CPU time, ns.
    pub own_ns: u64,
    /// The same, split into user and system time.
    pub own: CpuTime,
    /// Its helpers' CPU time, ns.
    pub helpers_ns: u64,
}

impl MachineSnapshot {
    /// Reads everything now.
    pub fn take() -> Self {
        let (cpus, helpers) = {
            let watched = WATCHED.lock().unwrap_or_else(|p| p.into_inner());
            (watched.cpus.clone(), watched.helpers.clone())
        };
        MachineSnapshot {
            cpus: read_proc_stat(&cpus),
            pressure_us: read_pressure(),
            throttled_ns: read_throttled_ns(),
            own: CpuTime::of_process(),
            helpers_ns: helpers.iter().filter_map(|pid| process_cpu_ns(*pid)).sum(),
            at: Some(std::time::Instant::now()),
        }
    }

    /// What happened since `earlier`.
    pub fn since(&self, earlier: &MachineSnapshot) -> MachineDelta {
        let tick_ns = tick_ns();
        let pairs = || self.cpus.iter().zip(&earlier.cpus);
        let sum = |f: fn(&CpuTicks) -> u64| -> u64 {
            pairs()
                .map(|(now, then)| f(now).saturating_sub(f(then)))
                .sum()
        };
        let own = self.own.since(earlier.own);
        MachineDelta {
            wall_ns: match (self.at, earlier.at) {
                (Some(now), Some(then)) => now.saturating_duration_since(then).as_nanos() as u64,
                _ => 0,
            },
            cpus: self.cpus.len().min(earlier.cpus.len()),
            busy_ns: sum(|c| c.busy) * tick_ns,
            steal_ns: sum(|c| c.steal) * tick_ns,
            total_ns: sum(|c| c.total) * tick_ns,
            min_ticks: pairs()
                .map(|(now, then)| now.total.saturating_sub(then.total))
                .min()
                .unwrap_or(0),
            pressure_ns: match (self.pressure_us, earlier.pressure_us) {
                (Some(now), Some(then)) => Some(now.saturating_sub(then) * 1000),
                _ => None,
            },
            throttled_ns: match (self.throttled_ns, earlier.throttled_ns) {
                (Some(now), Some(then)) => Some(now.saturating_sub(then)),
                _ => None,
            },
            own_ns: own.user_ns + own.sys_ns,
            own,
            helpers_ns: self.helpers_ns.saturating_sub(earlier.helpers_ns),
        }
    }
}

impl MachineDelta {
    /// Other processes' CPU time on the watched CPUs, in cores over the
    /// window: busy time less this process's, its helpers' and
    /// `children_ns` (CPU time of children it waited for).
    pub fn others_cpu_cores(&self, children_ns: u64) -> Option<f64> {
        if self.wall_ns == 0 || self.cpus == 0 {
            return None;
        }
        let ours = self.own_ns + self.helpers_ns + children_ns;
        let others = self.busy_ns.saturating_sub(ours);
        Some(others as f64 / self.wall_ns as f64)
    }

    /// Whether the window is long enough to judge others' CPU time.
    pub fn judgeable(&self) -> bool {
        self.min_ticks >= JUDGE_MIN_TICKS
    }

    /// How far [`MachineDelta::others_cpu_cores`] can be off, in cores,
    /// from the counters' rounding alone: a verdict subtracts it first, so
    /// a window just long enough to judge is not flagged for its ticks.
    pub fn rounding_cores(&self) -> f64 {
        if self.wall_ns == 0 {
            return 0.0;
        }
        (self.cpus as u64 * ROUNDING_TICKS * tick_ns()) as f64 / self.wall_ns as f64
    }

    /// Stolen time over the CPUs' whole time.
    pub fn steal_fraction(&self) -> Option<f64> {
        (self.total_ns > 0).then(|| self.steal_ns as f64 / self.total_ns as f64)
    }

    /// CPU pressure stall over wall time.
    pub fn pressure_fraction(&self) -> Option<f64> {
        let stall = self.pressure_ns?;
        (self.wall_ns > 0).then(|| stall as f64 / self.wall_ns as f64)
    }
}

/// Nanoseconds per `/proc/stat` tick.
pub fn tick_ns() -> u64 {
    // SAFETY: sysconf takes a constant and returns a number.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    1_000_000_000 / per_second.max(1) as u64
}

fn read_proc_stat(cpus: &[usize]) -> Vec<CpuTicks> {
    let Ok(text) = fs::read_to_string("/proc/stat") else {
        return Vec::new();
    };
    parse_proc_stat(&text, cpus)
}

/// The `cpuN` lines of `/proc/stat` for `cpus` (all CPUs when empty).
pub fn parse_proc_stat(text: &str, cpus: &[usize]) -> Vec<CpuTicks> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let id: usize = fields.next()?.strip_prefix("cpu")?.parse().ok()?;
            if !cpus.is_empty() && !cpus.contains(&id) {
                return None;
            }
            let n: Vec<u64> = fields.filter_map(|f| f.parse().ok()).collect();
            let at = |i: usize| n.get(i).copied().unwrap_or(0);
            // user nice system idle iowait irq softirq steal guest guest_nice;
            // guest time is already inside user.
            Some(CpuTicks {
                busy: at(0) + at(1) + at(2),
                steal: at(7),
                total: (0..8).map(at).sum(),
            })
        })
        .collect()
}

fn read_pressure() -> Option<u64> {
    parse_pressure(&fs::read_to_string("/proc/pressure/cpu").ok()?)
}

/// The "some" total of `/proc/pressure/cpu`, µs.
pub fn parse_pressure(text: &str) -> Option<u64> {
    text.lines()
        .find(|l| l.starts_with("some"))?
        .split_whitespace()
        .find_map(|f| f.strip_prefix("total="))?
        .parse()
        .ok()
}

/// This process's cgroup folder for the CPU controller: v2's unified
/// hierarchy, or v1's `cpu` controller.
fn cgroup_cpu_dir() -> Option<(std::path::PathBuf, bool)> {
    let text = fs::read_to_string("/proc/self/cgroup").ok()?;
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let path = path.trim_start_matches('/');
        if controllers.split(',').any(|c| c == "cpu") {
            let dir = ["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"]
                .iter()
                .map(|base| std::path::Path::new(base).join(path))
                .find(|dir| dir.join("cpu.cfs_quota_us").exists())?;
            return Some((dir, false));
        }
        if controllers.is_empty() {
            let dir = std::path::Path::new("/sys/fs/cgroup").join(path);
            if dir.join("cpu.max").exists() {
                return Some((dir, true));
            }
        }
    }
    None
}

fn read_throttled_ns() -> Option<u64> {
    let (dir, v2) = cgroup_cpu_dir()?;
    let stat = fs::read_to_string(dir.join("cpu.stat")).ok()?;
    let (key, scale) = if v2 {
        ("throttled_usec", 1000)
    } else {
        ("throttled_time", 1)
    };
    stat.lines()
        .find_map(|l| l.strip_prefix(key))?
        .trim()
        .parse::<u64>()
        .ok()
        .map(|n| n * scale)
}

/// The cgroup's CPU quota in whole cores, rounded up; `None` when no quota
/// limits this process.
pub fn cgroup_quota_cores() -> Option<u32> {
    let (dir, v2) = cgroup_cpu_dir()?;
    let (quota, period) = if v2 {
        let text = fs::read_to_string(dir.join("cpu.max")).ok()?;
        parse_cpu_max(&text)?
    } else {
        let quota: i64 = fs::read_to_string(dir.join("cpu.cfs_quota_us"))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        let period: u64 = fs::read_to_string(dir.join("cpu.cfs_period_us"))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        (u64::try_from(quota).ok()?, period)
    };
    quota_cores(quota, period)
}

/// `cpu.max`: `max 100000` (no quota) or `QUOTA PERIOD`.
pub fn parse_cpu_max(text: &str) -> Option<(u64, u64)> {
    let mut parts = text.split_whitespace();
    let quota = parts.next()?.parse().ok()?;
    let period = parts.next()?.parse().ok()?;
    Some((quota, period))
}

/// A quota over its period in whole cores, rounded up.
pub fn quota_cores(quota: u64, period: u64) -> Option<u32> {
    (period > 0 && quota > 0).then(|| quota.div_ceil(period) as u32)
}

/// A process's CPU time (user + system), ns, from `/proc/PID/stat`.
pub fn process_cpu_ns(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields = super::threads::stat_fields(&stat)?;
    // After the name: state is field 3, utime 14 and stime 15 (1-based).
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) * tick_ns())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two recorded `/proc/stat` snapshots, 1 s apart at 100 ticks/s, on a
    /// two-CPU machine: CPU 1 is busy with someone else for half the time.
    const BEFORE: &str = "cpu  100 0 50 1000 0 0 0 0 0 0\ncpu0 50 0 25 500 0 0 0 0 0 0\ncpu1 50 0 25 500 0 0 0 0 0 0\n";
    const AFTER: &str = "cpu  250 0 50 1050 0 0 0 2 0 0\ncpu0 150 0 25 500 0 0 0 0 0 0\ncpu1 100 0 25 550 0 0 0 2 0 0\n";

    #[test]
    fn recorded_snapshots_give_others_cpu_and_steal() {
        let at = std::time::Instant::now();
        let snapshot = |text: &str, own_ns: u64, later: bool| MachineSnapshot {
            cpus: parse_proc_stat(text, &[0, 1]),
            pressure_us: Some(if later { 100_000 } else { 0 }),
            throttled_ns: None,
            own: CpuTime {
                user_ns: own_ns,
                sys_ns: 0,
            },
            helpers_ns: 0,
            at: Some(if later {
                at + std::time::Duration::from_secs(1)
            } else {
                at
            }),
        };
        // CPU 0 was busy for 100 ticks, CPU 1 for 50: we used 1 s of CPU
        // (100 ticks at 100 a second), so others used 50 ticks' worth.
        let delta = snapshot(AFTER, 100 * tick_ns(), true).since(&snapshot(BEFORE, 0, false));
        let tick = tick_ns();
        assert_eq!(delta.busy_ns, 150 * tick);
        let others = delta.others_cpu_cores(0).unwrap();
        let expected = 50.0 * tick as f64 / 1e9;
        assert!((others - expected).abs() < 1e-9, "{others} vs {expected}");
        assert_eq!(delta.steal_fraction(), Some(2.0 / 202.0));
        assert_eq!(delta.pressure_fraction(), Some(0.1));
        assert!(delta.judgeable(), "{} ticks", delta.min_ticks);
    }

    #[test]
    fn parses_pressure_quota_and_the_machine_itself() {
        let psi =
            "some avg10=0.46 avg60=2.45 avg300=7.96 total=326179844\nfull avg10=0.00 total=0\n";
        assert_eq!(parse_pressure(psi), Some(326_179_844));
        assert_eq!(parse_cpu_max("max 100000"), None);
        assert_eq!(parse_cpu_max("150000 100000"), Some((150_000, 100_000)));
        assert_eq!(quota_cores(150_000, 100_000), Some(2));
        assert_eq!(quota_cores(200_000, 100_000), Some(2));
        assert!(
            !MachineSnapshot::take().cpus.is_empty()
                || !std::path::Path::new("/proc/stat").exists()
        );
        assert!(process_cpu_ns(std::process::id()).is_some());
    }
}
