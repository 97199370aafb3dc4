//! Writing a whole report: analysis, charts, page and exports into one
//! folder (`DIR/report/` by default), readable offline from disk.

use std::fs;
use std::path::{Path, PathBuf};

use crate::analysis::{analyse, Analysis};
use crate::charts::{section_charts, variant_charts, Chart};
pub use crate::error::ReportError;
use crate::export::report_exporters;
use crate::folder::ResultsFolder;
use crate::html::{build_context, render, ChartView, ReportContext};
use crate::series::SeriesOrder;
use crate::variants::variant_groups;

/// What was written.
#[derive(Debug, Clone)]
pub struct WrittenReport {
    /// The report folder.
    pub dir: PathBuf,
    /// Its `index.html`.
    pub index: PathBuf,
    /// Chart files written.
    pub charts: usize,
    /// The page's context (what the snapshot tests pin down).
    pub context: ReportContext,
    /// What was left out of the report and why (a profile that could not
    /// be read), one line each, for the terminal.
    pub warnings: Vec<String>,
    /// The analysis the report shows: what the terminal, `--json` and the
    /// exports read too, computed once.
    pub analysis: Analysis,
}

/// Writes the report of `folder` into `out`: `index.html`, one SVG per
/// chart, `summary.csv`, `summary.md` and `fits.json`. Raw data is linked relatively when
/// `out` is inside the results folder, and copied into `out/data/`
/// otherwise, so the page's links work wherever it is opened. The folder
/// is written whole or not at all (see [`crate::staging::staged`]): a killed `report`
/// leaves the old report, or none, never half of one.
/// `series` names the models in report order, with their colours.
pub fn write_report(
    folder: &ResultsFolder,
    out: &Path,
    series: &SeriesOrder,
) -> Result<WrittenReport, ReportError> {
    let data_prefix = raw_data_prefix(folder, out)?;
    let mut written = crate::staging::staged(out, &[&folder.dir], |staging| {
        write_into(folder, staging, &data_prefix, series)
    })?;
    written.dir = out.to_path_buf();
    written.index = out.join("index.html");
    Ok(written)
}

/// Writes the report's files into `out`, which exists and is empty.
fn write_into(
    folder: &ResultsFolder,
    out: &Path,
    data_prefix: &str,
    series: &SeriesOrder,
) -> Result<WrittenReport, ReportError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReportError::Io { path, source }
    };
    let analysis = analyse(&folder.host, &folder.records, series);

    // Writes charts as `STEM-[INDEX-]KIND.svg`; returns their views.
    let mut chart_count = 0;
    let mut write_charts = |stem: &str, numbered: bool, charts: Vec<Chart>| {
        let mut views = Vec::new();
        for (index, chart) in charts.into_iter().enumerate() {
            let file = if numbered {
                format!("{stem}-{index}-{}.svg", chart.kind)
            } else {
                format!("{stem}-{}.svg", chart.kind)
            };
            let path = out.join(&file);
            fs::write(&path, chart.svg).map_err(io(&path))?;
            views.push(ChartView {
                file,
                title: chart.title,
            });
            chart_count += 1;
        }
        Ok::<_, ReportError>(views)
    };
    let mut charts: Vec<Vec<ChartView>> = Vec::new();
    for section in &analysis.sections {
        // The calibration cell is a line of the host table, not charts.
        if section.is_calibration() {
            charts.push(Vec::new());
            continue;
        }
        let section_charts = section_charts(section, analysis.logical_cores)?;
        charts.push(write_charts(&section.id, false, section_charts)?);
    }
    let mut variants = Vec::new();
    for group in variant_groups(&folder.records, series) {
        // Numbered: a workload may keep several latencies of its own.
        let views = write_charts(&group.id, true, variant_charts(&group)?)?;
        variants.push((group, views));
    }

    if data_prefix == COPIED_DATA {
        copy_raw_data(folder, out)?;
    }
    let mut raw_links = vec![
        (
            "records.jsonl (one JSON record per trial)".to_string(),
            format!("{data_prefix}records.jsonl"),
        ),
        (
            "host.json (the machine)".to_string(),
            format!("{data_prefix}host.json"),
        ),
    ];
    if folder.plan.is_some() {
        raw_links.push((
            "plan.toml (the plan it ran: `corebench run --same-as` runs it again)".to_string(),
            format!("{data_prefix}plan.toml"),
        ));
    }
    raw_links.extend(report_exporters().iter().map(|exporter| {
        let file = exporter.file_name();
        (format!("{file} ({})", exporter.description()), file)
    }));
    let mut context = build_context(
        &folder.host,
        &folder.records,
        &analysis,
        &charts,
        &variants,
        raw_links,
    );
    context.plan = folder.plan.as_ref().and_then(crate::html::PlanView::of);
    let flamegraphs = crate::flame::render_all(&folder.dir, out)?;
    link_flamegraphs(&mut context, &analysis, &flamegraphs.names);
    let index = out.join("index.html");
    fs::write(&index, render(&context)?).map_err(io(&index))?;
    for exporter in report_exporters() {
        let path = out.join(exporter.file_name());
        fs::write(&path, exporter.export(&analysis)?).map_err(io(&path))?;
    }

    Ok(WrittenReport {
        dir: out.to_path_buf(),
        index,
        charts: chart_count,
        context,
        warnings: flamegraphs.warnings,
        analysis,
    })
}

