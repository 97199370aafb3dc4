//! Plan files: reading a `PLAN.toml` or a shipped plan (`plans/`, built
//! into the binary), turning it into a [`PlanInput`], and writing the
//! resolved plan a run ran (`DIR/plan.toml`, its SHA-256 in `host.json`).
//!
//! Every mistake in a file is one line naming the file, the line, the key
//! and the valid values, as a bad flag is ([`Loaded::error`]).

use std::path::Path;
use std::time::Duration;

use clap::ValueEnum;
use reports::schema::plan::{DisturbanceSettings, ExecProgram, PlanFile, WorkerCounts};
use sha2::{Digest, Sha256};
use workloads::Registry;

use super::{parse_models, parse_trial_timeout, parse_workers, Plan, PlanInput, Profile};
use crate::disturbance::{
    parse_disturbance_rule, spell_disturbance_rule, DisturbancePolicy, OnDisturbance,
};
use crate::error::UsageError;
use crate::placement::{parse_core_list, parse_placement_list};
use crate::recorder::Recording;
use crate::results::{write_atomically, ResultsError, ResultsWriter};

/// The largest plan file read: far more than any plan needs.
pub const PLAN_FILE_MAX_BYTES: u64 = 1 << 20;

/// A plan shipped with the binary: `corebench run NAME` runs it and
/// `corebench list --plans` shows it.
#[derive(Debug)]
pub struct Shipped {
    /// Its name, the file's name without `.toml`.
    pub name: &'static str,
    /// The file.
    pub text: &'static str,
}

macro_rules! shipped {
    ($($name:literal),* $(,)?) => {
        &[$(Shipped {
            name: $name,
            text: include_str!(concat!("../../../plans/", $name, ".toml")),
        }),*]
    };
}

/// Every plan in `plans/`: the profiles, then the books' experiments.
pub const SHIPPED: &[Shipped] = shipped!(
    "default",
    "quick",
    "full",
    "machines",
    "configs",
    "gil",
    "io-vs-cpu",
    "amdahl",
    "races",
    "deadlock",
    "locks-and-atomics",
    "executors",
    "communication",
    "reactive-streams",
);

/// The shipped plan named `name`.
pub fn shipped(name: &str) -> Option<&'static Shipped> {
    SHIPPED.iter().find(|s| s.name == name)
}

/// A mistake in a plan: the key (`exec[1].variants` for a program's), and
/// what is wrong with its value.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyError {
    /// The key.
    pub key: String,
    /// Which `[[exec]]` table, counting from 0, if the key is in one.
    pub exec: Option<usize>,
    /// What is wrong, and the valid values.
    pub message: String,
}

impl KeyError {
    fn new(key: &str, message: impl std::fmt::Display) -> KeyError {
        KeyError {
            key: key.to_string(),
            exec: None,
            message: message.to_string(),
        }
    }
}

/// A plan file as read: the plan, where it came from, and its text (to
/// find the line of a key).
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The plan.
    pub plan: PlanFile,
    /// The path given, or `plans/NAME.toml` for a shipped one.
    pub source: String,
    text: String,
}

