//! The table `corebench run` prints at the end: per workload, one row per
//! (model, workers) with median throughput, speedup and p99 latency.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};

use crate::cells::CellSummary;
use crate::format::{format_ns, format_rate};
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
            right(throughput_text(cell)),
            right(speedup_label(cell.speedup)),
            right(speedup_label(cell.speedup_vs_seq)),
            right(cell.median_p99_ns.map_or("-".into(), format_ns)),
            right(
                cell.median_cpu_utilisation
                    .map_or("-".into(), |u| format!("{:.0}%", u * 100.0)),
            ),
            Cell::new(format!(
                "{}/{} {status}{}",
                cell.trials_ok,
                cell.trials,
                if cell.disturbed > 0 {
                    format!(", {} disturbed", cell.disturbed)
                } else {
                    String::new()
                }
            )),
        ]);
    }
    if let Some((workload, scaling, placement)) = current {
        push_table(&mut out, workload, scaling, placement, &table);
    }
    out
}

/// The median rate with the spread of the trials; rounds per second for a
/// lockstep workload, so that it agrees with the speedup.
fn throughput_text(cell: &CellSummary) -> String {
    let (median, unit) = match cell.median_rounds_s {
        Some(rounds) => (Some(rounds), " rounds/s"),
        None => (cell.median_throughput_ops_s, ""),
    };
    let Some(median) = median else {
        return "-".into();
    };
    match cell.throughput_spread {
        Some((low, high)) if high > low => format!(
            "{}{unit} [{}, {}]",
            format_rate(median),
            format_rate(low),
            format_rate(high)
        ),
        _ => format!("{}{unit}", format_rate(median)),
    }
}

fn new_table() -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        "model",
        "workers",
        "ops/s median [min, max]",
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
/// The latency distribution of every cell, as wrk's `--latency` prints
/// it: p50, p90, p99, p99.9 and max of one op, each the median over the
/// cell's ok trials.
pub fn latency_tables(records: &[crate::schema::Record]) -> String {
    use std::collections::BTreeMap;
    let mut cells: BTreeMap<crate::cells::CellKey, Vec<&crate::schema::LatencySummary>> =
        BTreeMap::new();
    for record in records.iter().filter(|r| r.status == Status::Ok) {
        if let Some(latency) = &record.latency {
            cells
                .entry(crate::cells::CellKey::of(record))
                .or_default()
                .push(latency);
        }
    }
    let mut table = new_latency_table();
    for (key, latencies) in &cells {
        let median = |pick: fn(&crate::schema::LatencySummary) -> u64| {
            let values: Vec<f64> = latencies.iter().map(|l| pick(l) as f64).collect();
            crate::stats::median(&values).map_or("-".to_string(), format_ns)
        };
        table.add_row(vec![
            Cell::new(&key.workload),
            Cell::new(&key.model),
            right(key.workers.to_string()),
            right(median(|l| l.p50_ns)),
            right(median(|l| l.p90_ns)),
            right(median(|l| l.p99_ns)),
            right(median(|l| l.p99_9_ns)),
            right(median(|l| l.max_ns)),
        ]);
    }
    format!("\nLatency distribution of one op (medians over trials)\n{table}\n")
}

fn new_latency_table() -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        "workload", "model", "workers", "p50", "p90", "p99", "p99.9", "max",
    ]);
    table
}
