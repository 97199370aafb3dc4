//! CPU topology from `/sys/devices/system/cpu`: the online CPUs, each
//! CPU's physical core and package, its SMT siblings, and the kernel's CPU
//! list format (`0-3,6`) those files use.

use std::fs;
use std::ops::RangeInclusive;

use reports::schema::CpuTopology;

/// One CPU's place in the topology, from `/sys/devices/system/cpu/cpuN`.
pub fn read_cpu_topology(cpu: u32) -> CpuTopology {
    let base = format!("/sys/devices/system/cpu/cpu{cpu}/topology");
    let number = |name: &str| read_trimmed(&format!("{base}/{name}")).and_then(|s| s.parse().ok());
    let siblings = read_trimmed(&format!("{base}/thread_siblings_list"))
        .map(|s| parse_cpu_list(&s))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| vec![cpu]);
    CpuTopology {
        cpu,
        core_id: number("core_id"),
        package_id: number("physical_package_id"),
        siblings,
    }
}

/// The online CPUs, from `/sys/devices/system/cpu/online` (e.g. `0-3,6`).
pub fn online_cpus() -> Vec<u32> {
    read_trimmed("/sys/devices/system/cpu/online")
        .map(|s| parse_cpu_list(&s))
        .unwrap_or_default()
}

/// The clock source the kernel times with (`tsc`, `kvm-clock`, ...).
pub fn clocksource() -> Option<String> {
    read_trimmed("/sys/devices/system/clocksource/clocksource0/current_clocksource")
}

/// Parses the kernel's CPU list format: `0-3,6,8-9`; empty when the text
/// holds something else.
pub fn parse_cpu_list(text: &str) -> Vec<u32> {
    let mut cpus = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match parse_cpu_range(item) {
            Some(range) => cpus.extend(range.map(|c| c as u32)),
            None => return Vec::new(),
        }
    }
    cpus
}

/// One item of a CPU list: `3` or `0-3`; `None` when it is neither or the
/// range runs backwards.
pub fn parse_cpu_range(item: &str) -> Option<RangeInclusive<usize>> {
    let (lo, hi) = item.split_once('-').unwrap_or((item, item));
    let (lo, hi): (usize, usize) = (lo.trim().parse().ok()?, hi.trim().parse().ok()?);
    (lo <= hi).then_some(lo..=hi)
}

fn read_trimmed(path: &str) -> Option<String> {
    fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kernel_cpu_lists() {
        assert_eq!(parse_cpu_list("0-3,6,8-9"), vec![0, 1, 2, 3, 6, 8, 9]);
        assert_eq!(parse_cpu_list("1"), vec![1]);
        assert_eq!(parse_cpu_list(""), Vec::<u32>::new());
        assert_eq!(parse_cpu_list("3-1"), Vec::<u32>::new());
    }
}
