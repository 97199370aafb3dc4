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

use super::{plan_flags, RunArgs};
use crate::error::{is_unusable_path, UsageError};
use crate::host::capture_host;
use crate::interrupt;
use crate::output::println;
use crate::placement::CpuSet;
use crate::plan::file::{self, KeyError};
use crate::plan::Plan;
use crate::render::render_report;
use crate::results::{default_out_dir, ResultsError, ResultsWriter};

/// Runs `corebench run`; returns the exit code.
pub fn run(args: RunArgs, registry: Arc<Registry>) -> anyhow::Result<i32> {
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
    let loaded = plan_flags::load(&args)?;
    let mut file = match &loaded {
        Some(loaded) => loaded.plan.clone(),
        None => plan_flags::without_file(&args),
    };
    let overridden = plan_flags::apply(&mut file, &args, loaded.is_some())?;
    // A mistake in the file names the file, the line and the key; one in
    // a flag reads as it always has.
    let in_file = |error: KeyError| match &loaded {
        Some(loaded) => loaded.error(error),
        None => UsageError::new(error.message),
    };
    let input = file::input_from(&file, &registry).map_err(in_file)?;
    if let Some(cores) = &file.cores {
        crate::placement::restrict_process_to(cores)?;
    }
    let workers_given = file.workers.is_some();
    let cpus = CpuSet::of_this_process();
    let mut plan = Plan::build_with(&input, cpus.clone(), registry).map_err(|e| match &loaded {
        Some(loaded) => UsageError::new(format!("bad plan file {}: {e}", loaded.source)),
        None => e,
    })?;
    let exec_args: Vec<_> = file
        .exec
        .iter()
        .map(|program| plan_flags::exec_args(program, &plan, &file, &args))
        .collect();
    let jobs = exec_args
        .iter()
        .enumerate()
        .map(|(index, exec)| plan_flags::exec_job(index, exec, &cpus).map_err(in_file))
        .collect::<Result<Vec<_>, _>>()?;
    check_runnable(&plan, &jobs)?;
    let resolved = file::resolve(
        &plan,
        &input,
        &file,
        jobs.iter().map(|job| job.resolved()).collect(),
    );
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
    if args.print_plan {
        crate::output::print(&file::to_text(&resolved))?;
        return Ok(0);
    }
    // Bad input found before the results folder exists leaves none.
    if let Some(target) = &args.target {
        crate::services::check_target(target)?;
    }
    let mut host = capture_host(args.label);
    let out = args.out.unwrap_or_else(|| default_out_dir(&host.hostname));
    let mut writer = ResultsWriter::claim(&out).map_err(claim_error)?;
    host.plan_sha256 = Some(file::write_resolved(&writer, &resolved)?);
    interrupt::install().context("installing the SIGINT and SIGTERM handlers")?;
    // Stopped when `services` drops, on every way out of this function.
    let commands = |e: &crate::exec::ExecArgs| -> Vec<String> {
        [&e.variants, &e.setup, &e.prepare, &e.cleanup]
            .into_iter()
            .flatten()
            .cloned()
            .collect()
    };
    let http_url_wanted = exec_args
        .iter()
        .any(|e| commands(e).iter().any(|c| c.contains(HTTP_URL)));
    let services = crate::services::start_services(
        &plan.workloads,
        args.target.as_deref(),
        server_threads,
        &out,
        http_url_wanted,
    )?;
    // `{http_url}` in a program's command: the loopback server's URL.
    let jobs = match &services.io.server_url {
        Some(url) if http_url_wanted => exec_args
            .iter()
            .map(|exec| {
                let mut exec = exec.clone();
                for list in [
                    &mut exec.variants,
                    &mut exec.setup,
                    &mut exec.prepare,
                    &mut exec.cleanup,
                ] {
                    for command in list.iter_mut() {
                        *command = command.replace(HTTP_URL, url);
                    }
                }
                crate::exec::ExecJob::from_args(&exec, &plan.cpus)
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => jobs,
    };
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
        for job in &jobs {
            eprintln!("{}", job.header(&out));
        }
        if let Some(loaded) = &loaded {
            eprintln!(
                "corebench: plan: {}{}",
                loaded.source,
                resolved
                    .title
                    .as_deref()
                    .map(|t| format!(" ({t})"))
                    .unwrap_or_default()
            );
        }
        if !overridden.is_empty() {
            eprintln!(
                "corebench: note: the command line overrides the plan file's keys with {}",
                overridden.join(", ")
            );
        }
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
    let mut exec_failed = 0;
    for job in &jobs {
        if outcome.interrupted.is_some() || interrupt::requested().is_some() {
            break;
        }
        let shown = crate::exec::job::Shown {
            quiet,
            progress: !args.no_progress,
            verbose: args.verbose > 0,
        };
        exec_failed +=
            crate::exec::job::run_job(job, &plan.cpus, &mut writer, &run_id, shown)?.failed;
    }
    let interrupted = outcome.interrupted.or_else(interrupt::requested);
    drop(services);

    if let Some(signal) = interrupted {
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
    let failed = exec_failed
        + outcome
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

/// Where a program's command wants the loopback HTTP server's URL.
const HTTP_URL: &str = "{http_url}";

/// Says before the run starts what this machine cannot do of the plan: a
/// pinned worker count beyond its cores, a program or script it lacks.
fn check_runnable(plan: &Plan, jobs: &[crate::exec::ExecJob]) -> Result<(), UsageError> {
    let cores = plan.cpus.core_count();
    let pinned = plan
        .placements
        .iter()
        .find(|p| !matches!(p, crate::placement::Placement::None));
    let most = (0..plan.workloads.len())
        .flat_map(|w| plan.workers_for(w).iter().copied())
        .chain(jobs.iter().flat_map(|j| j.workers.iter().copied()))
        .max()
        .unwrap_or(1);
    if let Some(placement) = pinned {
        if most > cores {
            return Err(UsageError::new(format!(
                "this machine cannot run the plan: it pins ({placement}) up to {most} workers, one per core, and this run has {cores} cores; lower the worker counts or pin none"
            )));
        }
    }
    let missing: Vec<String> = jobs.iter().flat_map(plan_flags::missing_programs).collect();
    if !missing.is_empty() {
        return Err(UsageError::new(format!(
            "this machine cannot run the plan: it lacks {} (not on PATH, or no such file from {})",
            missing.join(", "),
            std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_else(|_| ".".into())
        )));
    }
    Ok(())
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
