//! Where `corebench run`'s plan comes from: a plan file, a shipped plan,
//! another results folder's `plan.toml` (`--same-as`), or the flags
//! alone; the flags given on the command line override the file, and the
//! run says which did. `--smoke` shrinks any plan to a test of it.

use reports::schema::plan::{ExecProgram, PlanFile, WorkerCounts};

use super::RunArgs;
use crate::error::UsageError;
use crate::exec::{ExecArgs, ExecJob};
use crate::placement::CpuSet;
use crate::plan::file::{spelled as spell, KeyError, Loaded};
use crate::plan::Plan;

/// The plan file of the run, if it has one.
pub fn load(args: &RunArgs) -> Result<Option<Loaded>, UsageError> {
    match (&args.plan, &args.same_as) {
        (Some(_), Some(_)) => Err(UsageError::new(
            "give a plan file or --same-as DIR, not both",
        )),
        (Some(given), None) => Loaded::read(given).map(Some),
        (None, Some(dir)) => {
            let path = dir.join("plan.toml");
            if !path.is_file() {
                return Err(UsageError::new(format!(
                    "--same-as {}: no plan.toml there; a folder written by corebench 0.x before plan files cannot be re-run this way",
                    dir.display()
                )));
            }
            Loaded::read(&path.display().to_string()).map(Some)
        }
        (None, None) => Ok(None),
    }
}

/// Without a plan file: the plan a run starts from. When the flags leave
/// the suite as it is (no `--workloads`, `--models` or `--workers`), it
/// is the suite, and it carries the texts of its shipped plan
/// (`plans/default.toml`, `quick`, `full`): its report opens with them,
/// and `compare` names it. Every key comes from the flags ([`apply`]).
pub fn without_file(args: &RunArgs) -> PlanFile {
    let suite = args.workloads.is_none() && args.models.is_none() && args.workers.is_none();
    let shipped = crate::plan::file::shipped(&spell(args.profile))
        .filter(|_| suite)
        .and_then(|s| toml::from_str::<PlanFile>(s.text).ok())
        .unwrap_or_default();
    PlanFile {
        title: shipped.title,
        question: shipped.question,
        look_at: shipped.look_at,
        ..PlanFile::default()
    }
}

/// Sets in `file` every flag the command line gave (every flag, when
/// there is no file); returns the overridden keys as `--flag` names.
pub fn apply(
    file: &mut PlanFile,
    args: &RunArgs,
    from_file: bool,
) -> Result<Vec<String>, UsageError> {
    let mut overridden = Vec::new();
    let mut given = |id: &str, flag: &str| {
        let on = !from_file || args.given.iter().any(|g| g == id);
        if on && from_file {
            overridden.push(flag.to_string());
        }
        on
    };
    if given("profile", "--profile") {
        file.profile = Some(spell(args.profile));
        file.target_trial_ms = None;
        if !args.given.iter().any(|g| g == "trials") {
            file.trials = None;
        }
    }
    if given("workloads", "--workloads") {
        file.workloads = args.workloads.clone().map(|w| vec![w]);
    }
    if given("models", "--models") {
        file.models = args.models.clone().map(|m| vec![m]);
    }
    if given("workers", "--workers") {
        file.workers = match args.workers.as_deref() {
            None => None,
            Some("auto") => Some(WorkerCounts::Rule("auto".into())),
            Some(list) => Some(WorkerCounts::Counts(
                crate::plan::parse_workers(list)?
                    .into_iter()
                    .map(|n| n as u64)
                    .collect(),
            )),
        };
        file.io_workers = None;
    }
    if given("pin", "--pin") {
        file.pin = Some(vec![args.pin.clone()]);
    }
    if given("cores", "--cores") {
        file.cores = args.cores.clone();
    }
    if given("scaling", "--scaling") {
        file.scaling = Some(args.scaling.to_string());
    }
    if given("trials", "--trials") {
        file.trials = args.trials;
    }
    if given("warmup", "--warmup") {
        file.warmup = Some(args.warmup);
    }
    if given("ops", "--ops") {
        file.ops = args.ops;
    }
    if given("runtime_threads", "--runtime-threads") {
        file.runtime_threads = args.runtime_threads;
    }
    if given("trial_timeout_s", "--trial-timeout-s") {
        file.trial_timeout_s = Some(args.trial_timeout_s);
    }
    if given("recording", "--record") {
        file.record = Some(spell(args.recording));
    }
    if given("no_calibration", "--no-calibration") {
        file.calibration = Some(!args.no_calibration);
    }
    if given("load", "--load") {
        file.load = Some(args.load.clone());
    }
    if given("seed", "--seed") {
        file.seed = args.seed;
    }
    let flamegraph = args.flamegraph.then_some(args.flamegraph_hz as u32);
    if given("flamegraph", "--flamegraph") {
        file.flamegraph_hz = flamegraph;
    }
    let wall = args.wall_profile.then_some(args.wall_profile_hz as u32);
    if given("wall_profile", "--wall-profile") {
        file.wall_profile_hz = wall;
    }
    let settings = file.disturbance.get_or_insert_with(Default::default);
    if given("on_disturbance", "--on-disturbance") {
        settings.on = Some(spell(args.on_disturbance));
    }
    if given("max_retries", "--max-retries") {
        settings.max_retries = Some(args.max_retries);
    }
    if given("disturbance", "--disturbance") {
        settings.rule = Some(args.disturbance.clone()).filter(|r| !r.is_empty());
    }
    if args.smoke {
        smoke(file);
        overridden.push("--smoke".into());
    }
    Ok(overridden)
}

