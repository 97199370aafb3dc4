//! Comparing results folders: configurations side by side, matched cells,
//! throughput ratios against a baseline with bootstrap intervals, change
//! detection, and calibration-normalised ratios.
//!
//! Each folder is a *configuration*, named by its `--label` or else by host
//! and date; a folder recorded with several placements gives one
//! configuration per placement, so `--pin none` and `--pin compact` compare
//! like two machines. Cells are matched on (workload spec, scaling, load,
//! model, workers); a cell missing from a configuration is shown as missing.
//!
//! A change counts only when the bootstrap 95% interval of the throughput
//! ratio excludes 1 *and* the ratio is beyond the noise threshold, as
//! criterion decides. The `cpu/calibrate` reference cell of each
//! configuration gives its single-core speed; dividing by it compares
//! machines of different clock speeds per core and per cycle.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::analysis::{analyse, Analysis, ModelCurve, Spectrum};
use crate::folder::ResultsFolder;
use crate::schema::{Host, Record, SeriesOrder, Status, CALIBRATION_WORKLOAD};
use crate::slug::slug;
use crate::stats::{median, ratio_interval, Estimate, VERDICT_COVERAGE};

/// One configuration: a folder, or one placement of a folder.
#[derive(Debug, Clone)]
pub struct Configuration {
    /// Unique display name.
    pub name: String,
    /// The folder it was read from.
    pub source: std::path::PathBuf,
    /// Its machine.
    pub host: Host,
    /// The placement, when the folder had several.
    pub placement: Option<String>,
    /// Its records (only those of `placement`, if set).
    pub records: Vec<Record>,
}

impl Configuration {
    /// Throughput of the `cpu/calibrate` reference cell, ops/s: the best
    /// of its trials. A neighbour on a shared machine only ever slows a
    /// trial down, so the fastest trial is the steadiest estimate of what
    /// one core can do.
    pub fn calibration_ops_s(&self) -> Option<f64> {
        self.records
            .iter()
            .filter(|r| r.workload.id == CALIBRATION_WORKLOAD && r.status == Status::Ok)
            .map(|r| r.throughput_ops_s)
            .fold(None, |best: Option<f64>, t| {
                Some(best.map_or(t, |b| b.max(t)))
            })
    }
}

/// Splits folders into configurations and names them uniquely. Takes the
/// folders, so their records move rather than being copied: a comparison
/// of big folders costs what the folders cost.
pub fn configurations(folders: Vec<ResultsFolder>) -> Vec<Configuration> {
    let mut configs: Vec<Configuration> = Vec::new();
    for folder in folders {
        // Stable across runs, for the history a benchmarking service keeps
        // by name: the label, or else the host name, never the date.
        let base = folder
            .host
            .label
            .clone()
            .unwrap_or_else(|| folder.host.hostname.clone());
        let placements: BTreeSet<String> = folder
            .records
            .iter()
            .filter(|r| r.workload.id != CALIBRATION_WORKLOAD)
            .map(|r| r.placement.strategy.clone())
            .collect();
        if placements.len() <= 1 {
            configs.push(Configuration {
                name: base,
                source: folder.dir,
                host: folder.host,
                placement: None,
                records: folder.records,
            });
            continue;
        }
        // Calibration belongs to every placement; everything else to its own.
        let (calibration, measured): (Vec<Record>, Vec<Record>) = folder
            .records
            .into_iter()
            .partition(|r| r.workload.id == CALIBRATION_WORKLOAD);
        let mut by_placement: BTreeMap<String, Vec<Record>> = BTreeMap::new();
        for record in measured {
            by_placement
                .entry(record.placement.strategy.clone())
                .or_default()
                .push(record);
        }
        for (placement, mut records) in by_placement {
            records.extend(calibration.iter().cloned());
            configs.push(Configuration {
                name: format!("{base} (pin {placement})"),
                source: folder.dir.clone(),
                host: folder.host.clone(),
                records,
                placement: Some(placement),
            });
        }
    }
    // Two folders with one label (or a folder compared with itself) still
    // get names that tell them apart.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for config in &mut configs {
        let count = seen.entry(config.name.clone()).or_insert(0);
        *count += 1;
        if *count > 1 {
            config.name = format!("{} #{count}", config.name);
        }
    }
    configs
}

/// Faster, slower or unchanged against the baseline, or why no verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// The interval (covering 90% or more) excludes 1 and the ratio is
    /// above 1 + noise.
    Faster,
    /// The interval (covering 90% or more) excludes 1 and the ratio is
    /// below 1 - noise.
    Slower,
    /// Neither.
    Unchanged,
    /// The trials on either side are too few for an interval covering
    /// 90%: no verdict either way.
    TooFewTrials,
    /// A disturbed trial on either side: never faster or slower.
    NotComparable,
}

impl Change {
    /// Decides a change from a throughput ratio and its interval.
    pub fn of(ratio: Estimate, noise: f64) -> Change {
        if !ratio.covers_at_least(VERDICT_COVERAGE) {
            Change::TooFewTrials
        } else if ratio.low > 1.0 && ratio.point > 1.0 + noise {
            Change::Faster
        } else if ratio.high < 1.0 && ratio.point < 1.0 - noise {
            Change::Slower
        } else {
            Change::Unchanged
        }
    }

