//! `corebench exec`: any program, in any language, measured the way the
//! built-in workloads are. Each `--variant LABEL='COMMAND {workers}'` is a
//! model column of workload `exec/NAME`; each variant at each worker count
//! is a cell (`cell::ExecCell`) that `run`'s own round loop drives
//! (every trial runs each command once, in a shuffled order), and each
//! trial becomes a record through the one record builder, so `report`,
//! `compare`, the fits, the summary and the disturbance guard work on it
//! unchanged.
//!
//! - The command is split shell-style (shlex), `{workers}` substituted,
//!   and `COREBENCH_WORKERS` set. The placement is applied to the child
//!   before exec: a foreign program gets the *mask* of the cores its
//!   workers may use, not a core per thread, and every record says so.
//! - Wall time is spawn to exit; CPU time is the child tree's (`wait4`);
//!   peak memory is `ru_maxrss`, an upper bound (a forked child starts
//!   from corebench's own peak), recorded as the counter
//!   `peak_rss_upper_bound_kib`; where corebench may make a cgroup v2 with
//!   the memory controller, the program runs in one of its own and its
//!   exact `memory.peak` is recorded as `peak_rss_kib` instead.
//! - Per-op latencies are optional: a program that writes one latency in
//!   nanoseconds per line to the file named by `COREBENCH_OPS_FILE` gets a
//!   histogram and an op count from them; otherwise a trial is one op.
//! - A non-zero exit or a signal fails the trial with the tail of the
//!   program's stderr; past `--trial-timeout-s` its process group is
//!   killed. corebench is a child subreaper meanwhile, so descendants that
//!   left the group are found and killed too, at any depth.
//! - SIGINT and SIGTERM stop the run as they stop `run`: the program and
//!   all it left are killed, the scratch folder removed, the report of
//!   what finished written, and the exit is 128 + the signal. If
//!   corebench is killed outright, its [`guard::Guardian`] does the
//!   killing and the removing.

mod cell;
pub mod child;
pub mod guard;
mod hooks;
pub mod job;
mod params;
mod workload;

use std::path::PathBuf;

use anyhow::Context as _;
use reports::schema::PlanFile;
use workloads::Scaling;

use crate::error::UsageError;
use crate::failure::Failure;
use crate::models::{TrialOutcome, WorkerOutcome};
use crate::os::machine::MachineSnapshot;
use crate::placement::{CpuSet, Placed};
use crate::recorder::new_histogram;
use crate::results::{default_out_dir, ResultsWriter};
use cell::ExecCell;
pub use job::ExecJob;

/// The environment variable naming the file a program may write its
/// per-op latencies to (ns, one per line).
pub const OPS_FILE_ENV: &str = "COREBENCH_OPS_FILE";
/// The environment variable holding the worker count.
pub const WORKERS_ENV: &str = "COREBENCH_WORKERS";

