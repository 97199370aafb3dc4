//! `corebench run`: builds the plan, checks `--target`, claims the results
//! folder, starts the services the workloads need, runs every cell, and
//! writes the report. Exit codes: 0 done; 1 a cell failed or timed out
//! (unless `--keep-going`) or an I/O failure; 2 bad input; 128 + the signal
//! when SIGINT or SIGTERM stopped the run (what finished is kept and
//! rendered).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use reports::schema::Status;
use workloads::Registry;

use super::RunArgs;
use crate::disturbance::{parse_disturbance_rule, DisturbancePolicy};
use crate::error::{is_unusable_path, UsageError};
use crate::host::capture_host;
use crate::interrupt;
use crate::output::println;
use crate::placement::CpuSet;
use crate::plan::{Plan, PlanInput};
use crate::render::render_report;
use crate::results::{default_out_dir, ResultsError, ResultsWriter};

/// Runs `corebench run`; returns the exit code.
pub fn run(args: RunArgs, registry: Arc<Registry>) -> anyhow::Result<i32> {
    let trial_timeout = crate::plan::parse_trial_timeout(args.trial_timeout_s)?;
    let input = PlanInput {
        profile: args.profile,
        workloads: args.workloads,
        models: args.models,
        workers: args.workers,
        pin: args.pin,
        scaling: args.scaling,
        trials: args.trials,
        ops: args.ops,
        runtime_threads: args.runtime_threads,
        trial_timeout,
        recording: args.recording,
        calibration: !args.no_calibration,
        load: args.load,
        disturbance: DisturbancePolicy {
            on_disturbance: args.on_disturbance,
            max_retries: args.max_retries,
            rule: parse_disturbance_rule(&args.disturbance)?,
        },
        seed: args.seed,
        flamegraph_hz: args.flamegraph.then_some(args.flamegraph_hz as u32),
        wall_profile_hz: args.wall_profile.then_some(args.wall_profile_hz as u32),
        warmup_trials: args.warmup,
    };
    if let Some(cores) = &args.cores {
        crate::placement::restrict_process_to(cores)?;
    }
    if !(1..=10_000).contains(&args.flamegraph_hz) {
        return Err(UsageError::new(format!(
            "bad --flamegraph-hz {}: expected samples per second from 1 to 10000",
            args.flamegraph_hz
        ))
        .into());
    }
    if !(1..=1_000).contains(&args.wall_profile_hz) {
        return Err(UsageError::new(format!(
            "bad --wall-profile-hz {}: expected samples per second from 1 to 1000",
            args.wall_profile_hz
        ))
        .into());
    }
    let workers_given = input.workers.is_some();
    let mut plan = Plan::build_with(&input, CpuSet::of_this_process(), registry)?;
    let quiet = args.quiet;
    let server_threads = match args.server_threads {
        Some(0) => {
            return Err(
                UsageError::new("bad --server-threads 0: expected a whole number >= 1").into(),
            )
        }
        Some(threads) => threads,
        None => plan.cpus.core_count(),
    };
    // Bad input found before the results folder exists leaves none.
    if let Some(target) = &args.target {
        crate::services::check_target(target)?;
    }
    let mut host = capture_host(args.label);
    let out = args.out.unwrap_or_else(|| default_out_dir(&host.hostname));
    let mut writer = ResultsWriter::claim(&out).map_err(claim_error)?;
    interrupt::install().context("installing the SIGINT and SIGTERM handlers")?;
    // Stopped when `services` drops, on every way out of this function.
    let services = crate::services::start_services(
        &plan.workloads,
        args.target.as_deref(),
        server_threads,
        &out,
    )?;
    plan.io = services.io.clone();
    plan.target_is_local = args.target.as_deref().is_some_and(is_local_url);
    host.http_server = services.http_server.clone();
    host.trial_order_seed = Some(plan.trial_order_seed);
    host.disturbance_rule = Some(plan.disturbance.rule);
    warn_if_busy(&plan);
    writer.write_host(&host).map_err(claim_error)?;
    let run_id = format!(
        "{}-{}",
        chrono::Local::now().format("%Y%m%dT%H%M%S"),
        std::process::id()
    );
    if !quiet {
        eprint!("{}", header(&plan, &out));
        for note in plan_notes(&plan, workers_given) {
            eprintln!("corebench: note: {note}");
        }
    }
    let outcome = crate::runner::run_plan(
        &plan,
        &mut writer,
        &run_id,
        !(args.no_progress || quiet),
        args.verbose > 0,
    )
    .context("the run stopped")?;
    drop(services);

    if let Some(signal) = outcome.interrupted {
        let rendered = render_report(&out, &out.join("report"), false)
            .map(|r| format!("; its report: {}", r.index.display()))
            .unwrap_or_else(|e| format!("; its report could not be written: {e:#}"));
        eprintln!(
            "corebench: stopped by {}: {} finished trials kept in {}{rendered}; re-render with `corebench report {}`",
            interrupt::name(signal),
            outcome.records.len(),
            out.display(),
            out.display()
        );
        return Ok(interrupt::exit_code(signal));
    }

    // With --json, stdout holds the JSON alone; everything else is a
    // message on stderr.
    let say = |text: &str| crate::output::say(text, quiet, args.json);
    // The tables read the report's own analysis: the terminal, the page
    // and --json show the same figures.
    let rendered = render_report(&out, &out.join("report"), false)?;
    say(&reports::terminal::summary_tables(&rendered.analysis))?;
    if args.latency {
        say(&reports::terminal::latency_tables(&rendered.analysis))?;
    }
    say(&format!("\nresults: {}\n", out.display()))?;
    say(&format!("report: {}\n", rendered.index.display()))?;
    if !quiet {
        print_peak_memory();
    }
    if args.json {
        let summary = reports::summary::RunSummary::of(&out, &rendered.analysis, &rendered.index);
        println(&serde_json::to_string_pretty(&summary)?)?;
    }
    if let Some(note) = &outcome.unclean {
        eprintln!("corebench: warning: the run was {note}");
    }
    if let Some(note) = &outcome.busy {
        eprintln!("corebench: note: {note}");
    }
    let failed = outcome
        .records
        .iter()
        .filter(|r| matches!(r.status, Status::Failed | Status::Timeout))
        .count();
    if failed > 0 && !args.keep_going {
        eprintln!(
            "corebench: {failed} trial(s) failed or timed out (see above and the report); exit 1. Pass --keep-going to exit 0 anyway."
        );
        return Ok(1);
    }
    Ok(0)
}

