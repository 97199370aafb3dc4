//! What shapes per-thread numbers besides the workload: the CPU frequency
//! governor, turbo or boost, SMT, `perf_event_paranoid`, and whether the
//! machine has a PMU for hardware counters at all (this VM does not).

use std::fs;

fn read_trimmed(path: &str) -> Option<String> {
    fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

/// The CPU frequency governor of CPU 0 (`performance`, `powersave`, ...).
pub fn governor() -> Option<String> {
    read_trimmed("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
}

/// Turbo or boost: `on`, `off`, or `None` where the machine does not say.
pub fn turbo() -> Option<String> {
    if let Some(no_turbo) = read_trimmed("/sys/devices/system/cpu/intel_pstate/no_turbo") {
        return Some(if no_turbo == "1" { "off" } else { "on" }.to_string());
    }
    read_trimmed("/sys/devices/system/cpu/cpufreq/boost")
        .map(|b| if b == "1" { "on" } else { "off" }.to_string())
}

/// SMT control: `on`, `off`, `notsupported`, ...
pub fn smt_control() -> Option<String> {
    read_trimmed("/sys/devices/system/cpu/smt/control")
}

/// `/proc/sys/kernel/perf_event_paranoid`.
pub fn perf_event_paranoid() -> Option<i32> {
    read_trimmed("/proc/sys/kernel/perf_event_paranoid")?
        .parse()
        .ok()
}

/// Why hardware counters (cycles, instructions, cache misses) cannot be
/// had here, or `None` when the machine has a PMU and allows them.
pub fn hardware_counters_unavailable() -> Option<String> {
    if !std::path::Path::new("/sys/bus/event_source/devices/cpu").exists() {
        return Some(
            "no PMU: /sys/bus/event_source/devices/cpu is missing (a VM without counters)".into(),
        );
    }
    match perf_event_paranoid() {
        Some(level) if level > 2 => Some(format!(
            "perf_event_paranoid is {level}: perf_event_open is refused to this user"
        )),
        _ => None,
    }
}
