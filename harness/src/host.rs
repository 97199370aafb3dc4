//! Host capture: what `host.json` and `corebench host` say about the
//! machine. sysinfo gives the CPU brand, memory and OS; [`crate::os`] gives
//! what sysinfo does not: SMT siblings, the clock source, the online CPUs,
//! the affinity mask. The build script records the compiler and git
//! revision.

use reports::schema::{CpuTopology, Host, SCHEMA_VERSION};

use crate::os::affinity::current_thread_affinity;
use crate::os::topology::{clocksource, online_cpus, read_cpu_topology};

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
    let available_cores = current_thread_affinity()
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
        clocksource: clocksource(),
        rustc: env!("COREBENCH_RUSTC_VERSION").to_string(),
        corebench_version: env!("CARGO_PKG_VERSION").to_string(),
        git_revision: Some(env!("COREBENCH_GIT_REVISION").to_string()).filter(|s| !s.is_empty()),
        captured_at: chrono::Local::now().to_rfc3339(),
        // A --target URL may carry a password: never saved.
        command: std::env::args()
            .map(|arg| workloads::io::url::redact(&arg))
            .collect(),
        http_server: None,
        cgroup_cpu_quota_cores: crate::os::machine::cgroup_quota_cores(),
        trial_order_seed: None,
        disturbance_rule: None,
        plan_sha256: None,
        platform: Some(reports::schema::Platform {
            cpu_governor: crate::os::platform::governor(),
            turbo: crate::os::platform::turbo(),
            smt_control: crate::os::platform::smt_control(),
            perf_event_paranoid: crate::os::platform::perf_event_paranoid(),
            hardware_counters_unavailable: crate::os::platform::hardware_counters_unavailable(),
            software_counters_unavailable: crate::os::perf::software_counters_unavailable(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_this_machine() {
        let host = capture_host(Some("<script>x</script>".into()));
        assert!(host.logical_cores >= 1);
        assert!(!host.available_cores.is_empty());
        assert!(host.memory_bytes > 0);
        assert!(host.rustc.contains("rustc"));
        assert_eq!(host.label.as_deref(), Some("<script>x</script>"));
        let platform = host.platform.expect("what shapes the numbers");
        assert_eq!(
            platform.hardware_counters_unavailable.is_some(),
            !std::path::Path::new("/sys/bus/event_source/devices/cpu").exists()
                || platform.perf_event_paranoid.is_some_and(|p| p > 2)
        );
    }
}
