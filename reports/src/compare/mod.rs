//! Comparing results folders, in four parts: [`configs`] names each
//! folder (or each placement of one) as a configuration; this file matches
//! their cells, reading each configuration's own analysis, so a cell's
//! throughput, status and time split are the figures its own report
//! shows; [`change`] decides faster, slower or unchanged; [`page`] writes
//! the comparison page (its charts are drawn by `charts::compare`).
//!
//! Cells are matched on (workload spec, scaling, load, model, workers); a
//! cell missing from a configuration is shown as missing. Each
//! configuration's single-core speed (`Analysis::single_core_speed`)
//! divides its ratios, so machines of different clock speeds compare per
//! core.

pub mod change;
pub mod configs;
pub mod page;
pub mod plans;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::analysis::{analyse, Analysis, CellRow, ModelCurve, Section, Spectrum};
use crate::schema::{Record, SeriesOrder, Status};
use crate::slug::slug;
use crate::stats::{ratio_interval, Estimate};
pub use change::Change;
pub use configs::{configurations, Configuration};

/// What to compare, and how strictly.
#[derive(Debug, Clone)]
pub struct CompareOptions {
    /// Index of the baseline configuration.
    pub baseline: usize,
    /// Relative change below which nothing counts, e.g. 0.02.
    pub noise: f64,
    /// The models, in report order, with their colours.
    pub series: SeriesOrder,
}

/// Everything a comparison shows.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The configurations, in the order given.
    pub configs: Vec<Configuration>,
    /// Which one is the baseline.
    pub baseline: usize,
    /// The noise threshold.
    pub noise: f64,
    /// One per workload spec x scaling x load.
    pub groups: Vec<CompareGroup>,
    /// Each configuration's own analysis, in the order of `configs`.
    pub analyses: Vec<Analysis>,
    /// Whether the folders ran the same plan, and what differs where not
    /// ([`plans::plan_lines`]).
    pub plans: Vec<String>,
}

/// One workload under one scaling mode and load.
#[derive(Debug, Clone, Serialize)]
pub struct CompareGroup {
    /// Anchor and file-name stem.
    pub id: String,
    /// The canonical spec.
    pub workload_spec: String,
    /// Strong or weak.
    pub scaling: String,
    /// Closed or open.
    pub load: String,
    /// One per model present in any configuration.
    pub models: Vec<CompareModel>,
}

/// One model of a group across configurations.
#[derive(Debug, Clone, Serialize)]
pub struct CompareModel {
    /// The model.
    pub model: String,
    /// One per worker count present in any configuration.
    pub rows: Vec<CompareRow>,
    /// Each configuration's fits, in configuration order; `None` where the
    /// configuration lacks the model.
    #[serde(skip)]
    pub curves: Vec<Option<ModelCurve>>,
    /// Each configuration's spectrum at `matched_workers`.
    #[serde(skip)]
    pub spectra: Vec<Option<Spectrum>>,
    /// The largest worker count every configuration has, for spectra.
    pub matched_workers: Option<u32>,
}

/// One worker count of a model across configurations.
#[derive(Debug, Clone, Serialize)]
pub struct CompareRow {
    /// Workers.
    pub workers: u32,
    /// One per configuration, in order.
    pub cells: Vec<CompareCell>,
}

/// One configuration's cell in a row.
#[derive(Debug, Clone, Serialize)]
pub struct CompareCell {
    /// Whether the configuration has this cell at all.
    pub present: bool,
    /// Why it has not, when it has not ([`plans::missing_reason`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
    /// Its worst status.
    pub status: Option<Status>,
    /// Median throughput with interval.
    pub throughput_ops_s: Option<Estimate>,
    /// Throughput over the baseline's, with interval.
    pub ratio: Option<Estimate>,
    /// The ratio divided by the calibration ratio: per-core-speed change.
    pub normalised_ratio: Option<f64>,
    /// Against the baseline (`None` for the baseline itself, or when either
    /// side has no successful trial).
    pub change: Option<Change>,
    /// Where the workers' time went: median on-CPU, run-queue and blocked
    /// shares over its ok trials that carry a breakdown.
    pub time_split: Option<[f64; 3]>,
    /// With `--wall-profile`: the top wait site's share of the workers'
    /// time, and the site in words.
    pub top_wait: Option<(f64, String)>,
}

