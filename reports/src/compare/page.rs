//! The comparison as a page: `index.html` from the
//! `templates/compare.html` template, with the SVG charts
//! `charts::compare` draws. Its exports live in `export/`.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::charts::{config_colour, hex};
use crate::compare::{Change, CompareCell, CompareModel, Comparison};
use crate::format::format_rate;

const TEMPLATE: &str = include_str!("../../templates/compare.html");

/// Why a comparison could not be written: the same failures as a
/// report's.
pub use crate::error::ReportError as CompareReportError;

/// The page's context.
#[derive(Debug, Clone, Serialize)]
pub struct CompareContext {
    /// Page title.
    pub title: String,
    /// The configurations: name, colour, whether it is the baseline.
    pub configs: Vec<ConfigView>,
    /// The host table: field, then per configuration (value, differs).
    pub host_rows: Vec<(String, Vec<(String, bool)>)>,
    /// The noise threshold, as text.
    pub noise: String,
    /// Counts of faster / slower / unchanged / missing cells.
    pub summary: String,
    /// Whether the folders ran the same plan, and what differs.
    pub plans: Vec<String>,
    /// One per workload group.
    pub groups: Vec<GroupView>,
}

/// One configuration's header.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigView {
    /// Its name.
    pub name: String,
    /// `#rrggbb`.
    pub colour: String,
    /// Whether it is the baseline.
    pub baseline: bool,
}

/// One workload group.
#[derive(Debug, Clone, Serialize)]
pub struct GroupView {
    /// Anchor.
    pub id: String,
    /// Heading.
    pub title: String,
    /// Its models.
    pub models: Vec<ModelView>,
}

/// One model across configurations.
#[derive(Debug, Clone, Serialize)]
pub struct ModelView {
    /// The model.
    pub model: String,
    /// Chart files and titles.
    pub charts: Vec<(String, String)>,
    /// Ratio table rows: workers, then per configuration one formatted cell.
    pub rows: Vec<(u32, Vec<CellView>)>,
    /// Fits per configuration: (name, Amdahl, USL).
    pub fits: Vec<(String, String, String)>,
}

/// One formatted cell of a ratio table.
#[derive(Debug, Clone, Serialize)]
pub struct CellView {
    /// Throughput text.
    pub throughput: String,
    /// Ratio against the baseline, with interval, and normalised.
    pub ratio: String,
    /// `faster`, `slower`, `unchanged`, `baseline`, `missing` or a status.
    pub mark: String,
    /// Where the workers' time went, when the records say.
    pub time_split: String,
}

pub(crate) fn cell_view(cell: &CompareCell, is_baseline: bool) -> CellView {
    if !cell.present {
        return CellView {
            throughput: "–".into(),
            ratio: cell
                .missing
                .as_ref()
                .map_or_else(|| "–".into(), |why| format!("– ({why})")),
            mark: "missing".into(),
            time_split: String::new(),
        };
    }
    let throughput = cell
        .throughput_ops_s
        .map_or("no successful trial".to_string(), |t| {
            format!("{} ops/s", format_rate(t.point))
        });
    // The baseline's column says so once, in its heading; its cells
    // carry no ratio and no mark.
    let ratio = match (cell.ratio, is_baseline) {
        (_, true) => String::new(),
        (Some(r), false) => format!(
            "{:.3}x [{:.3}, {:.3}{}]{}",
            r.point,
            r.low,
            r.high,
            crate::format::coverage_suffix(r),
            cell.normalised_ratio
                .map_or(String::new(), |n| format!("; per calibrated core {n:.3}x"))
        ),
        (None, false) => "–".to_string(),
    };
    let mark = if is_baseline {
        String::new()
    } else {
        match (cell.change, cell.status) {
            (Some(change), _) => change.as_str().to_string(),
            (None, Some(status)) if status != crate::schema::Status::Ok => {
                status.as_str().to_string()
            }
            _ => "–".to_string(),
        }
    };
    CellView {
        throughput,
        ratio,
        mark,
        time_split: cell.time_split.map_or(String::new(), |[on, rq, blocked]| {
            let top_wait = cell
                .top_wait
                .as_ref()
                .map_or(String::new(), |(share, site)| {
                    format!(", {:.0}% in {site}", share * 100.0)
                });
            format!(
                "on CPU {:.0}% · waiting for a CPU {:.0}% · blocked {:.0}%{top_wait}",
                on * 100.0,
                rq * 100.0,
                blocked * 100.0
            )
        }),
    }
}

/// Writes the comparison page into `out`; returns `index.html`.
pub fn write_compare_report(
    comparison: &Comparison,
    out: &Path,
) -> Result<PathBuf, CompareReportError> {
    let inputs: Vec<&Path> = comparison
        .configs
        .iter()
        .map(|c| c.source.as_path())
        .collect();
    crate::staging::staged(out, &inputs, |staging| {
        write_compare_into(comparison, staging)
    })?;
    Ok(out.join("index.html"))
}

