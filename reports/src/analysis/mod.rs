//! From records to the scaling story: per workload section, per model, the
//! speedup curve with intervals, the fitted laws and a one-line reading.
//!
//! A *section* is one workload spec under one scaling mode, load and
//! placement; within it every model has a curve over its worker counts.
//! Speedup at n is T(1)/T(n) against the same model at one worker (or
//! n T(1)/T(n) for weak scaling), with an interval from resampling the
//! trials on both sides. Fits use the medians; the Amdahl and Gustafson
//! fractions get bootstrap intervals from refitting resampled trials.
//! Failed cells and cells with a single point are skipped with a reason.
//!
//! - this file: [`analyse`], sections and their rows;
//! - [`views`]: what a section holds (curves, points, rows, spectra,
//!   balance), the types the page, the charts and the exports read;
//! - [`readings`]: the fitted fractions with their intervals, and the
//!   reading of IO-bound work;
//! - [`laws`]: the law each model's reading uses, chosen on evidence, and
//!   the plain reading it gives;
//! - [`knees`]: where a curve's slope falls, and the cause the evidence
//!   names;
//! - [`fitted`]: every fit as data for scripts (`report/fits.json`);
//! - `fit_text`: the fits in words, for the Fits tables;
//! - [`spectra`]: latency spectra from merged histograms, and balance;
//! - `rows`: a section's table of cells, one row per model and workers;
//! - `time`: where the workers' time went, per cell.

mod fit_text;
pub mod fitted;
pub mod knees;
pub mod laws;
pub mod readings;
mod rows;
pub mod spectra;
mod time;
pub mod views;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cells::CellKey;
use crate::fits::{fit_usl, karp_flatt, Point};
use crate::schema::{Host, Record, Rgb, SeriesOrder, Status};
use crate::series::Marker;
use crate::slug::unique_slug;
use crate::stats::{median, median_interval, ratio_interval, Estimate};
use readings::{fit_fractions, io_reading};
use rows::cell_row;
pub use rows::{measured_trials, MIN_CLEAN_TRIALS};
use spectra::balance_of;
pub use spectra::{merged_histogram, spectrum, spectrum_of, uncorrected_spectrum};
use time::{blocking_in_tasks, lost_speedup, on_cpu_ns_per_op, time_split};
pub use views::{
    AmdahlSummary, Balance, CellRow, CurvePoint, Fitted, GustafsonSummary, ModelCurve, OpenRow,
    Spectrum, TimeSplit, FLOOR_WARNING_RATIO, RATE_SHORTFALL,
};

/// Everything the report shows, computed once.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    /// One per workload spec x scaling x load x placement.
    pub sections: Vec<Section>,
    /// Cores the run could use (its affinity mask, e.g. after `--cores`),
    /// else the host's logical cores: where oversubscription starts.
    pub logical_cores: u32,
}

impl Analysis {
    /// The host's single-core speed: the median throughput of the
    /// `cpu/calibrate` reference cell's ok trials (under `seq`, at one
    /// worker), ops/s, with its interval. The one definition: the page's
    /// host table shows it, and a comparison divides its ratios by it.
    pub fn single_core_speed(&self) -> Option<Estimate> {
        self.sections
            .iter()
            .filter(|s| s.is_calibration())
            .flat_map(|s| &s.rows)
            .find_map(|r| r.throughput_ops_s)
    }
}

/// One workload under one scaling mode, load and placement.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// A slug for anchors and chart file names.
    pub id: String,
    /// Workload id.
    pub workload_id: String,
    /// The canonical spec.
    pub workload_spec: String,
    /// `strong` or `weak`.
    pub scaling: String,
    /// `closed` or `open:RATE`.
    pub load: String,
    /// Placement strategy.
    pub placement: String,
    /// One per model present, in report order ([`SeriesOrder`]).
    pub models: Vec<ModelCurve>,
    /// The table of cells.
    pub rows: Vec<CellRow>,
    /// Fitted curves are drawn up to here: 64, or the core count if higher.
    pub projection_max_n: u32,
    /// Latency spectra at each model's largest worker count.
    #[serde(skip)]
    pub spectra: Vec<Spectrum>,
    /// Per-worker op counts at each model's largest worker count.
    pub balance: Vec<Balance>,
    /// CPU-bound work under closed load: Amdahl, the USL and the ideal line
    /// flat past the cores apply (IO-bound or open-load work: throughput
    /// scaling and Little's law instead).
    pub cpu_bound: bool,
    /// The order, colours and markers of the series the caller named.
    #[serde(skip)]
    pub series: SeriesOrder,
}

