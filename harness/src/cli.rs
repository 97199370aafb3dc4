//! The command line: `corebench run | list | host | worker`, parsed with
//! clap and dispatched to the library. Usage errors carry
//! [`UsageError`] so `main` exits 2 for them and 1 for everything else.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::sync::Arc;

use workloads::{Registry, Scaling};

use crate::error::UsageError;
use crate::host::capture_host;
use crate::models::process::child::run_child_worker;
use crate::models::process::wire::ChildArgs;
use crate::models::ModelKind;
use crate::placement::CpuSet;
use crate::plan::{Plan, PlanInput, Profile};
use crate::recorder::Recording;
use crate::results::{default_out_dir, ResultsWriter};

/// How work scales on this machine, and why.
#[derive(Debug, Parser)]
#[command(name = "corebench", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a benchmark plan and write a results folder.
    Run(RunArgs),
    /// List workloads (with their parameters), models and placements.
    List,
    /// Re-render the report of a results folder (from any machine).
    Report {
        /// The results folder (holding host.json and records.jsonl).
        dir: PathBuf,
        /// Where to write the report (default: DIR/report).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Skip malformed record lines with a warning instead of failing.
        #[arg(long)]
        lenient: bool,
    },
    /// Compare two or more results folders (machines or configurations).
    Compare(CompareArgs),
    /// Print what host.json would say about this machine.
    Host {
        /// A name for this configuration.
        #[arg(long)]
        label: Option<String>,
    },
    /// Run the loopback HTTP server the IO workloads use, until killed:
    /// a target for another machine's `corebench run --target`.
    Serve {
        /// The port on 127.0.0.1 (0: any free port).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Runtime threads serving requests.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Exit when the parent process dies (for corebench itself).
        #[arg(long, hide = true)]
        exit_with_parent: bool,
    },
    /// The child side of the process model (started by corebench itself).
    #[command(hide = true)]
    Worker(ChildArgs),
}

/// `corebench run` options.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Defaults for trials and trial length: quick (~30 s), default (~3 min), full.
    #[arg(long, value_enum, default_value = "default")]
    pub profile: Profile,
    /// Workload specs, ID[:key=value,...], comma-separated (default: every workload).
    #[arg(long)]
    pub workloads: Option<String>,
    /// Execution models, comma-separated, or `all` (default).
    #[arg(long)]
    pub models: Option<String>,
    /// Worker counts, e.g. 1,2,4, or `auto` (1, 2, 4, ... up to the core
    /// count; for IO-bound workloads up to 64 or the core count).
    #[arg(long)]
    pub workers: Option<String>,
    /// Placements, comma-separated: none, compact, scatter, cores=LIST.
    #[arg(long, default_value = "none")]
    pub pin: String,
    /// strong (fixed total work) or weak (fixed work per worker).
    #[arg(long, default_value = "strong")]
    pub scaling: Scaling,
    /// Measured trials per cell (default: the profile's).
    #[arg(long)]
    pub trials: Option<u32>,
    /// Fix the op count instead of calibrating: total ops (strong), per
    /// worker (weak), or rounds per worker (lockstep workloads).
    #[arg(long)]
    pub ops: Option<u64>,
    /// OS threads of the tokio runtime (default: min(workers, cores)).
    #[arg(long)]
    pub runtime_threads: Option<usize>,
    /// Abandon a trial that runs longer than this, recording `timeout`.
    #[arg(long, default_value_t = 60.0)]
    pub trial_timeout_s: f64,
    /// How ops are timed: per-op (two clock reads and a histogram record per
    /// op) or batch (per batch of ops, each op recorded at the batch mean;
    /// for ops of a few microseconds or less).
    #[arg(long = "record", value_enum, default_value = "per-op")]
    pub recording: Recording,
    /// Leave out the cpu/calibrate reference cell that normalises
    /// comparisons across machines.
    #[arg(long)]
    pub no_calibration: bool,
    /// Restrict the whole run (and its children) to these cores, e.g. 0 or
    /// 0,1 or 0-3: a configuration with fewer cores on the same machine.
    #[arg(long)]
    pub cores: Option<String>,
    /// A name for this configuration, shown in reports and comparisons.
    #[arg(long)]
    pub label: Option<String>,
    /// The results folder (default: corebench-results/DATE-TIME-HOST/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Hide the progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// closed (each worker starts its next op when the last ends) or
    /// open:RATE (ops due at RATE per second over all workers; latency
    /// counts from each op's due time, so stalls are not hidden).
    #[arg(long, default_value = "closed")]
    pub load: String,
    /// Point io/http at this HTTP/1.1 server (e.g. nginx) instead of the
    /// loopback server corebench starts: every op GETs this URL.
    #[arg(long)]
    pub target: Option<String>,
    /// Runtime threads of the loopback HTTP server (default: the core
    /// count). On a small machine they compete with the clients.
    #[arg(long)]
    pub server_threads: Option<usize>,
}