/// (spec, scaling, load): the cells of one group match across
/// configurations.
type GroupKey = (String, String, String);

/// One configuration's cell: its section and its row.
type Found<'a> = Option<(&'a Section, &'a CellRow)>;

/// Compares configurations.
pub fn compare(configs: Vec<Configuration>, options: CompareOptions) -> Comparison {
    let analyses: Vec<Analysis> = configs
        .iter()
        .map(|c| analyse(&c.host, &c.records, &options.series))
        .collect();
    let calibrations: Vec<Option<f64>> = analyses
        .iter()
        .map(|a| a.single_core_speed().map(|e| e.point))
        .collect();
    // group -> (rank, model) -> workers -> each configuration's cell
    type Cells<'a> = BTreeMap<u32, Vec<Found<'a>>>;
    let mut table: BTreeMap<GroupKey, BTreeMap<(usize, String), Cells>> = BTreeMap::new();
    for (c, analysis) in analyses.iter().enumerate() {
        for section in analysis.sections.iter().filter(|s| !s.is_calibration()) {
            let group = (
                section.workload_spec.clone(),
                section.scaling.clone(),
                section.load.clone(),
            );
            for row in &section.rows {
                table
                    .entry(group.clone())
                    .or_default()
                    .entry((options.series.rank(&row.model), row.model.clone()))
                    .or_default()
                    .entry(row.workers)
                    .or_insert_with(|| vec![None; configs.len()])[c] = Some((section, row));
            }
        }
    }
    let groups: Vec<CompareGroup> = table
        .into_iter()
        .map(|((spec, scaling, load), models)| CompareGroup {
            id: slug(&format!("{spec}-{scaling}-{load}")),
            models: models
                .into_iter()
                .map(|((_, model), by_n)| {
                    compare_model(&configs, &options, &calibrations, &spec, model, &by_n)
                })
                .collect(),
            workload_spec: spec,
            scaling,
            load,
        })
        .collect();
    Comparison {
        plans: plans::plan_lines(&configs, options.baseline),
        configs,
        baseline: options.baseline,
        noise: options.noise,
        groups,
        analyses,
    }
}

/// One model of a group across configurations.
fn compare_model(
    configs: &[Configuration],
    options: &CompareOptions,
    calibrations: &[Option<f64>],
    spec: &str,
    model: String,
    by_n: &BTreeMap<u32, Vec<Found<'_>>>,
) -> CompareModel {
    let rows = by_n
        .iter()
        .map(|(&workers, found)| CompareRow {
            workers,
            cells: (0..configs.len())
                .map(|c| {
                    let mut cell = compare_cell(options, calibrations, found, c);
                    if !cell.present {
                        cell.missing =
                            Some(plans::missing_reason(&configs[c], spec, &model, workers));
                    }
                    cell
                })
                .collect(),
        })
        .collect();
    // Each configuration's curve, from its section of this group.
    let curves = (0..configs.len())
        .map(|c| {
            let (section, _) = by_n.values().find_map(|found| found[c])?;
            section.models.iter().find(|m| m.model == model).cloned()
        })
        .collect();
    let matched_workers = by_n
        .iter()
        .rev()
        .find(|(_, found)| {
            found
                .iter()
                .all(|f| f.is_some_and(|(_, row)| !row.ok_throughputs_ops_s.is_empty()))
        })
        .map(|(&n, _)| n);
    let spectra = configs
        .iter()
        .enumerate()
        .map(|(c, config)| {
            let n = matched_workers?;
            let (section, _) = by_n.get(&n)?[c]?;
            let trials: Vec<&Record> = config
                .records
                .iter()
                .filter(|r| {
                    r.workload.spec == section.workload_spec
                        && r.scaling == section.scaling
                        && r.load == section.load
                        && r.model == model
                        && r.workers == n
                })
                .collect();
            crate::analysis::spectrum(&model, n, &trials)
        })
        .collect();
    CompareModel {
        model,
        rows,
        curves,
        spectra,
        matched_workers,
    }
}

