//! The table `corebench run` prints at the end: per workload, one row per
//! (model, workers) with median throughput, speedup and p99 latency.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};

use crate::analysis::{Analysis, CellRow};
use crate::format::{format_ns, format_rate, speedup_text};
use crate::schema::Status;

/// Renders one table per section of `analysis`, the figures the page
/// shows: the median throughput with the spread of the trials, and the
/// speedup with its interval, formatted as the page formats them.
pub fn summary_tables(analysis: &Analysis) -> String {
    let mut out = String::new();
    for section in &analysis.sections {
        let mut table = new_table();
        for row in &section.rows {
            let status = status_text(row).unwrap_or_else(|| "ok".to_string());
            table.add_row(vec![
                Cell::new(&row.model),
                right(row.workers.to_string()),
                right(throughput_text(row)),
                right(speedup_text(row.speedup)),
                right(
                    row.speedup_vs_seq
                        .map_or("–".into(), |s| format!("{:.2}x", s.point)),
                ),
                right(row.p99_ns.map_or("–".into(), format_ns)),
                right(
                    row.cpu_utilisation
                        .map_or("–".into(), |u| format!("{:.0}%", u * 100.0)),
                ),
                Cell::new(format!(
                    "{}/{} {status}{}",
                    row.trials_ok,
                    row.trials,
                    row.disturbed_text()
                        .map_or(String::new(), |text| format!(", {text}"))
                )),
            ]);
        }
        out.push_str(&format!(
            "\n{}  (scaling {}, pin {})\n{table}\n",
            section.workload_spec, section.scaling, section.placement
        ));
    }
    out
}

/// The table `corebench exec` prints per section: a program run is often
/// one op, so it gives the wall time per run (the median with its
/// interval), not ops/s, then the speedup against one worker.
pub fn exec_tables(analysis: &Analysis) -> String {
    let mut out = String::new();
    for section in &analysis.sections {
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
            "variant",
            "workers",
            "wall per run median [interval; coverage]",
            "speedup vs 1 [interval; coverage]",
            "cpu util",
            "trials ok",
        ]);
        for row in &section.rows {
            let status = status_text(row).map_or(String::new(), |s| format!(" {s}"));
            table.add_row(vec![
                Cell::new(&row.model),
                right(row.workers.to_string()),
                right(crate::format::with_interval(row.wall_ns, format_ns)),
                right(speedup_text(row.speedup)),
                right(
                    row.cpu_utilisation
                        .map_or("–".into(), |u| format!("{:.0}%", u * 100.0)),
                ),
                Cell::new(format!("{}/{}{status}", row.trials_ok, row.trials)),
            ]);
        }
        out.push_str(&format!(
            "\n{}  (scaling {}, pin {})\n{table}\n",
            section.workload_spec, section.scaling, section.placement
        ));
    }
    out
}

/// A row's status and the start of its error, or `None` when it is ok.
fn status_text(row: &CellRow) -> Option<String> {
    (row.status != Status::Ok).then(|| {
        format!(
            "{}: {}",
            row.status.as_str(),
            shorten(row.error.as_deref().unwrap_or(""), 48)
        )
    })
}

/// The median rate with the spread of the trials; rounds per second for a
/// lockstep workload, so that it agrees with the speedup.
fn throughput_text(row: &CellRow) -> String {
    let (median, spread, unit) = match row.rounds_s {
        Some((median, low, high)) => (median, Some((low, high)), " rounds/s"),
        None => match row.throughput_ops_s {
            Some(t) => (t.point, row.throughput_range_ops_s(), ""),
            None => return "–".into(),
        },
    };
    match spread {
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
        "speedup vs 1 [interval; coverage]",
        "vs seq",
        "p99",
        "cpu util",
        "trials ok",
    ]);
    table
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
/// cell's ok trials, as the analysis has them.
pub fn latency_tables(analysis: &Analysis) -> String {
    let mut table = new_latency_table();
    for section in &analysis.sections {
        for row in section.rows.iter().filter(|r| r.trials_ok > 0) {
            let ns = |value: Option<f64>| value.map_or("–".to_string(), format_ns);
            table.add_row(vec![
                Cell::new(&section.workload_spec),
                Cell::new(&row.model),
                right(row.workers.to_string()),
                right(ns(row.p50_ns)),
                right(ns(row.p90_ns)),
                right(ns(row.p99_ns)),
                right(ns(row.p99_9_ns)),
                right(ns(row.max_ns)),
            ]);
        }
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
