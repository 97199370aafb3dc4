//! Configurations: each results folder, or each placement of a folder
//! recorded with several, under a unique, stable name (its `--label` or
//! host name, never a date: a benchmarking service keeps one history per
//! name).

use std::collections::{BTreeMap, BTreeSet};

use crate::folder::ResultsFolder;
use crate::schema::{Host, Record, CALIBRATION_WORKLOAD};

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
    /// The resolved plan its folder ran, if the folder says.
    pub plan: Option<crate::schema::PlanFile>,
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
                plan: folder.plan,
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
                plan: folder.plan.clone(),
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
