//! The host table: what a results folder says about its machine, one row
//! per fact, in one wording. The report shows one host's rows; a
//! comparison shows every configuration's side by side and marks the rows
//! that differ from the baseline's.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::analysis::Analysis;
use crate::format::{cpu_list, format_rate};
use crate::schema::{Host, CALIBRATION_WORKLOAD};

/// One row of the host table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostRow {
    /// What the row says.
    pub field: &'static str,
    /// Its value.
    pub value: String,
    /// Whether a comparison marks it when it differs from the baseline's
    /// (not for facts every run has its own of: the host name, the time,
    /// the command line).
    pub compared: bool,
}

/// Every row of the host table of `host`, whose records `analysis` read.
pub fn host_rows(host: &Host, analysis: &Analysis) -> Vec<HostRow> {
    let row = |field, value: String| HostRow {
        field,
        value,
        compared: true,
    };
    let own = |field, value: String| HostRow {
        compared: false,
        ..row(field, value)
    };
    let single_core = analysis
        .single_core_speed()
        .map_or("not measured (--no-calibration)".to_string(), |speed| {
            format!(
                "{} ops/s of {CALIBRATION_WORKLOAD} on one core under seq (median; comparisons divide by it)",
                format_rate(speed.point)
            )
        });
    let placements: BTreeSet<&str> = analysis
        .sections
        .iter()
        .filter(|s| !s.is_calibration())
        .map(|s| s.placement.as_str())
        .collect();
    vec![
        row("single-core speed", single_core),
        own(
            "label",
            host.label.clone().unwrap_or_else(|| "(none)".into()),
        ),
        own("host", host.hostname.clone()),
        row("CPU", host.cpu_brand.clone()),
        row(
            "cores",
            format!(
                "{} physical, {} logical{}",
                host.physical_cores.map_or("?".into(), |c| c.to_string()),
                host.logical_cores,
                if host.smt { ", SMT on" } else { ", no SMT" }
            ),
        ),
        row(
            "cores available to the run",
            cpu_list(&host.available_cores),
        ),
        row(
            "memory",
            format!("{:.1} GiB", host.memory_bytes as f64 / (1u64 << 30) as f64),
        ),
        row("OS", host.os.clone()),
        row("kernel", host.kernel.clone()),
        row(
            "clock source",
            host.clocksource.clone().unwrap_or_else(|| "?".into()),
        ),
        row("compiler", host.rustc.clone()),
        row(
            "corebench",
            format!(
                "{}{}",
                host.corebench_version,
                host.git_revision
                    .as_ref()
                    .map_or(String::new(), |r| format!(" ({r})"))
            ),
        ),
        row(
            "pinning",
            placements.into_iter().collect::<Vec<_>>().join(", "),
        ),
        own("captured", host.captured_at.clone()),
        own("command", host.command.join(" ")),
    ]
}
