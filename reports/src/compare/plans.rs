//! Did the folders run the same plan? Each folder's `plan.toml` against
//! the baseline's: the same (by every key that runs, whatever the title),
//! or the keys that differ. A cell one configuration lacks is missing
//! for a reason its plan gives: not in its plan, or in it but never
//! recorded (the run stopped, or a model's limit).

use super::Configuration;
use crate::schema::plan::{differences, PlanFile, WorkerCounts};

/// One sentence per configuration that is not the baseline, or one for
/// all when every folder ran the same plan.
pub fn plan_lines(configs: &[Configuration], baseline: usize) -> Vec<String> {
    let Some(base) = configs.get(baseline) else {
        return Vec::new();
    };
    let unknown: Vec<&str> = configs
        .iter()
        .filter(|c| c.plan.is_none())
        .map(|c| c.name.as_str())
        .collect();
    let mut lines = Vec::new();
    if !unknown.is_empty() {
        lines.push(format!(
            "Which plan {} ran is unknown: no plan.toml (a folder written before plan files).",
            unknown.join(", ")
        ));
    }
    let Some(base_plan) = &base.plan else {
        return lines;
    };
    let mut same = vec![base.name.as_str()];
    for (c, config) in configs.iter().enumerate() {
        let Some(plan) = config.plan.as_ref().filter(|_| c != baseline) else {
            continue;
        };
        let differs = differences(base_plan, plan);
        if differs.is_empty() {
            same.push(&config.name);
        } else {
            lines.push(format!(
                "{} ran a different plan from {}: {}. Only the cells both ran are compared; the rest show as missing.",
                config.name,
                base.name,
                differs.join("; ")
            ));
        }
    }
    if same.len() > 1 {
        lines.insert(
            0,
            format!(
                "{} ran the same plan{}.",
                same.join(", "),
                base_plan
                    .title
                    .as_deref()
                    .map(|t| format!(" ({t})"))
                    .unwrap_or_default()
            ),
        );
    }
    lines
}

/// Why `config` has no cell of `spec` under `model` at `workers`.
pub fn missing_reason(config: &Configuration, spec: &str, model: &str, workers: u32) -> String {
    let Some(plan) = &config.plan else {
        return "no record".into();
    };
    if !in_plan(plan, spec, model, workers) {
        return format!("not in {}'s plan", config.name);
    }
    "in its plan, but no trial recorded".into()
}

/// Whether `plan` names the cell: its workload, its model and its worker
/// count (of either sweep).
fn in_plan(plan: &PlanFile, spec: &str, model: &str, workers: u32) -> bool {
    let listed = |list: &Option<Vec<String>>, item: &str| {
        list.as_ref()
            .is_none_or(|l| l.iter().any(|x| x == item || x == "all"))
    };
    let counts = |given: &Option<WorkerCounts>| match given {
        Some(WorkerCounts::Counts(list)) => list.contains(&u64::from(workers)),
        _ => true,
    };
    let program = spec
        .strip_prefix("exec/")
        .map(|rest| rest.split(':').next().unwrap_or(rest));
    if let Some(name) = program {
        return plan.exec.iter().any(|p| {
            p.name == name
                && p.variants
                    .iter()
                    .any(|v| v.split('=').next() == Some(model))
                && counts(&p.workers)
        });
    }
    listed(&plan.workloads, spec)
        && listed(&plan.models, model)
        && (counts(&plan.workers) || (plan.io_workers.is_some() && counts(&plan.io_workers)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(name: &str, plan: Option<PlanFile>) -> Configuration {
        let host: crate::schema::Host =
            serde_json::from_str(include_str!("../../tests/sample/host.json")).unwrap();
        Configuration {
            name: name.into(),
            source: name.into(),
            host,
            placement: None,
            records: Vec::new(),
            plan,
        }
    }

    #[test]
    fn the_same_plan_is_said_once_and_a_different_one_by_its_keys() {
        let plan = PlanFile {
            title: Some("T".into()),
            workloads: Some(vec!["cpu/primes:from=1000000,span=300".into()]),
            models: Some(vec!["threads".into()]),
            workers: Some(WorkerCounts::Counts(vec![1, 2])),
            ..PlanFile::default()
        };
        let mut other = plan.clone();
        other.workers = Some(WorkerCounts::Counts(vec![1]));
        let configs = [
            config("a", Some(plan.clone())),
            config("b", Some(plan.clone())),
            config("c", Some(other)),
            config("old", None),
        ];
        let lines = plan_lines(&configs, 0);
        assert_eq!(lines[0], "a, b ran the same plan (T).");
        assert!(lines
            .iter()
            .any(|l| l.starts_with("Which plan old ran is unknown")));
        assert!(
            lines
                .iter()
                .any(|l| l.contains("c ran a different plan from a: workers: [1,2] vs [1]")),
            "{lines:?}"
        );
        let spec = "cpu/primes:from=1000000,span=300";
        assert_eq!(
            missing_reason(&configs[2], spec, "threads", 2),
            "not in c's plan"
        );
        assert_eq!(
            missing_reason(&configs[0], spec, "threads", 2),
            "in its plan, but no trial recorded"
        );
        assert_eq!(missing_reason(&configs[3], spec, "threads", 2), "no record");
    }
}
