//! The HTML page: a template (`templates/index.html`, rendered by
//! minijinja with HTML auto-escaping, so every string from the data is shown
//! as text) filled from a [`ReportContext`] of preformatted strings. The
//! context is plain serializable data, which is what the snapshot tests
//! pin down.

use serde::Serialize;

use crate::analysis::laws::interval_text;
use crate::analysis::{Analysis, CellRow, ModelCurve, Section};
use crate::format::{format_ns, format_rate, workers_phrase};
use crate::format::{speedup_text, with_interval};
use crate::schema::{Host, Record, Status};
use crate::variants::VariantGroup;

const TEMPLATE: &str = include_str!("../templates/index.html");

/// The page's self-check script, shared with the comparison page.
pub const CHART_CHECK_TEMPLATE: &str = include_str!("../templates/chart_check.html");

/// The style rules shared with the comparison page.
pub const BASE_STYLE_TEMPLATE: &str = include_str!("../templates/base_style.html");

/// The opening of every page, up to its own style rules.
pub const PAGE_HEAD_TEMPLATE: &str = include_str!("../templates/page_head.html");

/// Everything the template shows.
#[derive(Debug, Clone, Serialize)]
pub struct ReportContext {
    /// Page title.
    pub title: String,
    /// The line under it.
    pub subtitle: String,
    /// (name, value) rows of the host table.
    pub host_rows: Vec<(String, String)>,
    /// Counts of records, cells and failures.
    pub summary_line: String,
    /// The answer first: one line per workload.
    pub summary: Vec<SummaryView>,
    /// Cells without a clean measurement.
    pub problems: Vec<crate::summary::Problem>,
    /// One per workload section.
    pub sections: Vec<SectionView>,
    /// Several specs of one workload side by side.
    pub variants: Vec<VariantView>,
    /// (label, relative link) to the raw data and exports.
    pub raw_links: Vec<(String, String)>,
    /// The experiment the folder's plan file describes, when it has a
    /// title or a question.
    pub plan: Option<PlanView>,
}

/// The texts of a plan file, shown above the summary.
#[derive(Debug, Clone, Serialize)]
pub struct PlanView {
    /// Its title.
    pub title: String,
    /// What the experiment asks.
    pub question: String,
    /// What to look at in the report.
    pub look_at: String,
}

impl PlanView {
    /// The view of `plan`, if it says what it is for.
    pub fn of(plan: &crate::schema::PlanFile) -> Option<PlanView> {
        if plan.title.is_none() && plan.question.is_none() {
            return None;
        }
        let text = |t: &Option<String>| t.as_deref().unwrap_or("").trim().to_string();
        Some(PlanView {
            title: text(&plan.title),
            question: text(&plan.question),
            look_at: text(&plan.look_at),
        })
    }
}

/// One workload's line of the summary.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryView {
    /// The section's anchor.
    pub anchor: String,
    /// Workload, scaling, placement.
    pub title: String,
    /// The best model per worker count.
    pub text: String,
    /// Why, in one sentence.
    pub reason: String,
}

/// One section of the page.
#[derive(Debug, Clone, Serialize)]
pub struct SectionView {
    /// Anchor.
    pub id: String,
    /// Heading.
    pub title: String,
    /// The canonical spec.
    pub workload_spec: String,
    /// Strong or weak.
    pub scaling: String,
    /// Load mode.
    pub load: String,
    /// Placement.
    pub placement: String,
    /// Its charts.
    pub charts: Vec<ChartView>,
    /// Its table of cells.
    pub rows: Vec<RowView>,
    /// Its fits, one per model.
    pub fits: Vec<FitView>,
    /// How far this section's projections go, when it draws any.
    pub projection: Option<String>,
    /// Cells whose ops are too short to measure the workload, and open-
    /// loop cells that fell short of their rate.
    pub warnings: Vec<String>,
    /// Whether the section ran under open load (the table then shows the
    /// rate, uncorrected latency and pacing columns).
    pub open: bool,
    /// Whether any row has hardware counters (the IPC column is shown).
    pub hardware: bool,
    /// Measured at one worker count: no scaling charts, the table says so.
    pub single_point: bool,
    /// Where blocked workers wait, for wall-profiled cells.
    pub waits: Vec<crate::wait_table::WaitRowView>,
}

