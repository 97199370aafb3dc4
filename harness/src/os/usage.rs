//! Resource usage of this process: CPU time from `getrusage`, and peak
//! resident memory from `/proc/self/status`.

/// User and system CPU time, in ns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CpuTime {
    /// User time.
    pub user_ns: u64,
    /// System time.
    pub sys_ns: u64,
}

impl CpuTime {
    /// CPU time of this whole process so far (every thread), from
    /// `getrusage(RUSAGE_SELF)`.
    pub fn of_process() -> Self {
        // SAFETY: rusage is plain data, filled in by the call.
        let usage = unsafe {
            let mut usage: libc::rusage = std::mem::zeroed();
            libc::getrusage(libc::RUSAGE_SELF, &mut usage);
            usage
        };
        let ns = |tv: libc::timeval| tv.tv_sec as u64 * 1_000_000_000 + tv.tv_usec as u64 * 1_000;
        CpuTime {
            user_ns: ns(usage.ru_utime),
            sys_ns: ns(usage.ru_stime),
        }
    }

    /// The time spent since `earlier`.
    pub fn since(self, earlier: CpuTime) -> CpuTime {
        CpuTime {
            user_ns: self.user_ns.saturating_sub(earlier.user_ns),
            sys_ns: self.sys_ns.saturating_sub(earlier.sys_ns),
        }
    }
}

/// This process's peak resident set size in KiB, from `VmHWM` in
/// `/proc/self/status`. Not `getrusage`: its maxima survive `execve`, so
/// under `cargo run` (which execs the binary) they report cargo's and
/// rustc's peaks instead of ours.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_moves_forward() {
        let before = CpuTime::of_process();
        let _ = workloads::kernel::spin_work(5_000_000, 1);
        let spent = CpuTime::of_process().since(before);
        assert!(spent.user_ns + spent.sys_ns > 0);
    }
}