/// Configuration `c`'s cell of one row, against the baseline's.
fn compare_cell(
    options: &CompareOptions,
    calibrations: &[Option<f64>],
    found: &[Found<'_>],
    c: usize,
) -> CompareCell {
    let Some((section, row)) = found[c] else {
        return CompareCell {
            present: false,
            missing: None,
            status: None,
            throughput_ops_s: None,
            ratio: None,
            normalised_ratio: None,
            change: None,
            time_split: None,
            top_wait: None,
        };
    };
    let base = found[options.baseline].map(|(_, row)| row);
    let ratio =
        base.and_then(|b| ratio_interval(&row.ok_throughputs_ops_s, &b.ok_throughputs_ops_s));
    let calibration = match (calibrations[c], calibrations[options.baseline]) {
        (Some(own), Some(base)) if base > 0.0 => Some(own / base),
        _ => None,
    };
    // Disturbed trials are left out where enough are clean; where too few
    // are, on either side, the cell gets no verdict.
    let disturbed = !row.clean_figures() || base.is_some_and(|b| !b.clean_figures());
    let split = section
        .models
        .iter()
        .find(|m| m.model == row.model)
        .and_then(|m| m.time_split.iter().find(|s| s.n == row.workers));
    CompareCell {
        present: true,
        missing: None,
        status: Some(row.status),
        throughput_ops_s: row.throughput_ops_s,
        ratio,
        normalised_ratio: ratio.zip(calibration).map(|(r, k)| r.point / k),
        change: (c != options.baseline)
            .then(|| {
                if disturbed {
                    Some(Change::NotComparable)
                } else {
                    ratio.map(|r| Change::of(r, options.noise))
                }
            })
            .flatten(),
        time_split: split.map(|s| [s.user + s.system, s.runqueue, s.blocked]),
        top_wait: split
            .and_then(|s| s.waits.as_ref()?.sites.first())
            .map(|site| (site.share_of_time, crate::waits::site_phrase(site))),
    }
}

impl Comparison {
    /// The host table: (field, each configuration's value, whether it
    /// differs from the baseline's), in the report's own wording.
    pub fn host_rows(&self) -> Vec<(String, Vec<String>, Vec<bool>)> {
        let per_config: Vec<Vec<crate::host_view::HostRow>> = self
            .configs
            .iter()
            .zip(&self.analyses)
            .map(|(config, analysis)| crate::host_view::host_rows(&config.host, analysis))
            .collect();
        let base = &per_config[self.baseline];
        base.iter()
            .enumerate()
            .map(|(i, row)| {
                let values: Vec<String> = per_config
                    .iter()
                    .map(|rows| rows[i].value.clone())
                    .collect();
                let differs = values
                    .iter()
                    .map(|v| row.compared && *v != row.value)
                    .collect();
                (row.field.to_string(), values, differs)
            })
            .collect()
    }

    /// Every cell marked slower than the baseline: (group, model, workers,
    /// configuration name).
    pub fn regressions(&self) -> Vec<(String, String, u32, String)> {
        let mut out = Vec::new();
        for group in &self.groups {
            for model in &group.models {
                for row in &model.rows {
                    for (c, cell) in row.cells.iter().enumerate() {
                        if cell.change == Some(Change::Slower) {
                            out.push((
                                group.workload_spec.clone(),
                                model.model.clone(),
                                row.workers,
                                self.configs[c].name.clone(),
                            ));
                        }
                    }
                }
            }
        }
        out
    }
}