impl Loaded {
    /// Reads `given`: a path, or the name of a shipped plan.
    pub fn read(given: &str) -> Result<Loaded, UsageError> {
        let path = Path::new(given);
        if !path.exists() {
            if let Some(plan) = shipped(given) {
                return Loaded::parse(plan.text, &format!("plans/{}.toml", plan.name));
            }
            let names: Vec<&str> = SHIPPED.iter().map(|s| s.name).collect();
            return Err(UsageError::new(format!(
                "no plan file {given}: expected a path to a .toml file or a shipped plan ({})",
                names.join(", ")
            )));
        }
        // Capped, and regular files only: `run /dev/zero` is refused, not
        // read for ever.
        let bytes = reports::input::read_capped(path, PLAN_FILE_MAX_BYTES)
            .map_err(|e| UsageError::new(format!("cannot read plan file {given}: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            UsageError::new(format!(
                "bad plan file {given}: not UTF-8 text (byte {})",
                e.utf8_error().valid_up_to()
            ))
        })?;
        Loaded::parse(&text, given)
    }

    /// Parses `text`, read from `source`.
    pub fn parse(text: &str, source: &str) -> Result<Loaded, UsageError> {
        match toml::from_str::<PlanFile>(text) {
            Ok(plan) => Ok(Loaded {
                plan,
                source: source.to_string(),
                text: text.to_string(),
            }),
            Err(e) => {
                let offset = e.span().map_or(0, |s| s.start);
                let line = text[..offset.min(text.len())].matches('\n').count() + 1;
                let key = text
                    .lines()
                    .nth(line - 1)
                    .and_then(|l| l.split_once('='))
                    .map(|(k, _)| k.trim().to_string())
                    .filter(|k| !k.is_empty() && !k.starts_with('['));
                let message = e.message().replace('\n', " ");
                Err(UsageError::new(match key {
                    Some(key) => {
                        format!("bad plan file {source}, line {line}, key {key}: {message}")
                    }
                    None => format!("bad plan file {source}, line {line}: {message}"),
                }))
            }
        }
    }

    /// `error` as one line: the file, the key's line, the key, the message.
    pub fn error(&self, error: KeyError) -> UsageError {
        let shown = match error.exec {
            Some(index) => format!("exec[{index}].{}", error.key),
            None => error.key.clone(),
        };
        let line = match line_of(&self.text, &error.key, error.exec) {
            Some(line) => format!(", line {line}"),
            None => String::new(),
        };
        UsageError::new(format!(
            "bad plan file {}{line}, key {shown}: {}",
            self.source, error.message
        ))
    }
}

/// The line `key = ...` is on, in the top table or in the `exec`-th
/// `[[exec]]` table (counting from 0).
fn line_of(text: &str, key: &str, exec: Option<usize>) -> Option<usize> {
    let (top, rest) = key.split_once('.').unwrap_or((key, ""));
    let mut tables_seen: Option<usize> = None;
    let mut in_table = String::new();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with("[[exec]]") {
            tables_seen = Some(tables_seen.map_or(0, |n| n + 1));
            in_table = "exec".into();
            continue;
        }
        if let Some(table) = trimmed.strip_prefix('[') {
            in_table = table.trim_end_matches(']').trim().to_string();
            continue;
        }
        let Some((name, _)) = trimmed.split_once('=') else {
            continue;
        };
        let name = name.trim();
        let wanted = match exec {
            Some(n) => in_table == "exec" && tables_seen == Some(n) && name == key,
            None if !rest.is_empty() => in_table == top && name == rest,
            None => in_table.is_empty() && name == key,
        };
        // A key given as a table of its own (`[disturbance]`) counts too.
        if wanted {
            return Some(index + 1);
        }
    }
    text.lines()
        .position(|l| l.trim() == format!("[{top}]"))
        .map(|i| i + 1)
}

/// The counts of `workers`, or `None` for `auto`.
fn counts(key: &str, given: &WorkerCounts) -> Result<Option<String>, KeyError> {
    match given {
        WorkerCounts::Rule(rule) if rule == "auto" => Ok(None),
        WorkerCounts::Rule(rule) => Err(KeyError::new(
            key,
            format!("'{rule}' is not a rule: expected \"auto\" or a list of whole numbers like [1, 2, 4]"),
        )),
        WorkerCounts::Counts(list) => {
            let text = list
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            parse_workers(&text).map_err(|e| KeyError::new(key, e))?;
            Ok(Some(text))
        }
    }
}