impl Section {
    /// The colour of `model`'s series in this section: a known model's
    /// own, or one by its position among the section's models.
    pub fn colour_of(&self, model: &str) -> Rgb {
        self.series.colour(model, self.position_of(model))
    }

    /// The marker of `model`'s series in this section, as its colour.
    pub fn marker_of(&self, model: &str) -> Marker {
        self.series.marker(model, self.position_of(model))
    }

    fn position_of(&self, model: &str) -> usize {
        self.models
            .iter()
            .position(|c| c.model == model)
            .unwrap_or(0)
    }

    /// Whether this is the `cpu/calibrate` reference cell: the host's
    /// single-core speed, shown as a line of the host table, not as a
    /// section, in the summary or as charts.
    pub fn is_calibration(&self) -> bool {
        self.workload_id == crate::schema::CALIBRATION_WORKLOAD
    }

    /// Whether no model was measured at two or more worker counts: then a
    /// scaling chart would hold single dots, and none is drawn.
    pub fn single_point(&self) -> bool {
        self.models.iter().all(|m| m.points.len() < 2)
    }
}

/// Analyses every record of a folder; `series` names the models, in
/// report order, with their colours.
pub fn analyse(host: &Host, records: &[Record], series: &SeriesOrder) -> Analysis {
    let mut groups: BTreeMap<(String, String, String, String), Vec<&Record>> = BTreeMap::new();
    for record in records {
        let key = CellKey::of(record);
        groups
            .entry((key.workload, key.scaling, key.load, key.placement))
            .or_default()
            .push(record);
    }
    let cores = usable_cores(host);
    let mut used_ids: Vec<String> = Vec::new();
    let sections = groups
        .into_iter()
        .map(|((spec, scaling, load, placement), records)| {
            let id = unique_slug(&format!("{spec}-{scaling}-{placement}"), &mut used_ids);
            // Projections go at most to 4x the largest count measured.
            let largest = records
                .iter()
                .filter(|r| r.status == Status::Ok)
                .map(|r| r.workers)
                .max()
                .unwrap_or(1);
            let projection_max_n = largest.saturating_mul(PROJECTION_FACTOR).max(2);
            let shape = SectionShape {
                projection_max_n,
                cores,
                host: knees::HostShape::of(host, cores),
                series,
            };
            analyse_section(id, spec, scaling, load, placement, &records, shape)
        })
        .collect();
    Analysis {
        sections,
        logical_cores: cores,
    }
}

/// The cores a run could use: its affinity mask when recorded (a run
/// restricted with `--cores 0` has one), else the host's logical cores;
/// fewer when a cgroup quota allows fewer (a container limited to 2 CPUs
/// on a 64-core host has 2).
pub fn usable_cores(host: &Host) -> u32 {
    let mask = if host.available_cores.is_empty() {
        host.logical_cores.max(1)
    } else {
        host.available_cores.len() as u32
    };
    host.cgroup_cpu_quota_cores
        .map_or(mask, |quota| mask.min(quota.max(1)))
}

/// How far past the largest measured worker count a curve is drawn.
pub const PROJECTION_FACTOR: u32 = 4;

/// What kind of work a section measured, which decides the readings that
/// apply: Amdahl and the USL describe CPU-bound work under closed load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WorkKind {
    Cpu,
    Io,
    Open,
}

impl WorkKind {
    fn of(records: &[&Record], load: &str) -> WorkKind {
        if load.starts_with("open") {
            return WorkKind::Open;
        }
        let io_bound = match records.iter().find_map(|r| r.workload.io_bound) {
            Some(flag) => flag,
            // Older records do not say: CPU utilisation at one worker does.
            None => {
                let at_one: Vec<f64> = records
                    .iter()
                    .filter(|r| r.workers == 1 && r.status == Status::Ok)
                    .filter_map(|r| r.cpu_utilisation())
                    .collect();
                median(&at_one).is_some_and(|u| u < 0.5)
            }
        };
        if io_bound {
            WorkKind::Io
        } else {
            WorkKind::Cpu
        }
    }

    fn why_not_fitted(self) -> Option<&'static str> {
        match self {
            WorkKind::Cpu => None,
            WorkKind::Io => {
                Some("not fitted: IO-bound work (Amdahl and the USL describe CPU-bound work)")
            }
            WorkKind::Open => {
                Some("not fitted: open load (the rate, not the workers, sets the throughput)")
            }
        }
    }
}