/// Where the page finds the raw files when they are copied beside it.
const COPIED_DATA: &str = "data/";

/// `../` when the report sits directly in the results folder; otherwise
/// `data/`, where [`copy_raw_data`] puts them.
fn raw_data_prefix(folder: &ResultsFolder, out: &Path) -> Result<String, ReportError> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let inside = match (fs::canonicalize(&folder.dir), fs::canonicalize(parent)) {
        (Ok(dir), Ok(parent)) => parent == dir,
        _ => false,
    };
    Ok(if inside { "../" } else { COPIED_DATA }.to_string())
}

/// Copies the raw files into `out/data/`.
fn copy_raw_data(folder: &ResultsFolder, out: &Path) -> Result<(), ReportError> {
    let data = out.join("data");
    fs::create_dir_all(&data).map_err(|source| ReportError::Io {
        path: data.clone(),
        source,
    })?;
    for name in ["records.jsonl", "host.json", "plan.toml"] {
        let (from, to) = (folder.dir.join(name), data.join(name));
        if name == "plan.toml" && !from.is_file() {
            continue;
        }
        fs::copy(&from, &to).map_err(|source| ReportError::Io { path: to, source })?;
    }
    Ok(())
}

/// Links each cell row to its flamegraph, among those `rendered`.
fn link_flamegraphs(
    context: &mut crate::html::ReportContext,
    analysis: &crate::analysis::Analysis,
    rendered: &std::collections::BTreeSet<String>,
) {
    // By id: the page leaves some sections out (the calibration), so the
    // two lists do not line up one to one.
    for view in &mut context.sections {
        let Some(section) = analysis.sections.iter().find(|s| s.id == view.id) else {
            continue;
        };
        for (row_view, row) in view.rows.iter_mut().zip(&section.rows) {
            let key = crate::cells::CellKey {
                workload: section.workload_spec.clone(),
                scaling: section.scaling.clone(),
                load: section.load.clone(),
                placement: section.placement.clone(),
                model: row.model.clone(),
                workers: row.workers,
            };
            let name = crate::flame::profile_name(&key);
            if rendered.contains(&name) {
                row_view.flame = Some(format!("{}/{name}.svg", crate::flame::FLAME_DIR));
            }
            let offcpu = format!("{name}{}", crate::flame::OFFCPU_SUFFIX);
            if rendered.contains(&offcpu) {
                let link = format!("{}/{offcpu}.svg", crate::flame::FLAME_DIR);
                row_view.offcpu = Some(link.clone());
                for wait in view
                    .waits
                    .iter_mut()
                    .filter(|w| w.model == row.model && w.workers == row.workers)
                {
                    wait.offcpu = Some(link.clone());
                }
            }
        }
    }
}