/// `--smoke`: the plan at its smallest, to see that it runs. One trial
/// of 5 ms, no warm-up, no reference cell, no retries, worker counts up
/// to 2 (IO up to 4), and each exec program once per variant with the
/// first value of each parameter.
fn smoke(file: &mut PlanFile) {
    let capped = |given: &Option<WorkerCounts>, cap: u64| {
        let list = match given {
            Some(WorkerCounts::Counts(list)) => list.clone(),
            _ => vec![1, 2, 4],
        };
        let mut kept: Vec<u64> = list.into_iter().filter(|&n| n <= cap).collect();
        if kept.is_empty() {
            kept.push(1);
        }
        Some(WorkerCounts::Counts(kept))
    };
    file.io_workers = capped(&file.io_workers.clone().or_else(|| file.workers.clone()), 4);
    file.workers = capped(&file.workers, 2);
    file.trials = Some(1);
    file.warmup = Some(0);
    file.target_trial_ms = Some(5);
    file.calibration = Some(false);
    // A smoke run asks whether the plan works, not how fast: a disturbed
    // trial is kept, marked, rather than run again.
    file.disturbance.get_or_insert_with(Default::default).on = Some("flag".into());
    for program in &mut file.exec {
        program.trials = Some(1);
        program.warmup = Some(0);
        program.workers = capped(&program.workers, 2);
        program.parameters = program
            .parameters
            .iter()
            .map(|p| match p.split_once('=') {
                Some((name, values)) => {
                    format!("{name}={}", values.split(',').next().unwrap_or(values))
                }
                None => p.clone(),
            })
            .collect();
    }
}

/// `exec`'s options for one of the plan's programs: the built plan's
/// first placement, scaling, wall profile and disturbance policy (already
/// checked), the file's workers and seed, and the program's own keys.
pub fn exec_args(program: &ExecProgram, plan: &Plan, file: &PlanFile, args: &RunArgs) -> ExecArgs {
    let counts = |given: &Option<WorkerCounts>| match given {
        Some(WorkerCounts::Counts(list)) => Some(
            list.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => None,
    };
    ExecArgs {
        name: program.name.clone(),
        variants: program.variants.clone(),
        workers: counts(&program.workers).or_else(|| counts(&file.workers)),
        trials: program.trials.unwrap_or(3),
        cores: None,
        pin: plan.placements[0].to_string(),
        scaling: plan.scaling,
        label: None,
        out: None,
        trial_timeout_s: program.trial_timeout_s.unwrap_or(600.0),
        quiet: args.quiet,
        no_progress: args.no_progress,
        io_bound: program.io_bound,
        wall_profile: plan.wall_profile_hz.is_some(),
        warmup: program.warmup.unwrap_or(1),
        setup: program.setup.clone(),
        prepare: program.prepare.clone(),
        cleanup: program.cleanup.clone(),
        parameters: program.parameters.clone(),
        output: "null".into(),
        show_output: false,
        verbose: args.verbose > 0,
        latency: false,
        json: false,
        seed: file.seed,
        // The plan's disturbance policy holds for its programs too.
        on_disturbance: plan.disturbance.on_disturbance,
        max_retries: plan.disturbance.max_retries,
        disturbance: crate::disturbance::spell_disturbance_rule(&plan.disturbance.rule),
    }
}

/// Validates the plan's program number `index`, naming the key of its
/// first mistake.
pub fn exec_job(index: usize, exec: &ExecArgs, cpus: &CpuSet) -> Result<ExecJob, KeyError> {
    ExecJob::from_args(exec, cpus).map_err(|e| {
        let message = e.to_string();
        let key = [
            ("--variant", "variants"),
            ("--name", "name"),
            ("--parameter", "parameters"),
            ("--setup", "setup"),
            ("--prepare", "prepare"),
            ("--cleanup", "cleanup"),
            ("--trials", "trials"),
            ("--trial-timeout-s", "trial_timeout_s"),
            ("--workers", "workers"),
        ]
        .iter()
        .find(|(flag, _)| message.contains(flag))
        .map_or("variants", |(_, key)| key);
        KeyError {
            key: key.to_string(),
            exec: Some(index),
            message,
        }
    })
}

/// Programs a job needs that this machine lacks: its command's first word
/// not on `PATH`, or a script it names (`*.py`, `*.sh`) not found.
pub fn missing_programs(job: &ExecJob) -> Vec<String> {
    let on_path = |program: &str| {
        if program.contains('/') {
            return std::path::Path::new(program).exists();
        }
        std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
    };
    let mut missing: Vec<String> = job
        .programs()
        .filter(|p| !on_path(p))
        .map(str::to_string)
        .collect();
    missing.extend(
        job.scripts()
            .filter(|s| !std::path::Path::new(s).exists())
            .map(str::to_string),
    );
    missing.sort();
    missing.dedup();
    missing
}