/// Several specs of one workload, compared at one cell.
#[derive(Debug, Clone, Serialize)]
pub struct VariantView {
    /// Anchor.
    pub id: String,
    /// Heading.
    pub title: String,
    /// Which cell the lines come from, and the section's mode.
    pub note: String,
    /// Its charts.
    pub charts: Vec<ChartView>,
    /// One per spec.
    pub rows: Vec<VariantRowView>,
    /// The names of the workload's own latencies, the table's extra
    /// columns, in order.
    pub own_latencies: Vec<String>,
    /// Specs with no ok trial at the cell.
    pub missing: Vec<String>,
}

/// One spec of a side-by-side table, formatted.
#[derive(Debug, Clone, Serialize)]
pub struct VariantRowView {
    /// Line colour, `#rrggbb`.
    pub colour: String,
    /// The parameters that differ.
    pub label: String,
    /// The canonical spec.
    pub spec: String,
    /// Median throughput.
    pub throughput: String,
    /// Op latency p50 / p99 / p99.9.
    pub op_latency: String,
    /// The workload's own latencies' p50 / p99 / p99.9, in
    /// `own_latencies` order.
    pub own_latency: Vec<String>,
}

/// One chart image.
#[derive(Debug, Clone, Serialize)]
pub struct ChartView {
    /// File name, relative to the page.
    pub file: String,
    /// Caption and alt text.
    pub title: String,
}

/// One row of a cells table, formatted.
#[derive(Debug, Clone, Serialize)]
pub struct RowView {
    /// CSS class: `ok`, `bad` or `unsupported`.
    pub class: String,
    /// Model colour, `#rrggbb`.
    pub colour: String,
    /// Model.
    pub model: String,
    /// Workers.
    pub workers: u32,
    /// Wall time with interval.
    pub wall: String,
    /// Throughput with interval.
    pub throughput: String,
    /// Speedup with interval.
    pub speedup: String,
    /// p50 latency.
    pub p50: String,
    /// p99 latency.
    pub p99: String,
    /// p99.9 latency.
    pub p99_9: String,
    /// CPU utilisation.
    pub cpu: String,
    /// Outliers, mild/severe.
    pub outliers: String,
    /// Dispatch floor.
    pub floor: String,
    /// The cell's flamegraph, relative to the page, when it was sampled.
    pub flame: Option<String>,
    /// Its off-CPU flamegraph, when it was wall-profiled.
    pub offcpu: Option<String>,
    /// Context switches per op.
    pub switches: String,
    /// Share of the workers' time waiting for a CPU.
    pub runqueue: String,
    /// IPC and cache misses per op, where hardware counters were had.
    pub hardware: Option<String>,
    /// ok/total trials.
    pub trials: String,
    /// Status and error.
    pub status: String,
    /// Jain index and max/min, with a starvation flag.
    pub fairness: String,
    /// Workload counters.
    pub counters: String,
    /// Mean ops in flight (Little's law).
    pub in_flight: String,
    /// Open load: requested vs achieved rate.
    pub rate: String,
    /// Open load: uncorrected p99.
    pub uncorrected_p99: String,
    /// Open load: pacing error p99 and late starts.
    pub pacing: String,
}

/// One model's fits, formatted.
#[derive(Debug, Clone, Serialize)]
pub struct FitView {
    /// Model.
    pub model: String,
    /// Model colour.
    pub colour: String,
    /// Amdahl, or why not.
    pub amdahl: String,
    /// Gustafson, or why not.
    pub gustafson: String,
    /// USL, or why not.
    pub usl: String,
    /// The law the reading uses, and why.
    pub law: String,
    /// e(n) per n.
    pub karp_flatt: String,
    /// Cost against seq at n = 1.
    pub vs_seq: String,
    /// The plain reading.
    pub reading: String,
}