/// `corebench compare` options.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// Results folders, one per configuration.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// The folder the others are compared with (default: the first).
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Changes smaller than this never count, e.g. 2% or 0.02.
    #[arg(long, default_value = "2%", value_parser = parse_noise)]
    pub noise: f64,
    /// Exit 1 when any cell is slower than the baseline (for CI).
    #[arg(long)]
    pub fail_on_regression: bool,
    /// html (a report folder), md, csv, or json (Bencher Metric Format).
    #[arg(long, value_enum, default_value = "html")]
    pub format: CompareFormat,
    /// Where to write: a folder for html (default
    /// corebench-results/compare-DATE-TIME), a file for the others
    /// (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Skip malformed record lines with a warning instead of failing.
    #[arg(long)]
    pub lenient: bool,
}

/// Output formats of `corebench compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompareFormat {
    /// An offline HTML report with SVG charts.
    Html,
    /// Markdown tables.
    Md,
    /// One row per cell and configuration.
    Csv,
    /// Bencher Metric Format.
    Json,
}

fn parse_noise(text: &str) -> Result<f64, String> {
    let (number, scale) = match text.trim().strip_suffix('%') {
        Some(percent) => (percent, 0.01),
        None => (text.trim(), 1.0),
    };
    match number.trim().parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.0 && value * scale < 1.0 => Ok(value * scale),
        _ => Err(format!(
            "bad noise threshold '{text}'; expected a percentage like 2% or a fraction like 0.02, below 100%"
        )),
    }
}

fn compare(args: CompareArgs) -> anyhow::Result<i32> {
    use reports::compare::{compare as compare_configs, configurations, CompareOptions};
    use reports::folder::ResultsFolder;

    let mut dirs = args.dirs.clone();
    let same = |a: &Path, b: &Path| match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    };
    let baseline_dir = match &args.baseline {
        Some(base) => {
            if !dirs.iter().any(|d| same(d, base)) {
                dirs.insert(0, base.clone());
            }
            base.clone()
        }
        None => dirs[0].clone(),
    };
    if dirs.len() < 2 {
        return Err(UsageError::new(format!(
            "compare needs two or more results folders (a folder may be given twice); got {}",
            dirs.len()
        ))
        .into());
    }
    let mut folders = Vec::with_capacity(dirs.len());
    for dir in &dirs {
        let (folder, warnings) = ResultsFolder::open_with(dir, args.lenient)
            .map_err(|e| UsageError::new(e.to_string()))?;
        for warning in warnings {
            eprintln!("warning: {warning}");
        }
        folders.push(folder);
    }
    let configs = configurations(&folders);
    // The first configuration that came from the baseline folder.
    let baseline_folder = dirs
        .iter()
        .position(|d| same(d, &baseline_dir))
        .unwrap_or(0);
    let baseline = configs
        .iter()
        .position(|c| same(&c.source, &folders[baseline_folder].dir))
        .unwrap_or(0);
    let comparison = compare_configs(
        configs,
        CompareOptions {
            baseline,
            noise: args.noise,
        },
    );

    match args.format {
        CompareFormat::Html => {
            let out = args.out.clone().unwrap_or_else(|| {
                PathBuf::from("corebench-results").join(format!(
                    "compare-{}",
                    chrono::Local::now().format("%Y%m%d-%H%M%S")
                ))
            });
            let index = reports::compare_report::write_compare_report(&comparison, &out)
                .with_context(|| format!("writing the comparison to {}", out.display()))?;
            println!("{}", reports::compare_report::summary_line(&comparison));
            println!("report: {}", index.display());
        }
        format => {
            use reports::export::{BencherJson, Csv, Exporter, Markdown};
            let exporter: &dyn Exporter<reports::compare::Comparison> = match format {
                CompareFormat::Md => &Markdown,
                CompareFormat::Csv => &Csv,
                _ => &BencherJson,
            };
            let text = exporter.export(&comparison)?;
            match &args.out {
                Some(path) => std::fs::write(path, text).map_err(|e| {
                    UsageError::new(format!("cannot write --out '{}': {e}", path.display()))
                })?,
                None => print!("{text}"),
            }
        }
    }

    let regressions = comparison.regressions();
    if args.fail_on_regression && !regressions.is_empty() {
        for (workload, model, workers, config) in &regressions {
            eprintln!("slower: {workload} under {model} at {workers} workers in {config}");
        }
        eprintln!("{} cells slower than the baseline", regressions.len());
        return Ok(1);
    }
    Ok(0)
}

/// Runs a parsed command line over the built-in workloads; returns the
/// process exit code on success.
pub fn dispatch(cli: Cli) -> anyhow::Result<i32> {
    dispatch_with(cli, Arc::new(Registry::builtin()))
}