/// What the run will do, one line per workload with its own worker sweep.
fn header(plan: &Plan, out: &Path) -> String {
    let models: Vec<&str> = plan.models.iter().map(|m| m.name()).collect();
    let placements: Vec<String> = plan.placements.iter().map(|p| p.to_string()).collect();
    let mut text = format!(
        "corebench: {} cells, {} trials each, models {}, pin {} -> {}\n",
        plan.cells().len(),
        plan.trials,
        models.join(","),
        placements.join(","),
        out.display()
    );
    for (index, workload) in plan.workloads.iter().enumerate() {
        let counts: Vec<String> = if Some(index) == plan.calibration {
            vec!["1 (seq only, the reference)".to_string()]
        } else {
            plan.workers_for(index)
                .iter()
                .map(usize::to_string)
                .collect()
        };
        text.push_str(&format!(
            "  {:<18} workers {}\n",
            workload.info().id,
            counts.join(",")
        ));
    }
    text
}

/// One line for each way the plan differs from what was typed, or says
/// nothing a user should know about.
fn plan_notes(plan: &Plan, workers_given: bool) -> Vec<String> {
    let mut notes = Vec::new();
    for model in &plan.models {
        let Some(max) = model.info().max_workers else {
            continue;
        };
        let beyond = plan.workers.iter().any(|&n| n > max);
        if beyond && (workers_given || plan.models.len() == 1) {
            notes.push(format!(
                "{model} runs at {} only, whatever --workers says ({})",
                reports::format::workers_phrase(max as u32),
                model.info().summary
            ));
        }
    }
    let single = (0..plan.workloads.len())
        .filter(|w| Some(*w) != plan.calibration)
        .all(|w| plan.workers_for(w).len() == 1);
    if !workers_given && single {
        notes.push(format!(
            "the sweep has one worker count ({}) on {} core(s), so no speedup can be measured; pass --workers 1,2 (or more) to sweep past the cores",
            plan.workers[0],
            plan.cpus.core_count()
        ));
    }
    if !workers_given && !single {
        notes.extend(unswept_note(plan));
    }
    notes
}