/// Builds the template context. `charts` gives each section's chart files
/// in section order.
pub fn build_context(
    host: &Host,
    records: &[Record],
    analysis: &Analysis,
    charts: &[Vec<ChartView>],
    variants: &[(VariantGroup, Vec<ChartView>)],
    raw_links: Vec<(String, String)>,
) -> ReportContext {
    let label = host.label.clone().unwrap_or_else(|| host.hostname.clone());
    let count = |status: Status| records.iter().filter(|r| r.status == status).count();
    let cells: usize = analysis.sections.iter().map(|s| s.rows.len()).sum();
    let summary = crate::summary::summarise(analysis);
    ReportContext {
        plan: None,
        title: format!("corebench report: {label}"),
        subtitle: format!(
            "{} on {} ({} physical / {} logical cores), captured {}",
            host.cpu_brand,
            host.hostname,
            host.physical_cores
                .map_or("?".to_string(), |c| c.to_string()),
            host.logical_cores,
            host.captured_at
        ),
        host_rows: crate::host_view::host_rows(host, analysis)
            .into_iter()
            .map(|row| (row.field.to_string(), row.value))
            .collect(),
        summary_line: format!(
            "{} records in {cells} cells: {} ok, {} failed, {} timed out, {} deadlocked, {} unsupported.",
            records.len(),
            count(Status::Ok),
            count(Status::Failed),
            count(Status::Timeout),
            count(Status::Deadlocked),
            count(Status::Unsupported),
        ),
        summary: summary
            .workloads
            .iter()
            .map(|w| SummaryView {
                anchor: w.anchor.clone(),
                title: w.title.clone(),
                text: w.text(),
                reason: w.reason.clone(),
            })
            .collect(),
        problems: summary.problems,
        // The calibration cell is a line of the host table, not a section.
        sections: analysis
            .sections
            .iter()
            .zip(charts.iter().chain(std::iter::repeat(&Vec::new())))
            .filter(|(section, _)| !section.is_calibration())
            .map(|(section, charts)| section_view(section, charts.clone()))
            .collect(),
        variants: variants
            .iter()
            .map(|(group, charts)| variant_view(group, charts.clone()))
            .collect(),
        raw_links,
    }
}

/// Renders the page.
pub fn render(context: &ReportContext) -> Result<String, minijinja::Error> {
    let mut env = minijinja::Environment::new();
    env.add_template("index.html", TEMPLATE)?;
    env.add_template("chart_check.html", CHART_CHECK_TEMPLATE)?;
    env.add_template("base_style.html", BASE_STYLE_TEMPLATE)?;
    env.add_template("page_head.html", PAGE_HEAD_TEMPLATE)?;
    env.get_template("index.html")?.render(context)
}

fn section_view(section: &Section, charts: Vec<ChartView>) -> SectionView {
    SectionView {
        id: section.id.clone(),
        title: format!(
            "{} ({} scaling, pin {})",
            section.workload_id, section.scaling, section.placement
        ),
        workload_spec: section.workload_spec.clone(),
        scaling: section.scaling.clone(),
        load: section.load.clone(),
        placement: section.placement.clone(),
        charts,
        projection: section
            .models
            .iter()
            .any(|m| m.projectable)
            .then(|| format!(
                "Thin dashed lines in a model's colour project its chosen law to {} workers, four times the largest count measured here.",
                section.projection_max_n
            )),
        rows: section.rows.iter().map(|r| row_view(r, section)).collect(),
        fits: section.models.iter().map(|c| fit_view(c, section)).collect(),
        warnings: section
            .rows
            .iter()
            .filter(|r| r.measures_executor)
            .map(|r| {
                format!(
                    "{} at {}: the median op ({}) is only {:.1}x the model's dispatch floor ({}); this measures the executor, not the workload. Make the op bigger.",
                    r.model,
                    workers_phrase(r.workers),
                    r.p50_ns.map_or("?".into(), format_ns),
                    r.floor_ratio.unwrap_or(0.0),
                    r.dispatch_floor_ns.map_or("?".into(), format_ns),
                )
            })
            .chain(section.rows.iter().filter_map(|r| {
                let open = r.open.as_ref().filter(|o| o.fell_short())?;
                Some(format!(
                    "{} at {} could not keep up: it achieved {} ops/s of the {} asked for. Latencies count from the due times, so they include the backlog.",
                    r.model,
                    workers_phrase(r.workers),
                    format_rate(open.achieved_rate_ops_s),
                    format_rate(open.requested_rate_ops_s),
                ))
            }))
            .collect(),
        open: section.rows.iter().any(|r| r.open.is_some()),
        hardware: section
            .rows
            .iter()
            .any(|r| r.ipc.is_some() || r.cache_misses_per_op.is_some()),
        single_point: section.single_point(),
        waits: crate::wait_table::wait_rows(section, |model| colour_hex(section, model)),
    }
}

