//! Plan files (`PLAN.toml`, and `DIR/plan.toml` in every results folder):
//! an experiment as a file anyone can run again. A file given to
//! `corebench run` may leave keys out (the profile's defaults fill them);
//! the `plan.toml` a run writes is *resolved*: every key present, every
//! `auto` turned into the worker counts it chose on that machine, so that
//! `run --same-as DIR` repeats it exactly and `compare` can tell two runs
//! of one plan from two runs of different plans ([`differences`]).
//!
//! Values are spelled as on the command line (`"open:1000"`, `"cores=0,1"`,
//! `"threads=python3 primes.py {workers}"`), so one parser checks both.

use serde::{Deserialize, Serialize};

/// One experiment: what `corebench run` takes, as a file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    /// A title, shown at the top of the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the experiment asks, in a sentence or a paragraph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    /// What to look at in the report to answer it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub look_at: Option<String>,
    /// `quick`, `default` or `full`: the defaults of `trials` and
    /// `target_trial_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Workload specs, `ID[:key=value,...]`. Left out: every workload of
    /// the suite, or none when the plan has `exec` programs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workloads: Option<Vec<String>>,
    /// Execution models, or `["all"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub models: Option<Vec<String>>,
    /// Worker counts of every workload: `"auto"` or a list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<WorkerCounts>,
    /// Worker counts of the IO-bound workloads (default: `workers`, or
    /// past the cores under `auto`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub io_workers: Option<WorkerCounts>,
    /// Placements: `none`, `compact`, `scatter`, `cores=LIST`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<Vec<String>>,
    /// The cores the whole run may use, e.g. `"0-3"` (default: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cores: Option<String>,
    /// `strong` or `weak`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling: Option<String>,
    /// Measured trials per cell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trials: Option<u32>,
    /// Warm-up trials per cell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup: Option<u32>,
    /// A fixed op count instead of calibrating to `target_trial_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ops: Option<u64>,
    /// How long a trial at one worker should take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_trial_ms: Option<u64>,
    /// OS threads of the tokio runtime (default: min(workers, cores)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_threads: Option<usize>,
    /// A trial running longer is abandoned as `timeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial_timeout_s: Option<f64>,
    /// `per-op` or `batch`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// Whether the `cpu/calibrate` reference cell runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<bool>,
    /// `closed` or `open:RATE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<String>,
    /// The seed of the trial order (left out: a new one each run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Samples per CPU-second for flamegraphs (left out: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flamegraph_hz: Option<u32>,
    /// Wall-clock samples per second per thread (left out: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_profile_hz: Option<u32>,
    /// What a disturbed trial does, and what counts as one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disturbance: Option<DisturbanceSettings>,
    /// Programs measured as `corebench exec` measures them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exec: Vec<ExecProgram>,
}

/// `"auto"` or explicit counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum WorkerCounts {
    /// Explicit counts.
    Counts(Vec<u64>),
    /// A rule; only `auto` is one.
    Rule(String),
}

/// The `[disturbance]` table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisturbanceSettings {
    /// `retry`, `flag` or `ignore`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<String>,
    /// Re-runs of one disturbed trial at most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
    /// Thresholds, as `--disturbance` spells them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// One `[[exec]]` program: `corebench exec`'s options, as a table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecProgram {
    /// Records say `exec/NAME`.
    pub name: String,
    /// `LABEL=COMMAND`, one per model column.
    pub variants: Vec<String>,
    /// Worker counts (default: the plan's `workers`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<WorkerCounts>,
    /// Runs per variant and worker count (default: 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trials: Option<u32>,
    /// Unrecorded runs first (default: 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup: Option<u32>,
    /// Once per variant before its first run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub setup: Vec<String>,
    /// Before every run, outside the timed region.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prepare: Vec<String>,
    /// Once per variant after its last run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cleanup: Vec<String>,
    /// `NAME=V1,V2,...`, each set its own section.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<String>,
    /// The program mostly waits on IO.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub io_bound: bool,
    /// A run longer than this is killed (default: 600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial_timeout_s: Option<f64>,
}

impl PlanFile {
    /// The title, or what stands in for one.
    pub fn title_or<'a>(&'a self, otherwise: &'a str) -> &'a str {
        self.title.as_deref().unwrap_or(otherwise)
    }
}

/// The keys whose values differ between two plans, each as
/// `key: A vs B` (with `-` for a key one plan leaves out): the keys the
/// first plan gives, by name, then those only the second gives. The title and the texts are not part of what runs.
pub fn differences(a: &PlanFile, b: &PlanFile) -> Vec<String> {
    let table = |plan: &PlanFile| {
        let mut plan = plan.clone();
        plan.title = None;
        plan.question = None;
        plan.look_at = None;
        serde_json::to_value(&plan).unwrap_or_default()
    };
    let (a, b) = (table(a), table(b));
    let empty = serde_json::Map::new();
    let (a, b) = (
        a.as_object().unwrap_or(&empty),
        b.as_object().unwrap_or(&empty),
    );
    let mut keys: Vec<&String> = a.keys().collect();
    keys.extend(b.keys().filter(|k| !a.contains_key(*k)));
    let show = |value: Option<&serde_json::Value>| match value {
        None => "-".to_string(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| format!("{k}: {} vs {}", show(a.get(k)), show(b.get(k))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_name_each_key_that_differs_and_ignore_the_texts() {
        let a = PlanFile {
            title: Some("A".into()),
            trials: Some(5),
            workers: Some(WorkerCounts::Counts(vec![1, 2])),
            ..PlanFile::default()
        };
        let mut b = a.clone();
        b.title = Some("B".into());
        assert!(differences(&a, &b).is_empty());
        b.trials = Some(3);
        b.cores = Some("0".into());
        assert_eq!(
            differences(&a, &b),
            ["trials: 5 vs 3", "cores: - vs 0"],
            "{:?}",
            differences(&a, &b)
        );
    }
}
