//! The table `corebench run` prints at the end: per workload, one row per
//! (model, workers) with median throughput, speedup and p99 latency.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};

use crate::cells::CellSummary;
use crate::schema::Status;

/// Renders one table per workload (and scaling/placement), in cell order.
pub fn summary_tables(cells: &[CellSummary]) -> String {
    let mut out = String::new();
    let mut current: Option<(&str, &str, &str)> = None;
    let mut table = new_table();
    for cell in cells {
        let group = (
            cell.key.workload.as_str(),
            cell.key.scaling.as_str(),
            cell.key.placement.as_str(),
        );
        if current != Some(group) {
            if let Some((workload, scaling, placement)) = current {
                push_table(&mut out, workload, scaling, placement, &table);
            }
            current = Some(group);
            table = new_table();
        }
        let speedup_label = |s: Option<f64>| s.map_or("-".to_string(), |s| format!("{s:.2}x"));
        let status = match cell.status {
            Status::Ok => "ok".to_string(),
            other => format!(
                "{}: {}",
                other.as_str(),
                shorten(cell.error.as_deref().unwrap_or(""), 48)
            ),
        };
        table.add_row(vec![
            Cell::new(&cell.key.model),
            right(cell.key.workers.to_string()),
            right(cell.median_throughput_ops_s.map_or("-".into(), format_rate)),
            right(speedup_label(cell.speedup)),
            right(speedup_label(cell.speedup_vs_seq)),
            right(cell.median_p99_ns.map_or("-".into(), format_ns)),
            right(
                cell.median_cpu_utilisation
                    .map_or("-".into(), |u| format!("{:.0}%", u * 100.0)),
            ),
            Cell::new(format!("{}/{} {}", cell.trials_ok, cell.trials, status)),
        ]);
    }
    if let Some((workload, scaling, placement)) = current {
        push_table(&mut out, workload, scaling, placement, &table);
    }
    out
}

fn new_table() -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        "model",
        "workers",
        "ops/s (median)",
        "speedup vs 1",
        "vs seq",
        "p99",
        "cpu util",
        "trials ok",
    ]);
    table
}

fn push_table(out: &mut String, workload: &str, scaling: &str, placement: &str, table: &Table) {
    out.push_str(&format!(
        "\n{workload}  (scaling {scaling}, pin {placement})\n{table}\n"
    ));
}

fn right(text: String) -> Cell {
    Cell::new(text).set_alignment(CellAlignment::Right)
}

fn shorten(text: &str, max_chars: usize) -> String {
    let first_line = text.lines().next().unwrap_or("");
    if first_line.chars().count() <= max_chars {
        first_line.to_string()
    } else {
        let cut: String = first_line.chars().take(max_chars).collect();
        format!("{cut}...")
    }
}

/// `1234567.0` -> `1.23M`.
pub fn format_rate(ops_s: f64) -> String {
    if ops_s >= 1e9 {
        format!("{:.2}G", ops_s / 1e9)
    } else if ops_s >= 1e6 {
        format!("{:.2}M", ops_s / 1e6)
    } else if ops_s >= 1e3 {
        format!("{:.1}k", ops_s / 1e3)
    } else {
        format!("{ops_s:.1}")
    }
}

/// Nanoseconds with a readable unit: `1500.0` -> `1.50 us`.
pub fn format_ns(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} us", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_units() {
        assert_eq!(format_rate(1_234_567.0), "1.23M");
        assert_eq!(format_rate(950.0), "950.0");
        assert_eq!(format_ns(1500.0), "1.50 us");
        assert_eq!(format_ns(2.5e6), "2.50 ms");
    }
}