    /// The words shown in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Faster => "faster",
            Change::Slower => "slower",
            Change::Unchanged => "unchanged",
            Change::TooFewTrials => "too few trials to tell",
            Change::NotComparable => "not comparable",
        }
    }
}

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
}

type GroupKey = (String, String, String);

/// How one row of the host table reads a configuration.
type HostField = Box<dyn Fn(&Configuration) -> String>;

/// Compares configurations.
pub fn compare(configs: Vec<Configuration>, options: CompareOptions) -> Comparison {
    let analyses: Vec<Analysis> = configs
        .iter()
        .map(|c| analyse(&c.host, &c.records, &options.series))
        .collect();
    let calibrations: Vec<Option<f64>> = configs
        .iter()
        .map(Configuration::calibration_ops_s)
        .collect();

    // (group) -> model -> workers -> per config: ok throughputs, trials seen
    type Cells = BTreeMap<u32, Vec<Option<Vec<f64>>>>;
    let mut table: BTreeMap<GroupKey, BTreeMap<(usize, String), Cells>> = BTreeMap::new();
    let mut statuses: BTreeMap<(GroupKey, String, u32, usize), Status> = BTreeMap::new();
    let mut disturbed: BTreeSet<(GroupKey, String, u32, usize)> = BTreeSet::new();
    let mut splits: BTreeMap<(GroupKey, String, u32, usize), [Vec<f64>; 3]> = BTreeMap::new();
    for (c, config) in configs.iter().enumerate() {
        for record in config
            .records
            .iter()
            .filter(|r| r.workload.id != CALIBRATION_WORKLOAD)
        {
            let group = (
                record.workload.spec.clone(),
                record.scaling.clone(),
                record.load.clone(),
            );
            let rank = options.series.rank(&record.model);
            let slot = table
                .entry(group.clone())
                .or_default()
                .entry((rank, record.model.clone()))
                .or_default()
                .entry(record.workers)
                .or_insert_with(|| vec![None; configs.len()]);
            let values = slot[c].get_or_insert_with(Vec::new);
            if record.status == Status::Ok {
                values.push(record.throughput_ops_s);
                if let Some(b) = &record.breakdown {
                    let split = splits
                        .entry((group.clone(), record.model.clone(), record.workers, c))
                        .or_default();
                    split[0].push(b.on_cpu_fraction);
                    split[1].push(b.runqueue_fraction);
                    split[2].push(b.blocked_fraction);
                }
            }
            if record.machine.as_ref().is_some_and(|m| m.disturbed) {
                disturbed.insert((group.clone(), record.model.clone(), record.workers, c));
            }
            let status = statuses
                .entry((group, record.model.clone(), record.workers, c))
                .or_insert(Status::Ok);
            if record.status != Status::Ok {
                *status = record.status;
            }
        }
    }

    let groups = table
        .into_iter()
        .map(|((spec, scaling, load), models)| {
            let id = slug(&format!("{spec}-{scaling}-{load}"));
            let models = models
                .into_iter()
                .map(|((_, model), by_n)| {
                    let rows: Vec<CompareRow> = by_n
                        .iter()
                        .map(|(&workers, per_config)| {
                            let base = per_config[options.baseline].as_ref();
                            let cells = per_config
                                .iter()
                                .enumerate()
                                .map(|(c, values)| {
                                    let status = statuses
                                        .get(&(
                                            (spec.clone(), scaling.clone(), load.clone()),
                                            model.clone(),
                                            workers,
                                            c,
                                        ))
                                        .copied();
                                    let Some(values) = values else {
                                        return CompareCell {
                                            present: false,
                                            status: None,
                                            throughput_ops_s: None,
                                            ratio: None,
                                            normalised_ratio: None,
                                            change: None,
                                            time_split: None,
                                        };
                                    };
                                    let ratio = base.and_then(|b| ratio_interval(values, b));
                                    let calibration =
                                        match (calibrations[c], calibrations[options.baseline]) {
                                            (Some(own), Some(base)) if base > 0.0 => {
                                                Some(own / base)
                                            }
                                            _ => None,
                                        };
                                    let time_split = splits
                                        .get(&(
                                            (spec.clone(), scaling.clone(), load.clone()),
                                            model.clone(),
                                            workers,
                                            c,
                                        ))
                                        .and_then(|[on, rq, blocked]| {
                                            Some([median(on)?, median(rq)?, median(blocked)?])
                                        });
                                    CompareCell {
                                        time_split,
                                        present: true,
                                        status,
                                        throughput_ops_s: crate::stats::median_interval(values),
                                        ratio,
                                        normalised_ratio: ratio
                                            .zip(calibration)
                                            .map(|(r, k)| r.point / k),
                                        change: (c != options.baseline)
                                            .then(|| {
                                                let key = |c| {
                                                    (
                                                        (
                                                            spec.clone(),
                                                            scaling.clone(),
                                                            load.clone(),
                                                        ),
                                                        model.clone(),
                                                        workers,
                                                        c,
                                                    )
                                                };
                                                if disturbed.contains(&key(c))
                                                    || disturbed.contains(&key(options.baseline))
                                                {
                                                    return Some(Change::NotComparable);
                                                }
                                                ratio.map(|r| Change::of(r, options.noise))
                                            })
                                            .flatten(),
                                    }
                                })
                                .collect();
                            CompareRow { workers, cells }
                        })
                        .collect();
                    let curves: Vec<Option<ModelCurve>> = analyses
                        .iter()
                        .map(|a| {
                            a.sections
                                .iter()
                                .find(|s| {
                                    s.workload_spec == spec
                                        && s.scaling == scaling
                                        && s.load == load
                                })
                                .and_then(|s| s.models.iter().find(|m| m.model == model).cloned())
                        })
                        .collect();
                    let matched_workers = by_n
                        .iter()
                        .rev()
                        .find(|(_, per_config)| {
                            per_config
                                .iter()
                                .all(|v| v.as_ref().is_some_and(|v| !v.is_empty()))
                        })
                        .map(|(&n, _)| n);
                    let spectra = configs
                        .iter()
                        .map(|config| {
                            let n = matched_workers?;
                            let trials: Vec<&Record> = config
                                .records
                                .iter()
                                .filter(|r| {
                                    r.workload.spec == spec
                                        && r.scaling == scaling
                                        && r.load == load
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
                })
                .collect();
            CompareGroup {
                id,
                workload_spec: spec,
                scaling,
                load,
                models,
            }
        })
        .collect();

    Comparison {
        configs,
        baseline: options.baseline,
        noise: options.noise,
        groups,
    }
}

impl Comparison {
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

    /// (field, value per configuration, whether it differs from the
    /// baseline) for the host table.
    pub fn host_rows(&self) -> Vec<(String, Vec<String>, Vec<bool>)> {
        let fields: Vec<(&str, HostField)> = vec![
            (
                "CPU",
                Box::new(|c: &Configuration| c.host.cpu_brand.clone()),
            ),
            (
                "cores",
                Box::new(|c: &Configuration| {
                    format!(
                        "{} physical, {} logical",
                        c.host.physical_cores.map_or("?".into(), |p| p.to_string()),
                        c.host.logical_cores
                    )
                }),
            ),
            (
                "cores available to the run",
                Box::new(|c: &Configuration| crate::format::cpu_list(&c.host.available_cores)),
            ),
            (
                "SMT",
                Box::new(|c: &Configuration| if c.host.smt { "on" } else { "off" }.to_string()),
            ),
            (
                "memory",
                Box::new(|c: &Configuration| {
                    format!(
                        "{:.1} GiB",
                        c.host.memory_bytes as f64 / (1u64 << 30) as f64
                    )
                }),
            ),
            ("OS", Box::new(|c: &Configuration| c.host.os.clone())),
            (
                "kernel",
                Box::new(|c: &Configuration| c.host.kernel.clone()),
            ),
            (
                "clock source",
                Box::new(|c: &Configuration| {
                    c.host.clocksource.clone().unwrap_or_else(|| "?".into())
                }),
            ),
            (
                "corebench",
                Box::new(|c: &Configuration| c.host.corebench_version.clone()),
            ),
            (
                "pinning",
                Box::new(|c: &Configuration| {
                    c.placement.clone().unwrap_or_else(|| {
                        let set: BTreeSet<&str> = c
                            .records
                            .iter()
                            .filter(|r| r.workload.id != CALIBRATION_WORKLOAD)
                            .map(|r| r.placement.strategy.as_str())
                            .collect();
                        set.into_iter().collect::<Vec<_>>().join(", ")
                    })
                }),
            ),
            (
                "calibration (cpu/calibrate, ops/s)",
                Box::new(|c: &Configuration| {
                    c.calibration_ops_s()
                        .map_or("not run".to_string(), crate::format::format_rate)
                }),
            ),
            (
                "host",
                Box::new(|c: &Configuration| c.host.hostname.clone()),
            ),
            (
                "captured",
                Box::new(|c: &Configuration| c.host.captured_at.clone()),
            ),
        ];
        fields
            .into_iter()
            .map(|(name, value)| {
                let values: Vec<String> = self.configs.iter().map(&value).collect();
                let base = values[self.baseline].clone();
                let differs = values.iter().map(|v| *v != base).collect();
                (name.to_string(), values, differs)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_needs_both_the_interval_and_the_threshold() {
        let e = |point, low, high| Estimate {
            point,
            low,
            high,
            coverage: Some(0.95),
        };
        assert_eq!(Change::of(e(1.25, 1.2, 1.3), 0.02), Change::Faster);
        assert_eq!(Change::of(e(0.8, 0.75, 0.85), 0.02), Change::Slower);
        // Interval includes 1.
        assert_eq!(Change::of(e(1.25, 0.95, 1.5), 0.02), Change::Unchanged);
        // Significant but within the noise threshold.
        assert_eq!(Change::of(e(1.01, 1.005, 1.015), 0.02), Change::Unchanged);
    }
}