/// `corebench exec` options.
#[derive(Debug, Clone, clap::Args)]
pub struct ExecArgs {
    /// The workload's name: records say `exec/NAME`.
    #[arg(long)]
    pub name: String,
    /// A variant, `LABEL=COMMAND`, e.g. `threads='python3 primes.py
    /// --model threads --workers {workers}'`; repeat for each. The label
    /// is its model column.
    #[arg(long = "variant", required = true)]
    pub variants: Vec<String>,
    /// Worker counts, e.g. 1,2,4 (default: 1, 2, 4, ... up to the cores).
    #[arg(short = 'n', long)]
    pub workers: Option<String>,
    /// Trials per variant and worker count.
    #[arg(short = 't', long, default_value_t = 3)]
    pub trials: u32,
    /// Restrict the run (and the programs) to these cores, e.g. 0-3.
    #[arg(long)]
    pub cores: Option<String>,
    /// Placement: none, compact, scatter or cores=LIST; the program gets
    /// the mask of the cores its workers would be placed on.
    #[arg(long, default_value = "none")]
    pub pin: String,
    /// strong (the program splits a fixed total of work) or weak.
    #[arg(long, default_value = "strong")]
    pub scaling: Scaling,
    /// A name for this configuration, shown in reports and comparisons.
    #[arg(long)]
    pub label: Option<String>,
    /// The results folder (default: corebench-results/DATE-TIME-HOST/).
    #[arg(short = 'o', long)]
    pub out: Option<PathBuf>,
    /// Kill a run of the program (its whole process group) past this.
    #[arg(long, default_value_t = 600.0)]
    pub trial_timeout_s: f64,
    /// Print nothing but failures, warnings and errors.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// No progress bar (it is drawn only on a terminal anyway).
    #[arg(long)]
    pub no_progress: bool,
    /// The program mostly waits on IO: the report reads throughput
    /// scaling past the cores instead of fitting Amdahl's law.
    #[arg(long)]
    pub io_bound: bool,
    /// Accepted as `run` takes it, but an exec program is not sampled:
    /// each record says so.
    #[arg(long)]
    pub wall_profile: bool,
    /// Runs of each variant at each worker count before the measured ones,
    /// not recorded (they warm the page cache and the program's own
    /// caches, as hyperfine's --warmup does).
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    pub warmup: u32,
    /// A shell command run once per variant before its first run; once
    /// for all variants, or once per variant in their order.
    #[arg(long)]
    pub setup: Vec<String>,
    /// A shell command run before every run of a variant (warm-ups too),
    /// outside the timed region; `{workers}` is replaced.
    #[arg(long)]
    pub prepare: Vec<String>,
    /// A shell command run once per variant after the last round, where
    /// its setup ran.
    #[arg(long)]
    pub cleanup: Vec<String>,
    /// A parameter and its values, `NAME=V1,V2,...`; repeat for more.
    /// Every combination is its own section (`exec/NAME:size=10`), with
    /// `{NAME}` replaced in the commands and `COREBENCH_PARAM_NAME` set.
    #[arg(long = "parameter")]
    pub parameters: Vec<String>,
    /// Where the program's stdout goes: null (the default), inherit, or a
    /// file it is appended to.
    #[arg(long, default_value = "null")]
    pub output: String,
    /// Keep each run's stdout and quote its end when the run fails.
    #[arg(long)]
    pub show_output: bool,
    /// Also print each run as it ends, as `run -v` does.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Also print each cell's latency distribution (of the program's own
    /// ops, or of its runs), as `run --latency` does.
    #[arg(long)]
    pub latency: bool,
    /// One JSON document on stdout, as `run --json` prints; every message
    /// goes to stderr.
    #[arg(long)]
    pub json: bool,
    /// The seed of the shuffled run order within rounds (default: the
    /// round's number, so the order repeats).
    #[arg(long)]
    pub seed: Option<u64>,
    /// What to do with a run the rest of the machine disturbed: flag (the
    /// default: keep it, marked, since a foreign program may change what
    /// it does between runs), retry (run it again, its prepare too, later
    /// in the round), or ignore (judge nothing).
    #[arg(long, value_enum, default_value = "flag")]
    pub on_disturbance: crate::disturbance::OnDisturbance,
    /// Re-runs of one disturbed run at most, with --on-disturbance retry.
    #[arg(long, default_value_t = 3, allow_negative_numbers = true)]
    pub max_retries: u32,
    /// When a run counts as disturbed, as `run --disturbance` spells it.
    #[arg(long, default_value = "")]
    pub disturbance: String,
}

/// One `--variant`: its label and its command's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// The model column.
    pub label: String,
    /// The command, split shell-style, `{workers}` not yet substituted.
    pub argv: Vec<String>,
}

/// Parses `LABEL=COMMAND`.
pub fn parse_variant(text: &str) -> Result<Variant, UsageError> {
    let bad = |why: &str| UsageError::new(format!("bad --variant '{text}': {why}"));
    let (label, command) = text.split_once('=').ok_or_else(|| {
        bad("expected LABEL=COMMAND, e.g. threads='python3 primes.py --workers {workers}'")
    })?;
    let label = label.trim();
    if label.is_empty()
        || !label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.+".contains(c))
    {
        return Err(bad(
            "the label must be letters, digits and - _ . + (it names a model column)",
        ));
    }
    let argv = shlex::split(command).ok_or_else(|| bad("the command has unbalanced quotes"))?;
    if argv.is_empty() {
        return Err(bad("the command is empty"));
    }
    Ok(Variant {
        label: label.to_string(),
        argv,
    })
}

/// The command for `workers` workers.
pub fn substitute(argv: &[String], workers: usize) -> Vec<String> {
    argv.iter()
        .map(|word| word.replace("{workers}", &workers.to_string()))
        .collect()
}