/// Writes the comparison's files into `out`, which exists and is empty.
fn write_compare_into(comparison: &Comparison, out: &Path) -> Result<(), CompareReportError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CompareReportError::Io { path, source }
    };
    let mut groups = Vec::new();
    for group in &comparison.groups {
        let mut models = Vec::new();
        for model in &group.models {
            let mut charts = Vec::new();
            for (kind, title, svg) in crate::charts::compare::comparison_charts(comparison, model)?
            {
                let file = format!(
                    "{}-{}-{kind}.svg",
                    group.id,
                    crate::slug::slug(&model.model)
                );
                let path = out.join(&file);
                fs::write(&path, svg).map_err(io(&path))?;
                charts.push((file, title));
            }
            models.push(model_view(comparison, model, charts));
        }
        groups.push(GroupView {
            id: group.id.clone(),
            title: format!(
                "{} ({} scaling, load {})",
                group.workload_spec, group.scaling, group.load
            ),
            models,
        });
    }
    let context = CompareContext {
        title: format!(
            "corebench comparison: {}",
            comparison
                .configs
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(" vs ")
        ),
        configs: comparison
            .configs
            .iter()
            .enumerate()
            .map(|(c, config)| ConfigView {
                name: config.name.clone(),
                colour: hex(config_colour(c)),
                baseline: c == comparison.baseline,
            })
            .collect(),
        host_rows: comparison
            .host_rows()
            .into_iter()
            .map(|(field, values, differs)| (field, values.into_iter().zip(differs).collect()))
            .collect(),
        noise: format!("{:.1}%", comparison.noise * 100.0),
        summary: summary_line(comparison),
        plans: comparison.plans.clone(),
        groups,
    };
    let mut env = minijinja::Environment::new();
    env.add_template("compare.html", TEMPLATE)?;
    env.add_template("chart_check.html", crate::html::CHART_CHECK_TEMPLATE)?;
    env.add_template("base_style.html", crate::html::BASE_STYLE_TEMPLATE)?;
    env.add_template("page_head.html", crate::html::PAGE_HEAD_TEMPLATE)?;
    let html = env.get_template("compare.html")?.render(&context)?;
    let index = out.join("index.html");
    fs::write(&index, html).map_err(io(&index))?;
    Ok(())
}

fn model_view(
    comparison: &Comparison,
    model: &CompareModel,
    charts: Vec<(String, String)>,
) -> ModelView {
    ModelView {
        model: model.model.clone(),
        charts,
        rows: model
            .rows
            .iter()
            .map(|row| {
                (
                    row.workers,
                    row.cells
                        .iter()
                        .enumerate()
                        .map(|(c, cell)| cell_view(cell, c == comparison.baseline))
                        .collect(),
                )
            })
            .collect(),
        fits: model
            .curves
            .iter()
            .enumerate()
            .map(|(c, curve)| {
                let name = comparison.configs[c].name.clone();
                let Some(curve) = curve else {
                    return (name, "missing".to_string(), "missing".to_string());
                };
                let (amdahl, usl) = (curve.amdahl_text(), curve.usl_text());
                (name, amdahl, usl)
            })
            .collect(),
    }
}

/// Counts of marks across every cell and configuration.
pub fn summary_line(comparison: &Comparison) -> String {
    let (mut faster, mut slower, mut unchanged, mut missing) = (0, 0, 0, 0);
    let (mut too_few, mut not_comparable) = (0, 0);
    for group in &comparison.groups {
        for model in &group.models {
            for row in &model.rows {
                for (c, cell) in row.cells.iter().enumerate() {
                    if !cell.present {
                        missing += 1;
                    } else if c != comparison.baseline {
                        match cell.change {
                            Some(Change::Faster) => faster += 1,
                            Some(Change::Slower) => slower += 1,
                            Some(Change::Unchanged) => unchanged += 1,
                            Some(Change::TooFewTrials) => too_few += 1,
                            Some(Change::NotComparable) => not_comparable += 1,
                            None => {}
                        }
                    }
                }
            }
        }
    }
    let mut extra = String::new();
    if too_few > 0 {
        extra.push_str(&format!(", {too_few} too few trials to tell"));
    }
    if not_comparable > 0 {
        extra.push_str(&format!(", {not_comparable} not comparable"));
    }
    format!(
        "Against the baseline {}: {faster} faster, {slower} slower, {unchanged} unchanged{extra}, {missing} missing (noise threshold {:.1}%).",
        comparison.configs[comparison.baseline].name,
        comparison.noise * 100.0
    )
}
