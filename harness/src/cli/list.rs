//! `corebench list`: every workload with its parameters, every model and
//! placement, as aligned text or (`--json`) as one JSON document.

use serde::Serialize;
use workloads::Registry;

use crate::models::ALL as MODELS;

/// The placements `--pin` accepts, with what each does.
const PLACEMENTS: [(&str, &str); 4] = [
    ("none", "the OS scheduler decides"),
    (
        "compact",
        "SMT siblings of one core first, then the next core",
    ),
    (
        "scatter",
        "one worker per physical core first, siblings last",
    ),
    (
        "cores=LIST",
        "worker i on LIST[i mod len], e.g. cores=0,2 or cores=0-3",
    ),
];

/// The text of `corebench list`: parameter columns aligned across every
/// workload.
pub fn list_text(registry: &Registry) -> String {
    let mut out = String::from("WORKLOADS  (spec: ID[:key=value,...])\n");
    let width = registry
        .infos()
        .flat_map(|info| info.params.iter())
        .map(|p| p.name.len() + 1 + p.default.len())
        .max()
        .unwrap_or(0);
    for info in registry.infos() {
        let note = if info.in_profiles {
            ""
        } else {
            "  [not in profiles: name it in --workloads]"
        };
        out.push_str(&format!("\n  {}{note}\n      {}\n", info.id, info.summary));
        for p in info.params {
            let setting = format!("{}={}", p.name, p.default);
            out.push_str(&format!(
                "      {setting:<width$}  {} ({})\n",
                p.help, p.kind
            ));
        }
    }
    let width = MODELS
        .iter()
        .map(|m| m.name().len())
        .chain(PLACEMENTS.iter().map(|p| p.0.len()))
        .max()
        .unwrap_or(0);
    out.push_str("\nMODELS  (--models M,... or all)\n");
    for model in MODELS {
        out.push_str(&format!(
            "  {:<width$}  {}\n",
            model.name(),
            model.info().summary
        ));
    }
    out.push_str("\nPLACEMENTS  (--pin P,...)\n");
    for (name, what) in PLACEMENTS {
        out.push_str(&format!("  {name:<width$}  {what}\n"));
    }
    out
}

#[derive(Serialize)]
struct ListJson {
    workloads: Vec<WorkloadJson>,
    models: Vec<NamedJson>,
    placements: Vec<NamedJson>,
}

#[derive(Serialize)]
struct WorkloadJson {
    id: &'static str,
    summary: &'static str,
    in_profiles: bool,
    params: Vec<ParamJson>,
}

#[derive(Serialize)]
struct ParamJson {
    name: &'static str,
    default: &'static str,
    help: &'static str,
    valid: String,
}

#[derive(Serialize)]
struct NamedJson {
    name: &'static str,
    summary: &'static str,
}

/// `corebench list --plans`: every shipped plan, its name (what `run
/// NAME` takes) and title, and what it asks.
pub fn plans_text() -> String {
    let mut out = String::from(
        "PLANS  (corebench run NAME, or a PLAN.toml of your own; the files are in plans/)\n",
    );
    for shipped in crate::plan::file::SHIPPED {
        let plan: reports::schema::PlanFile = toml::from_str(shipped.text).unwrap_or_default();
        out.push_str(&format!(
            "  {:<18} {}\n",
            shipped.name,
            plan.title.as_deref().unwrap_or("")
        ));
    }
    out
}

/// `corebench list --plans --json`: the shipped plans as they read.
pub fn plans_json() -> serde_json::Result<String> {
    let plans: Vec<serde_json::Value> = crate::plan::file::SHIPPED
        .iter()
        .map(|shipped| {
            let plan: reports::schema::PlanFile = toml::from_str(shipped.text).unwrap_or_default();
            serde_json::json!({ "name": shipped.name, "plan": plan })
        })
        .collect();
    Ok(serde_json::to_string_pretty(&plans)? + "\n")
}

/// `corebench list --json`: the same as one JSON document.
pub fn list_json(registry: &Registry) -> serde_json::Result<String> {
    let list = ListJson {
        workloads: registry
            .infos()
            .map(|info| WorkloadJson {
                id: info.id,
                summary: info.summary,
                in_profiles: info.in_profiles,
                params: info
                    .params
                    .iter()
                    .map(|p| ParamJson {
                        name: p.name,
                        default: p.default,
                        help: p.help,
                        valid: p.kind.to_string(),
                    })
                    .collect(),
            })
            .collect(),
        models: MODELS
            .iter()
            .map(|m| NamedJson {
                name: m.name(),
                summary: m.info().summary,
            })
            .collect(),
        placements: PLACEMENTS
            .iter()
            .map(|(name, summary)| NamedJson { name, summary })
            .collect(),
    };
    Ok(serde_json::to_string_pretty(&list)? + "\n")
}