/// The name of a value of a clap enum, as the command line spells it.
pub fn spelled<T: ValueEnum>(value: T) -> String {
    value
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

/// Parses a clap enum's spelling; the error lists the valid ones.
fn parse_enum<T: ValueEnum + Clone>(key: &str, text: &str) -> Result<T, KeyError> {
    T::from_str(text, false).map_err(|_| {
        let valid: Vec<String> = T::value_variants().iter().cloned().map(spelled).collect();
        KeyError::new(
            key,
            format!("'{text}' is not one: expected {}", valid.join(", ")),
        )
    })
}

/// The defaults of `profile`: the trials and trial length of its shipped
/// plan file.
pub fn profile_defaults(profile: Profile) -> (u32, Duration) {
    let name = spelled(profile);
    let plan = shipped(&name)
        .and_then(|s| toml::from_str::<PlanFile>(s.text).ok())
        .unwrap_or_default();
    (
        plan.trials.unwrap_or(5),
        Duration::from_millis(plan.target_trial_ms.unwrap_or(450)),
    )
}

/// Checks every key of `file` and turns it into the input of a plan over
/// `registry`'s workloads.
pub fn input_from(file: &PlanFile, registry: &Registry) -> Result<PlanInput, KeyError> {
    let profile: Profile = match &file.profile {
        Some(name) => parse_enum("profile", name)?,
        None => Profile::Default,
    };
    let workloads = match &file.workloads {
        None if !file.exec.is_empty() => Some(String::new()),
        None => None,
        Some(list) => {
            let joined = list.join(",");
            if !joined.trim().is_empty() {
                registry
                    .parse_spec_list(&joined)
                    .map_err(|e| KeyError::new("workloads", e))?;
            }
            Some(joined)
        }
    };
    if workloads.as_deref() == Some("") && file.exec.is_empty() {
        return Err(KeyError::new(
            "workloads",
            "the plan runs nothing: name workloads (`corebench list` shows them) or [[exec]] programs",
        ));
    }
    let models = match &file.models {
        None => None,
        Some(list) => {
            let joined = list.join(",");
            parse_models(&joined).map_err(|e| KeyError::new("models", e))?;
            Some(joined)
        }
    };
    let workers = match &file.workers {
        None => None,
        Some(given) => Some(counts("workers", given)?.unwrap_or_else(|| "auto".into())),
    };
    let io_workers = match &file.io_workers {
        None => None,
        Some(given) => counts("io_workers", given)?,
    };
    let pin = file
        .pin
        .as_ref()
        .map_or_else(|| "none".to_string(), |p| p.join(","));
    parse_placement_list(&pin).map_err(|e| KeyError::new("pin", e))?;
    if let Some(cores) = &file.cores {
        parse_core_list(cores, "cores").map_err(|e| KeyError::new("cores", e))?;
    }
    let scaling = match &file.scaling {
        None => workloads::Scaling::Strong,
        Some(text) => text.parse().map_err(|e| KeyError::new("scaling", e))?,
    };
    let recording: Recording = match &file.record {
        None => Recording::PerOp,
        Some(text) => parse_enum("record", text)?,
    };
    let load = file.load.clone().unwrap_or_else(|| "closed".into());
    load.parse::<super::LoadMode>()
        .map_err(|e| KeyError::new("load", e))?;
    let trial_timeout = parse_trial_timeout(file.trial_timeout_s.unwrap_or(60.0))
        .map_err(|e| KeyError::new("trial_timeout_s", e))?;
    let settings = file.disturbance.clone().unwrap_or_default();
    let disturbance = DisturbancePolicy {
        on_disturbance: match &settings.on {
            None => OnDisturbance::Retry,
            Some(text) => parse_enum("disturbance.on", text)?,
        },
        max_retries: settings.max_retries.unwrap_or(3),
        rule: parse_disturbance_rule(settings.rule.as_deref().unwrap_or(""))
            .map_err(|e| KeyError::new("disturbance.rule", e))?,
    };
    for (key, hz, max) in [
        ("flamegraph_hz", file.flamegraph_hz, 10_000),
        ("wall_profile_hz", file.wall_profile_hz, 1_000),
    ] {
        if let Some(hz) = hz.filter(|hz| !(1..=max).contains(hz)) {
            return Err(KeyError::new(
                key,
                format!("{hz} is out of range: expected samples per second from 1 to {max}"),
            ));
        }
    }
    if let Some(ops) = file.ops.filter(|ops| !(1..=super::MAX_OPS).contains(ops)) {
        return Err(KeyError::new(
            "ops",
            format!(
                "{ops} is out of range: expected a whole number from 1 to {}",
                super::MAX_OPS
            ),
        ));
    }
    if let Some(threads) = file
        .runtime_threads
        .filter(|n| !(1..=super::MAX_WORKERS).contains(n))
    {
        return Err(KeyError::new(
            "runtime_threads",
            format!(
                "{threads} is out of range: expected a whole number from 1 to {}",
                super::MAX_WORKERS
            ),
        ));
    }
    if file.trials == Some(0) {
        return Err(KeyError::new("trials", "0: expected a whole number >= 1"));
    }
    if file.target_trial_ms == Some(0) {
        return Err(KeyError::new(
            "target_trial_ms",
            "0: expected milliseconds >= 1",
        ));
    }
    Ok(PlanInput {
        profile,
        workloads,
        models,
        workers,
        io_workers,
        pin,
        scaling,
        trials: file.trials,
        ops: file.ops,
        target_trial: file.target_trial_ms.map(Duration::from_millis),
        runtime_threads: file.runtime_threads,
        trial_timeout,
        recording,
        calibration: file.calibration.unwrap_or(true),
        load,
        disturbance,
        seed: file.seed,
        flamegraph_hz: file.flamegraph_hz,
        wall_profile_hz: file.wall_profile_hz,
        warmup_trials: file.warmup.unwrap_or(1),
        exec_programs: file.exec.len(),
    })
}

/// The plan `plan` ran, every key explicit and every `auto` its counts;
/// the texts, `cores` and the seed (only when one was given) from `file`,
/// and `exec` the programs as they resolved.
pub fn resolve(
    plan: &Plan,
    input: &PlanInput,
    file: &PlanFile,
    exec: Vec<ExecProgram>,
) -> PlanFile {
    let as_counts = |list: &[usize]| WorkerCounts::Counts(list.iter().map(|&n| n as u64).collect());
    PlanFile {
        title: file.title.clone(),
        question: file.question.clone(),
        look_at: file.look_at.clone(),
        profile: Some(spelled(input.profile)),
        workloads: Some(
            (0..plan.workloads.len())
                .filter(|w| Some(*w) != plan.calibration)
                .map(|w| plan.workloads[w].spec())
                .collect(),
        ),
        models: Some(plan.models.iter().map(|m| m.name().to_string()).collect()),
        workers: Some(as_counts(&plan.workers)),
        io_workers: Some(as_counts(&plan.io_workers)),
        pin: Some(plan.placements.iter().map(|p| p.to_string()).collect()),
        cores: file.cores.clone(),
        scaling: Some(plan.scaling.to_string()),
        trials: Some(plan.trials),
        warmup: Some(plan.warmup_trials),
        ops: plan.ops,
        target_trial_ms: Some(plan.target_trial.as_millis() as u64),
        runtime_threads: plan.runtime_threads,
        trial_timeout_s: Some(plan.trial_timeout.as_secs_f64()),
        record: Some(spelled(plan.recording)),
        calibration: Some(input.calibration),
        load: Some(plan.load.to_string()),
        seed: input.seed,
        flamegraph_hz: plan.flamegraph_hz,
        wall_profile_hz: plan.wall_profile_hz,
        disturbance: Some(disturbance_settings(&plan.disturbance)),
        exec,
    }
}

/// `policy` as a resolved plan's `[disturbance]` table spells it.
pub fn disturbance_settings(policy: &DisturbancePolicy) -> DisturbanceSettings {
    DisturbanceSettings {
        on: Some(spelled(policy.on_disturbance)),
        max_retries: Some(policy.max_retries),
        rule: Some(spell_disturbance_rule(&policy.rule)),
    }
}

/// Writes `plan` as `DIR/plan.toml`, whole or not at all; returns the
/// SHA-256 of the text written (hex), for `host.json`.
pub fn write_resolved(writer: &ResultsWriter, plan: &PlanFile) -> Result<String, ResultsError> {
    let text = to_text(plan);
    let path = writer.dir().join("plan.toml");
    write_atomically(&path, text.as_bytes()).map_err(|error| ResultsError::Io { path, error })?;
    Ok(sha256_hex(&text))
}

/// `plan` as TOML, with a line saying what the file is.
pub fn to_text(plan: &PlanFile) -> String {
    format!(
        "# A resolved corebench plan: every key given, every `auto` a count.\n# `corebench run THIS.toml` runs it; in a results folder, `corebench run --same-as DIR`.\n{}",
        // One item a line: a plan read by people, and compared by diff.
        toml::to_string_pretty(plan).expect("a plan serializes")
    )
}

/// The SHA-256 of `text`, in hex.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