/// Runs a parsed command line whose workloads come from `registry`.
pub fn dispatch_with(cli: Cli, registry: Arc<Registry>) -> anyhow::Result<i32> {
    match cli.command {
        Command::Run(args) => run(args, registry).map(|_| 0),
        Command::Report { dir, out, lenient } => {
            let out = out.unwrap_or_else(|| dir.join("report"));
            let index = render_report(&dir, &out, lenient)?;
            println!("report: {}", index.display());
            Ok(0)
        }
        Command::Compare(args) => compare(args),
        Command::List => {
            print!("{}", list_text(&registry));
            Ok(0)
        }
        Command::Host { label } => {
            println!("{}", serde_json::to_string_pretty(&capture_host(label))?);
            Ok(0)
        }
        Command::Serve {
            port,
            threads,
            exit_with_parent,
        } => crate::services::serve(port, threads.max(1), exit_with_parent).map(|_| 0),
        Command::Worker(args) => Ok(run_child_worker(args, &registry)),
    }
}

fn run(args: RunArgs, registry: Arc<Registry>) -> anyhow::Result<()> {
    if !(args.trial_timeout_s.is_finite() && args.trial_timeout_s > 0.0) {
        return Err(UsageError::new(format!(
            "bad --trial-timeout-s {}: expected a number of seconds > 0",
            args.trial_timeout_s
        ))
        .into());
    }
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
        trial_timeout: Duration::from_secs_f64(args.trial_timeout_s),
        recording: args.recording,
        calibration: !args.no_calibration,
        load: args.load,
    };
    if let Some(cores) = &args.cores {
        crate::placement::restrict_process_to(cores)?;
    }
    let mut plan = Plan::build_with(&input, CpuSet::of_this_process(), registry)?;
    let server_threads = match args.server_threads {
        Some(0) => {
            return Err(
                UsageError::new("bad --server-threads 0: expected a whole number >= 1").into(),
            )
        }
        Some(threads) => threads,
        None => plan.cpus.len().max(1),
    };
    let mut host = capture_host(args.label);
    let out = args.out.unwrap_or_else(|| default_out_dir(&host.hostname));
    // Checks --target before the results folder exists. Stopped when `services` drops, on every way out of this function.
    let services = crate::services::start_services(
        &plan.workloads,
        args.target.as_deref(),
        server_threads,
        &out,
    )?;
    plan.io = services.io.clone();
    host.http_server = services.http_server.clone();
    let mut writer = ResultsWriter::create(&out, &host)?;
    let run_id = format!(
        "{}-{}",
        chrono::Local::now().format("%Y%m%dT%H%M%S"),
        std::process::id()
    );
    eprintln!(
        "corebench: {} cells ({} workloads x {} models x workers {:?} x {} placements), {} trials each -> {}",
        plan.cells().len(),
        plan.workloads.len(),
        plan.models.len(),
        plan.workers,
        plan.placements.len(),
        plan.trials,
        out.display()
    );
    let records = crate::runner::run_plan(&plan, &mut writer, &run_id, !args.no_progress)
        .context("the run stopped")?;
    drop(services);
    let cells = reports::cells::summarise_cells(&records);
    print!("{}", reports::terminal::summary_tables(&cells));
    println!("\nresults: {}", out.display());
    let index = render_report(&out, &out.join("report"), false)?;
    println!("report: {}", index.display());
    let child_kib =
        crate::models::process::LARGEST_CHILD_RSS_KIB.load(std::sync::atomic::Ordering::Relaxed);
    if let Some(own_kib) = crate::os::usage::peak_rss_kib() {
        eprintln!(
            "peak RSS: corebench {:.1} MiB, largest child process {:.1} MiB",
            own_kib as f64 / 1024.0,
            child_kib as f64 / 1024.0
        );
    }
    Ok(())
}

/// Reads a results folder and writes its report; returns `index.html`.
/// An unreadable folder is bad input (exit 2); a failed write is not.
fn render_report(dir: &Path, out: &Path, lenient: bool) -> anyhow::Result<PathBuf> {
    let (folder, warnings) = reports::folder::ResultsFolder::open_with(dir, lenient)
        .map_err(|e| UsageError::new(e.to_string()))?;
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
    let written = reports::report::write_report(&folder, out)
        .with_context(|| format!("writing the report of {}", dir.display()))?;
    Ok(written.index)
}

/// The text of `corebench list`.
pub fn list_text(registry: &Registry) -> String {
    let mut out = String::from("WORKLOADS  (spec: ID[:key=value,...])\n");
    for info in registry.infos() {
        let note = if info.in_profiles {
            ""
        } else {
            "  [not in profiles: name it in --workloads]"
        };
        out.push_str(&format!("\n  {}{note}\n      {}\n", info.id, info.summary));
        for p in info.params {
            out.push_str(&format!(
                "      {}={:<12} {} ({})\n",
                p.name, p.default, p.help, p.kind
            ));
        }
    }
    out.push_str("\nMODELS  (--models M,... or all)\n");
    for model in ModelKind::ALL {
        out.push_str(&format!("  {:<14} {}\n", model.name(), model.summary()));
    }
    out.push_str(
        "\nPLACEMENTS  (--pin P,...)\n  none           the OS scheduler decides\n  compact        SMT siblings of one core first, then the next core\n  scatter        one worker per physical core first, siblings last\n  cores=LIST     worker i on LIST[i mod len], e.g. cores=0,2 or cores=0-3\n",
    );
    out
}