/// Runs `corebench exec`; returns the exit code.
pub fn exec(args: ExecArgs) -> anyhow::Result<i32> {
    if let Some(cores) = &args.cores {
        crate::placement::restrict_process_to(cores)?;
    }
    let cpus = CpuSet::of_this_process();
    let job = ExecJob::from_args(&args, &cpus)?;
    let mut host = crate::host::capture_host(args.label.clone());
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out_dir(&host.hostname));
    let mut writer = ResultsWriter::claim(&out).map_err(|e| UsageError::new(e.to_string()))?;
    let plan = PlanFile {
        disturbance: Some(crate::plan::file::disturbance_settings(&job.policy)),
        workloads: Some(Vec::new()),
        calibration: Some(false),
        pin: Some(vec![args.pin.clone()]),
        scaling: Some(args.scaling.to_string()),
        cores: args.cores.clone(),
        seed: args.seed,
        exec: vec![job.resolved()],
        ..PlanFile::default()
    };
    host.plan_sha256 = Some(crate::plan::file::write_resolved(&writer, &plan)?);
    writer.write_host(&host)?;
    crate::interrupt::install().context("installing the SIGINT and SIGTERM handlers")?;
    let run_id = format!(
        "{}-{}",
        chrono::Local::now().format("%Y%m%dT%H%M%S"),
        std::process::id()
    );
    if !args.quiet {
        eprintln!("{}", job.header(&out));
    }
    let shown = job::Shown {
        quiet: args.quiet,
        progress: !args.no_progress,
        verbose: args.verbose,
    };
    let outcome = job::run_job(&job, &cpus, &mut writer, &run_id, shown)?;
    if let Some(signal) = crate::interrupt::requested() {
        let rendered = crate::render::render_report(&out, &out.join("report"), false)
            .map(|r| format!("; its report: {}", r.index.display()))
            .unwrap_or_else(|e| format!("; its report could not be written: {e:#}"));
        eprintln!(
            "corebench: stopped by {}: {} finished trials kept in {}{rendered}",
            crate::interrupt::name(signal),
            outcome.kept,
            out.display(),
        );
        return Ok(crate::interrupt::exit_code(signal));
    }
    let rendered = crate::render::render_report(&out, &out.join("report"), false)?;
    // With --json, stdout holds the JSON alone, as for `run`.
    let say = |text: &str| crate::output::say(text, args.quiet, args.json);
    say(&reports::terminal::exec_tables(&rendered.analysis))?;
    if args.latency {
        say(&reports::terminal::latency_tables(&rendered.analysis))?;
    }
    say(&format!(
        "results: {}\nreport: {}\n",
        out.display(),
        rendered.index.display()
    ))?;
    if args.json {
        let summary = reports::summary::RunSummary::of(&out, &rendered.analysis, &rendered.index);
        crate::output::println(&serde_json::to_string_pretty(&summary)?)?;
    }
    Ok(if outcome.failed > 0 { 1 } else { 0 })
}

/// Runs the cell's program once and measures it; `env` is added to the
/// environment every run gets.
fn run_once(
    cell: &ExecCell,
    ops_file: &std::path::Path,
    env: &[(String, String)],
) -> Result<TrialOutcome, Failure> {
    let (variant, workers, mask) = (&cell.variant, cell.ctx.workers, &cell.mask[..]);
    let _ = std::fs::remove_file(ops_file);
    let mut env_with = vec![
        (WORKERS_ENV.to_string(), workers.to_string()),
        (OPS_FILE_ENV.to_string(), ops_file.display().to_string()),
    ];
    env_with.extend(env.iter().cloned());
    let env = env_with;
    let before = MachineSnapshot::take();
    let run = child::run_program(
        &substitute(&variant.argv, workers),
        &env,
        mask,
        cell.limit,
        &cell.spare,
        &cell.stdout,
    )?;
    let machine = MachineSnapshot::take().since(&before);
    let mut histogram = new_histogram();
    let latencies = child::read_ops_file(ops_file, |ns| histogram.saturating_record(ns.max(1)));
    let _ = std::fs::remove_file(ops_file);
    let ops = match latencies? {
        Some(count) => count,
        None => {
            histogram.saturating_record(run.wall_ns.max(1));
            1
        }
    };
    let mut counters = std::collections::BTreeMap::new();
    match run.peak_kib {
        Some(kib) => counters.insert("peak_rss_kib".to_string(), kib as f64),
        None => counters.insert(
            "peak_rss_upper_bound_kib".to_string(),
            run.maxrss_upper_bound_kib as f64,
        ),
    };
    let worker = WorkerOutcome {
        index: 0,
        pid: run.pid,
        tid: run.pid,
        placed: Placed {
            core: (mask.len() == 1).then(|| mask[0] as u32),
            cpus_allowed: mask.iter().map(|&c| c as u32).collect(),
        },
        ops,
        wall_ns: run.wall_ns,
        error: None,
    };
    let mut outcome = TrialOutcome::new(vec![worker], histogram, run.cpu, 0, counters);
    outcome.wall_ns = run.wall_ns;
    outcome.spawn_ns = None;
    outcome.children_cpu_ns = run.cpu.user_ns + run.cpu.sys_ns;
    outcome.machine = Some(machine);
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_split_like_a_shell_and_name_their_column() {
        let v = parse_variant("py-threads=python3 -c 'print(1)' --workers {workers}").unwrap();
        assert_eq!(v.label, "py-threads");
        assert_eq!(
            v.argv,
            ["python3", "-c", "print(1)", "--workers", "{workers}"]
        );
        assert_eq!(substitute(&v.argv, 4)[4], "4");
        assert!(parse_variant("no label").is_err());
        assert!(parse_variant("a b=true").is_err());
        assert!(parse_variant("x='unbalanced").is_err());
        assert!(parse_variant("x=").is_err());
    }
}
