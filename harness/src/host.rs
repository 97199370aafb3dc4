//! Host capture: what `host.json` and `corebench host` say about the
//! machine. sysinfo gives the CPU brand, memory and OS; `/proc` and `/sys`
//! give what sysinfo does not: SMT siblings, the clock source, the online
//! CPUs. The build script records the compiler and git revision.

use std::fs;

use reports::schema::{CpuTopology, Host, SCHEMA_VERSION};

/// Describes this machine. `label` names the configuration.
pub fn capture_host(label: Option<String>) -> Host {
    let mut system = sysinfo::System::new();
    system.refresh_cpu_all();
    system.refresh_memory();

    let online = online_cpus();
    let logical_cores = if online.is_empty() {
        system.cpus().len() as u32
    } else {
        online.len() as u32
    };
    let topology: Vec<CpuTopology> = online.iter().map(|&cpu| read_cpu_topology(cpu)).collect();
    let physical_from_sys = {
        let mut cores: Vec<(Option<u32>, Option<u32>)> =
            topology.iter().map(|t| (t.package_id, t.core_id)).collect();
        cores.sort_unstable();
        cores.dedup();
        (!topology.is_empty()).then_some(cores.len() as u32)
    };
    let available_cores = crate::placement::current_thread_affinity()
        .into_iter()
        .map(|c| c as u32)
        .collect();

    Host {
        schema_version: SCHEMA_VERSION,
        label,
        hostname: sysinfo::System::host_name().unwrap_or_else(|| "unknown".to_string()),
        cpu_brand: system
            .cpus()
            .first()
            .map(|c| c.brand().trim().to_string())
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| "unknown".to_string()),
        physical_cores: physical_from_sys
            .or_else(|| system.physical_core_count().map(|n| n as u32)),
        logical_cores,
        available_cores,
        smt: topology.iter().any(|t| t.siblings.len() > 1),
        topology,
        memory_bytes: system.total_memory(),
        os: sysinfo::System::long_os_version().unwrap_or_else(|| "unknown".to_string()),
        kernel: sysinfo::System::kernel_version().unwrap_or_else(|| "unknown".to_string()),
        clocksource: read_trimmed(
            "/sys/devices/system/clocksource/clocksource0/current_clocksource",
        ),
        rustc: env!("COREBENCH_RUSTC_VERSION").to_string(),
        corebench_version: env!("CARGO_PKG_VERSION").to_string(),
        git_revision: Some(env!("COREBENCH_GIT_REVISION").to_string()).filter(|s| !s.is_empty()),
        captured_at: chrono::Local::now().to_rfc3339(),
        command: std::env::args().collect(),
        http_server: None,
    }
}

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
fn online_cpus() -> Vec<u32> {
    read_trimmed("/sys/devices/system/cpu/online")
        .map(|s| parse_cpu_list(&s))
        .unwrap_or_default()
}

/// Parses the kernel's CPU list format: `0-3,6,8-9` (the `--cores` syntax);
/// empty when the file holds something else.
pub fn parse_cpu_list(text: &str) -> Vec<u32> {
    crate::placement::parse_core_list(text, "cpu list")
        .map(|cores| cores.into_iter().map(|c| c as u32).collect())
        .unwrap_or_default()
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
    }

    #[test]
    fn captures_this_machine() {
        let host = capture_host(Some("<script>x</script>".into()));
        assert!(host.logical_cores >= 1);
        assert!(!host.available_cores.is_empty());
        assert!(host.memory_bytes > 0);
        assert!(host.rustc.contains("rustc"));
        assert_eq!(host.label.as_deref(), Some("<script>x</script>"));
    }
}