/// Limits that apply to every section of a host's folder.
#[derive(Debug, Clone, Copy)]
struct SectionShape<'a> {
    /// Fitted curves are drawn up to here.
    projection_max_n: u32,
    /// Fits use worker counts up to here: past the core count, n workers
    /// no longer have n cores, which is not what the laws describe.
    cores: u32,
    /// Where the machine's shape may bend a curve.
    host: knees::HostShape,
    /// The order and colours of the named series.
    series: &'a SeriesOrder,
}

fn analyse_section(
    id: String,
    spec: String,
    scaling: String,
    load: String,
    placement: String,
    records: &[&Record],
    shape: SectionShape<'_>,
) -> Section {
    let SectionShape {
        projection_max_n,
        cores,
        host,
        series,
    } = shape;
    // model -> workers -> trials
    let mut cells: BTreeMap<(usize, String), BTreeMap<u32, Vec<&Record>>> = BTreeMap::new();
    for record in records {
        cells
            .entry((series.rank(&record.model), record.model.clone()))
            .or_default()
            .entry(record.workers)
            .or_default()
            .push(record);
    }
    let weak = crate::schema::is_weak_scaling(&scaling);
    let kind = WorkKind::of(records, &load);
    let ok_walls = |trials: &[&Record]| -> Vec<f64> {
        trials
            .iter()
            .filter(|r| r.status == Status::Ok)
            .map(|r| r.wall_ns as f64)
            .collect()
    };
    let seq_walls: Vec<f64> = cells
        .iter()
        .find(|((_, model), _)| model == "seq")
        .and_then(|(_, by_n)| by_n.get(&1))
        .map(|trials| ok_walls(&measured_trials(trials)))
        .unwrap_or_default();

    let mut models = Vec::new();
    let mut rows = Vec::new();
    let mut spectra = Vec::new();
    let mut balance = Vec::new();
    for ((_, model), by_n) in &cells {
        // Every figure below comes from the trials a cell is measured by;
        // the rows count the rest.
        let measured: BTreeMap<u32, Vec<&Record>> = by_n
            .iter()
            .map(|(&n, trials)| (n, measured_trials(trials)))
            .collect();
        let base: Vec<f64> = measured.get(&1).map(|t| ok_walls(t)).unwrap_or_default();
        let speedup_against = |base: &[f64], n: u32, walls: &[f64]| -> Option<Estimate> {
            let ratio = ratio_interval(base, walls)?;
            let scale = if weak { f64::from(n) } else { 1.0 };
            Some(Estimate {
                point: ratio.point * scale,
                low: ratio.low * scale,
                high: ratio.high * scale,
                coverage: ratio.coverage,
            })
        };
        let mut points = Vec::new();
        for (&n, trials) in &measured {
            let walls = ok_walls(trials);
            let speedup = speedup_against(&base, n, &walls);
            let vs_seq = speedup_against(&seq_walls, n, &walls);
            rows.push(cell_row(model, n, &by_n[&n], speedup, vs_seq));
            if walls.is_empty() {
                continue;
            }
            let throughputs: Vec<f64> = trials
                .iter()
                .filter(|r| r.status == Status::Ok)
                .map(|r| r.throughput_ops_s)
                .collect();
            points.push(CurvePoint {
                n,
                speedup,
                efficiency: speedup.map(|s| s.point / f64::from(n)),
                throughput_ops_s: median_interval(&throughputs)
                    .unwrap_or_else(|| Estimate::exact(0.0)),
                karp_flatt: speedup.and_then(|s| karp_flatt(f64::from(n), s.point)),
            });
        }
        if let Some((&n, trials)) = measured.iter().rev().find(|(_, t)| !t.is_empty()) {
            if let Some(spectrum) = spectrum(model, n, trials) {
                spectra.push(spectrum);
            }
            if let Some(spectrum) = uncorrected_spectrum(model, n, trials) {
                spectra.push(spectrum);
            }
            if let Some(b) = balance_of(model, n, trials).filter(|b| b.workers > 1) {
                balance.push(b);
            }
        }

        let trials_by_n: Vec<(u32, Vec<f64>)> = measured
            .iter()
            .filter(|(&n, _)| n <= cores)
            .map(|(&n, trials)| (n, ok_walls(trials)))
            .filter(|(_, walls)| !walls.is_empty())
            .collect();
        let oversubscribed = points.iter().filter(|p| p.n > cores).count();
        let (amdahl, gustafson) = match kind.why_not_fitted() {
            Some(why) => (Fitted::skipped(why), weak.then(|| Fitted::skipped(why))),
            None => fit_fractions(&base, &trials_by_n, weak, model),
        };
        // The USL is fitted to relative capacity, X(n)/X(1) = speedup, so
        // that work, not ops, is compared (a lockstep workload's op count
        // grows with n). Lambda is scaled back to ops/s below.
        let usl_points: Vec<Point> = points
            .iter()
            .filter(|p| p.n <= cores)
            .filter_map(|p| {
                p.speedup.map(|s| Point {
                    n: f64::from(p.n),
                    value: s.point,
                })
            })
            .collect();
        let base_throughput = points
            .iter()
            .find(|p| p.n == 1)
            .map_or(0.0, |p| p.throughput_ops_s.point);
        let usl_of_capacity = match kind.why_not_fitted() {
            Some(why) => Err(why.to_string()),
            None => fit_usl(&usl_points),
        };
        let usl = Fitted::from(
            usl_of_capacity
                .clone()
                .map(|fit| fit.scaled(base_throughput)),
        );
        let vs_seq_at_1 = if model == "seq" {
            None
        } else {
            ratio_interval(&seq_walls, &base)
        };
        let alone_ns_per_op = measured.get(&1).and_then(|t| on_cpu_ns_per_op(t));
        let mut curve = ModelCurve {
            model: model.clone(),
            points,
            amdahl,
            gustafson,
            usl,
            vs_seq_at_1,
            reading: String::new(),
            projectable: false,
            ceiling: None,
            time_split: measured
                .iter()
                .filter_map(|(&n, trials)| time_split(n, trials, alone_ns_per_op))
                .collect(),
            law: None,
            peak: None,
            knees: Vec::new(),
            own_copies: by_n.values().flatten().any(|r| {
                r.workload.shares_state == Some(true)
                    && r.per_worker.iter().any(|w| w.pid != r.parent_pid)
            }),
        };
        if kind == WorkKind::Cpu {
            let test = match (&usl_of_capacity, weak) {
                (Ok(u), false) => laws::amdahl_beside_usl(&mut curve, &usl_points, u),
                _ => None,
            };
            curve.law = laws::choose(&curve, test);
            curve.knees = knees::knees(&curve, host);
        }
        let counts_within_cores = trials_by_n.len();
        curve.reading = match kind {
            WorkKind::Cpu => {
                laws::reading(&mut curve, counts_within_cores, cores, projection_max_n)
            }
            WorkKind::Io | WorkKind::Open => io_reading(&curve, by_n),
        };
        for knee in &curve.knees {
            curve.reading = format!("{}; {}", curve.reading, knee.text);
        }
        if let Some(lost) = lost_speedup(&curve, cores) {
            curve.reading = format!("{lost}; {}", curve.reading);
        }
        if let Some(blocking) = blocking_in_tasks(&curve) {
            curve.reading = format!("{blocking}; {}", curve.reading);
        }
        if curve.own_copies {
            curve.reading = format!(
                "not the same program: each of {model}'s worker processes had its own copy of the state this workload shares, so it ran different work; {}",
                curve.reading
            );
        }
        let unsupported = by_n
            .values()
            .flatten()
            .all(|r| r.status == Status::Unsupported);
        if let Some(why) = by_n
            .values()
            .flatten()
            .find_map(|r| crate::format::shown_error(&r.error))
            .filter(|_| unsupported)
        {
            curve.reading = format!("not run: {why}");
        }
        if oversubscribed > 0 {
            curve.reading.push_str(&format!(
                " (fits use worker counts up to the {cores} cores; {oversubscribed} oversubscribed count{} shown but not fitted)",
                if oversubscribed == 1 { " is" } else { "s are" }
            ));
        }
        models.push(curve);
    }
    Section {
        id,
        workload_id: records
            .first()
            .map(|r| r.workload.id.clone())
            .unwrap_or_default(),
        workload_spec: spec,
        scaling,
        load,
        placement,
        models,
        rows,
        projection_max_n,
        spectra,
        balance,
        cpu_bound: kind == WorkKind::Cpu,
        series: series.clone(),
    }
}

#[cfg(test)]
mod tests;