fn variant_view(group: &VariantGroup, charts: Vec<ChartView>) -> VariantView {
    let own_latencies = group.histogram_names();
    let three = |q: &[f64; 3]| {
        format!(
            "{} / {} / {}",
            format_ns(q[0]),
            format_ns(q[1]),
            format_ns(q[2])
        )
    };
    VariantView {
        id: group.id.clone(),
        title: format!("{}: implementations side by side", group.workload_id),
        note: format!(
            "{} at {} worker{} (the cell the most specs measured) · scaling {} · load {} · pin {}",
            group.model,
            group.workers,
            if group.workers == 1 { "" } else { "s" },
            group.scaling,
            group.load,
            group.placement
        ),
        charts,
        rows: group
            .lines
            .iter()
            .enumerate()
            .map(|(index, line)| VariantRowView {
                colour: crate::charts::hex(crate::charts::config_colour(index)),
                label: line.label.clone(),
                spec: line.spec.clone(),
                throughput: line.throughput_ops_s.map_or("–".to_string(), format_rate),
                op_latency: line.op_quantiles_ns.as_ref().map_or("–".to_string(), three),
                own_latency: own_latencies
                    .iter()
                    .map(|name| {
                        line.workload_quantiles_ns
                            .get(name)
                            .map_or("–".to_string(), three)
                    })
                    .collect(),
            })
            .collect(),
        own_latencies: own_latencies.iter().map(|n| n.replace('_', " ")).collect(),
        missing: group.missing.clone(),
    }
}

/// `#rrggbb` of a model's colour.
pub fn colour_hex(section: &Section, model: &str) -> String {
    crate::charts::hex(crate::charts::rgb(section.colour_of(model)))
}