/// When the cores (`--cores`, a cgroup quota) leave some workloads one
/// worker count while others sweep, which ones: they show no speedup, and
/// a comparison with a run that swept them finds no partner for their
/// other counts.
fn unswept_note(plan: &Plan) -> Option<String> {
    let measured = (0..plan.workloads.len()).filter(|w| Some(*w) != plan.calibration);
    let (single, swept): (Vec<usize>, Vec<usize>) =
        measured.partition(|&w| plan.workers_for(w).len() == 1);
    let first_swept = *swept.first()?;
    let id = |w: usize| plan.workloads[w].info().id.to_string();
    let names: Vec<String> = single.iter().map(|&w| id(w)).collect();
    let &one = plan.workers_for(*single.first()?).first()?;
    let cores = plan.cpus.core_count();
    Some(format!(
        "{} {} at {} only ({} core{}) while {} sweeps {}: {} no speedup, and a comparison with a run that swept {} finds no partner for the other counts; pass --workers 1,2 to sweep past the cores",
        names.join(", "),
        if names.len() == 1 { "runs" } else { "run" },
        reports::format::workers_phrase(one as u32),
        cores,
        if cores == 1 { "" } else { "s" },
        id(first_swept),
        plan.workers_for(first_swept)
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(","),
        if names.len() == 1 { "it shows" } else { "they show" },
        if names.len() == 1 { "it" } else { "them" },
    ))
}

/// A folder that is not ours to write, or a path that cannot be used, is
/// bad input; any other refused write (a full disk) is a failure.
fn claim_error(error: ResultsError) -> anyhow::Error {
    match &error {
        ResultsError::NotEmpty { .. } | ResultsError::Claimed { .. } => {
            UsageError::new(error.to_string()).into()
        }
        ResultsError::Io { error: io, .. } if is_unusable_path(io) => {
            UsageError::new(error.to_string()).into()
        }
        ResultsError::Io { .. } => anyhow::Error::new(error),
    }
}

/// Whether `url` names this machine (its CPU is then expected load).
fn is_local_url(url: &str) -> bool {
    workloads::io::url::HttpUrl::parse(url).is_ok_and(|u| {
        u.host == "localhost"
            || u.host == "::1"
            || u.host
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback())
    })
}

/// Looks at the machine for a moment before the run and names the
/// busiest other processes when they use more than the disturbance rule
/// allows: the trials would be disturbed (and re-run) from the start.
fn warn_if_busy(plan: &Plan) {
    use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, System};
    let mut system = System::new();
    let refresh = ProcessRefreshKind::nothing().with_cpu();
    system.refresh_processes_specifics(ProcessesToUpdate::All, true, refresh);
    std::thread::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL.max(Duration::from_millis(200)));
    system.refresh_processes_specifics(ProcessesToUpdate::All, true, refresh);
    let me = sysinfo::get_current_pid().ok();
    let mut busy: Vec<(f32, String, u32)> = system
        .processes()
        .iter()
        .filter(|(pid, _)| Some(**pid) != me)
        .map(|(pid, p)| {
            (
                p.cpu_usage(),
                p.name().to_string_lossy().into_owned(),
                pid.as_u32(),
            )
        })
        .filter(|(usage, _, _)| *usage > 1.0)
        .collect();
    busy.sort_by(|a, b| b.0.total_cmp(&a.0));
    let cores = plan.cpus.core_count() as f32;
    let total: f32 = busy.iter().map(|b| b.0).sum::<f32>() / 100.0;
    if total > plan.disturbance.rule.max_others_share as f32 * cores {
        let names: Vec<String> = busy
            .iter()
            .take(3)
            .map(|(usage, name, pid)| format!("{name} (pid {pid}, {:.0}% of a core)", usage))
            .collect();
        eprintln!(
            "corebench: warning: the machine is not quiet: other processes use {total:.2} of {cores} cores, most of all {}; trials they disturb are re-run or flagged",
            names.join(", ")
        );
    }
}

/// Prints corebench's own peak memory, and its children's when it had any.
fn print_peak_memory() {
    let child_kib =
        crate::models::process::LARGEST_CHILD_RSS_KIB.load(std::sync::atomic::Ordering::Relaxed);
    if let Some(own_kib) = crate::os::usage::peak_rss_kib() {
        let children = if child_kib > 0 {
            format!(
                ", largest child process {:.1} MiB",
                child_kib as f64 / 1024.0
            )
        } else {
            String::new()
        };
        eprintln!(
            "peak RSS: corebench {:.1} MiB{children}",
            own_kib as f64 / 1024.0
        );
    }
}