fn row_view(row: &CellRow, section: &Section) -> RowView {
    let latency = |ns: Option<f64>| ns.map_or("–".to_string(), format_ns);
    RowView {
        class: match row.status {
            Status::Ok => "ok",
            Status::Unsupported => "unsupported",
            _ => "bad",
        }
        .to_string(),
        colour: colour_hex(section, &row.model),
        model: format!(
            "{}{}",
            row.model,
            if row.async_op { " (async op)" } else { "" }
        ),
        workers: row.workers,
        wall: with_interval(row.wall_ns, format_ns),
        throughput: with_interval(row.throughput_ops_s, format_rate),
        speedup: speedup_text(row.speedup),
        p50: latency(row.p50_ns),
        p99: latency(row.p99_ns),
        p99_9: latency(row.p99_9_ns),
        cpu: row
            .cpu_utilisation
            .map_or("–".to_string(), |u| format!("{:.0}%", u * 100.0)),
        outliers: format!("{}/{}", row.outliers.mild, row.outliers.severe),
        floor: row.dispatch_floor_ns.map_or("–".to_string(), format_ns),
        flame: None,
        offcpu: None,
        switches: row
            .switches_per_op
            .map_or("–".to_string(), |s| format!("{s:.3}")),
        runqueue: row
            .runqueue_fraction
            .map_or("–".to_string(), |f| format!("{:.1}%", f * 100.0)),
        hardware: match (row.ipc, row.cache_misses_per_op) {
            (None, None) => None,
            (ipc, misses) => Some(format!(
                "{} IPC, {} misses/op",
                ipc.map_or("–".into(), |i| format!("{i:.2}")),
                misses.map_or("–".into(), |m| format!("{m:.1}"))
            )),
        },
        trials: match row.disturbed_text() {
            Some(text) => format!(
                "{}/{} ({text}: {})",
                row.trials_ok,
                row.trials,
                row.disturbed_why.join(" | ")
            ),
            None => format!("{}/{}", row.trials_ok, row.trials),
        },
        fairness: match (row.jain_index, row.max_min_ratio) {
            (Some(jain), ratio) => format!(
                "Jain {jain:.3}, max/min {}{}",
                ratio.map_or("∞".to_string(), |r| format!("{r:.2}")),
                if row.starvation {
                    "; a worker starved"
                } else {
                    ""
                }
            ),
            (None, _) => "–".to_string(),
        },
        counters: row
            .counters
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join(", "),
        in_flight: row.in_flight.map_or("–".to_string(), |n| format!("{n:.1}")),
        rate: row.open.as_ref().map_or("–".to_string(), |o| {
            format!(
                "{} of {}{}",
                format_rate(o.achieved_rate_ops_s),
                format_rate(o.requested_rate_ops_s),
                if o.fell_short() { " (short)" } else { "" }
            )
        }),
        uncorrected_p99: latency(row.open.as_ref().and_then(|o| o.uncorrected_p99_ns)),
        pacing: row.open.as_ref().map_or("–".to_string(), |o| {
            format!(
                "p99 {}, {} late",
                latency(o.pacing_p99_ns),
                o.late_starts.map_or("?".into(), |n| format!("{n:.0}"))
            )
        }),
        status: match (&row.status, &row.error) {
            (Status::Ok, _) if row.measures_executor => format!(
                "ok, but the median op is only {:.1}x the dispatch floor",
                row.floor_ratio.unwrap_or(0.0)
            ),
            (Status::Ok, _) => "ok".to_string(),
            (status, Some(error)) => format!("{}: {error}", status.as_str()),
            (status, None) => status.as_str().to_string(),
        },
    }
}

fn fit_view(curve: &ModelCurve, section: &Section) -> FitView {
    let amdahl = curve.amdahl_text();
    let gustafson = match &curve.gustafson {
        None => "– (strong scaling)".to_string(),
        Some(g) => match (&g.fit, &g.reason) {
            (Some(g), _) => format!(
                "f = {} from {} worker counts",
                interval_text(g.serial_fraction),
                g.fit.points
            ),
            (None, reason) => reason.clone().unwrap_or_default(),
        },
    };
    let usl = curve.usl_text();
    let law = curve.law.as_ref().map_or("–".to_string(), |c| {
        format!("{}: {}", c.law.name(), c.why)
    });
    let karp_flatt: Vec<String> = curve
        .points
        .iter()
        .filter_map(|p| p.karp_flatt.map(|e| format!("e({}) = {e:.3}", p.n)))
        .collect();
    FitView {
        model: curve.model.clone(),
        colour: colour_hex(section, &curve.model),
        amdahl,
        gustafson,
        usl,
        law,
        karp_flatt: if karp_flatt.is_empty() {
            "– (needs n > 1)".to_string()
        } else {
            karp_flatt.join(", ")
        },
        vs_seq: curve.vs_seq_at_1.map_or("–".to_string(), |e| {
            let mut text = format!(
                "{:.2}x [{:.2}, {:.2}] of seq's speed",
                e.point, e.low, e.high
            );
            // Clearly slower than seq: say what the model itself costs.
            if let Some(cost) = section
                .series
                .own_cost(&curve.model)
                .filter(|_| e.high < 1.0)
            {
                text.push_str(&format!("; its own cost: {cost}"));
            }
            text
        }),
        reading: curve.reading.clone(),
    }
}
