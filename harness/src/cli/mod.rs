//! The command line: `corebench run | list | report | compare | host |
//! serve | worker`, parsed with clap and dispatched to the library. Usage
//! errors carry [`UsageError`](crate::error::UsageError) so `main` exits 2 for them and 1 for
//! everything else.
//!
//! - this file: the arguments and the dispatch;
//! - [`run`]: `corebench run`, from the plan to the report;
//! - [`compare`]: `corebench compare`;
//! - [`profile`]: `corebench profile`, one cell with every probe on;
//! - [`list`]: `corebench list`, as text or JSON;
//! - standard output goes through [`crate::output`], where a closed pipe
//!   is a normal end.

pub mod compare;
pub mod list;
pub mod plan_flags;
pub mod profile;
pub mod run;

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use workloads::{Registry, Scaling};

use crate::disturbance::OnDisturbance;
use crate::host::capture_host;
use crate::models::process::child::run_child_worker;
use crate::models::process::wire::ChildArgs;
use crate::plan::Profile;
use crate::recorder::Recording;

/// What `corebench --help` opens with: the tool, for the people using it.
const ABOUT: &str = "How work scales on this machine, and why.

corebench runs CPU-bound, IO-bound, mixed, synchronization, communication \
and stream workloads under every execution model (OS threads, a thread \
pool, rayon, child processes, tokio), sweeps worker counts and core \
placements, records every op's latency, fits Amdahl, Gustafson and the \
USL, measures where each worker's time went, and writes an offline HTML \
report. `corebench compare` sets results from different machines or \
configurations side by side.";

const EXAMPLES: &str = "Examples:
  corebench run --profile quick                 the whole suite, about 30 s, and its report
  corebench run -w cpu/primes -m threads,process -n 1,2,4
  corebench list                                every workload, model and placement
  corebench compare results-a results-b         two runs side by side";

const RUN_EXAMPLES: &str = "Examples:
  corebench run --profile quick
  corebench run plans/amdahl.toml                 a plan file (`corebench list --plans`)
  corebench run gil --trials 3                    a shipped plan, one key overridden
  corebench run --same-as corebench-results/20261130-150000-vm-1234
  corebench run -w cpu/primes,io/sleep:ms=1 -m all -n 1,2,4 -t 5
  corebench run -w sync/counter -m threads --flamegraph --latency
  corebench run --cores 0 -n 1,2 --label one-core -o one-core --json | jq .summary";

const LIST_EXAMPLES: &str = "Examples:
  corebench list
  corebench list --plans
  corebench list --json | jq '.workloads[].id'";

const REPORT_EXAMPLES: &str = "Examples:
  corebench report corebench-results/20261130-150000-vm-1234
  corebench report results-from-another-machine --out /tmp/their-report
  corebench report corebench-results/20261130-150000-vm-1234 --json | jq '.fits[].models[] | {model, law, peak_workers}'";

const COMPARE_EXAMPLES: &str = "Examples:
  corebench compare one-core two-cores
  corebench compare laptop server --baseline laptop --noise 2%
  corebench compare main branch --format md --fail-on-regression";

const PROFILE_EXAMPLES: &str = "Examples:
  corebench profile cpu/primes --model threads --workers 2
  corebench profile sync/counter --model pool --workers 4";

const EXEC_EXAMPLES: &str = "Examples:
  corebench exec --name sleep --variant sh='sh -c \"sleep 0.$COREBENCH_WORKERS\"' -n 1,2
  corebench exec --name primes -n 1,2 \\
      --variant python-threads='python3 examples/python/primes.py --model threads --workers {workers}' \\
      --variant python-processes='python3 examples/python/primes.py --model processes --workers {workers}'";

const COMPLETIONS_EXAMPLES: &str = "Examples:
  corebench completions bash > ~/.local/share/bash-completion/completions/corebench
  corebench completions zsh > ~/.zfunc/_corebench
  corebench completions fish > ~/.config/fish/completions/corebench.fish";

/// How work scales on this machine, and why.
#[derive(Debug, Parser)]
#[command(name = "corebench", version, about = ABOUT, after_help = EXAMPLES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a benchmark plan and write a results folder and its report.
    #[command(after_help = RUN_EXAMPLES)]
    Run(RunArgs),
    /// List workloads (with their parameters), models and placements.
    #[command(after_help = LIST_EXAMPLES)]
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// List the shipped plans (`corebench run NAME`) instead.
        #[arg(long)]
        plans: bool,
    },
    /// Re-render the report of a results folder (from any machine).
    #[command(after_help = REPORT_EXAMPLES)]
    Report {
        /// The results folder (holding host.json and records.jsonl).
        dir: PathBuf,
        /// Where to write the report (default: DIR/report).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Skip malformed record lines with a warning instead of failing.
        #[arg(long)]
        lenient: bool,
        /// Print the summary, every cell and every fit as JSON on stdout
        /// (the same document as `run --json`).
        #[arg(long)]
        json: bool,
    },
    /// Compare two or more results folders (machines or configurations).
    #[command(after_help = COMPARE_EXAMPLES)]
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
    /// Profile one cell with every probe on: where each worker's time went
    /// (on a CPU, waiting for one, blocked), switches, faults, migrations.
    #[command(after_help = PROFILE_EXAMPLES)]
    Profile(profile::ProfileArgs),
    /// Measure any program like a workload: each --variant is a model
    /// column, run once per trial at each worker count.
    #[command(after_help = EXEC_EXAMPLES)]
    Exec(crate::exec::ExecArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish,
    /// powershell) on standard output.
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// The child side of the process model (started by corebench itself).
    #[command(hide = true)]
    Worker(ChildArgs),
    /// (hidden) The guardian of an `exec` run: ends what the program left
    /// if corebench itself is killed.
    #[command(hide = true)]
    ExecGuard {
        /// The run's tag, as the program's processes carry it.
        #[arg(long)]
        tag: String,
        /// The run's scratch folder.
        #[arg(long)]
        scratch: PathBuf,
    },
}

/// `corebench run` options.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// A plan file (PLAN.toml) or a shipped plan's name (`corebench list
    /// --plans`); flags given here override its keys.
    pub plan: Option<String>,
    /// Run again exactly the plan a results folder ran (its plan.toml),
    /// on this machine.
    #[arg(long, value_name = "DIR")]
    pub same_as: Option<PathBuf>,
    /// Run the plan at its smallest, to see that it works: one 20 ms trial
    /// per cell, no warm-up, no retries, up to 2 workers (4 for IO), each exec
    /// program once with its parameters' first values.
    #[arg(long)]
    pub smoke: bool,
    /// Print the resolved plan (every `auto` turned into this machine's
    /// counts, the flags applied) as TOML on stdout, and run nothing.
    #[arg(long)]
    pub print_plan: bool,
    /// The flags given on the command line, by id (filled in by the
    /// parser, not a flag).
    #[arg(skip)]
    pub given: Vec<String>,
    /// Defaults for trials and trial length: quick (~30 s), default (~3 min), full.
    #[arg(long, value_enum, default_value = "default")]
    pub profile: Profile,
    /// Workload specs, ID[:key=value,...], comma-separated (default: every workload).
    #[arg(short = 'w', long)]
    pub workloads: Option<String>,
    /// Execution models, comma-separated, or `all` (default).
    #[arg(short = 'm', long)]
    pub models: Option<String>,
    /// Worker counts, e.g. 1,2,4, or `auto` (1, 2, 4, ... up to the core
    /// count; for IO-bound workloads up to 64 or the core count).
    #[arg(short = 'n', long, allow_negative_numbers = true)]
    pub workers: Option<String>,
    /// Placements, comma-separated: none, compact, scatter, cores=LIST.
    #[arg(long, default_value = "none")]
    pub pin: String,
    /// strong (fixed total work) or weak (fixed work per worker).
    #[arg(long, default_value = "strong")]
    pub scaling: Scaling,
    /// Measured trials per cell (default: the profile's).
    #[arg(short = 't', long, allow_negative_numbers = true)]
    pub trials: Option<u32>,
    /// Warm-up trials per cell before the measured ones, each a tenth of
    /// a measured trial (0: none).
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    pub warmup: u32,
    /// Fix the op count instead of calibrating: total ops (strong), per
    /// worker (weak), or rounds per worker (lockstep workloads).
    #[arg(long, allow_negative_numbers = true)]
    pub ops: Option<u64>,
    /// OS threads of the tokio runtime (default: min(workers, cores)).
    #[arg(long, allow_negative_numbers = true)]
    pub runtime_threads: Option<usize>,
    /// Abandon a trial that runs longer than this, recording `timeout`
    /// (at most 86400).
    #[arg(long, default_value_t = 60.0, allow_negative_numbers = true)]
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
    #[arg(short = 'o', long)]
    pub out: Option<PathBuf>,
    /// Hide the progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Print nothing but failures, warnings and errors (all on stderr).
    #[arg(short = 'q', long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also print each trial as it ends (on stderr).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print one JSON summary of the run on stdout (every cell with its
    /// medians and intervals, and the summary); messages go to stderr.
    #[arg(long)]
    pub json: bool,
    /// Print each cell's latency distribution (p50, p90, p99, p99.9, max),
    /// as wrk's --latency does.
    #[arg(long)]
    pub latency: bool,
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
    #[arg(long, allow_negative_numbers = true)]
    pub server_threads: Option<usize>,
    /// Exit 0 even when cells failed or timed out (they are recorded
    /// either way); by default such a run exits 1, for CI.
    #[arg(long)]
    pub keep_going: bool,
    /// What to do with a trial the rest of the machine disturbed: retry
    /// (run it again), flag (keep it, marked) or ignore (judge nothing).
    #[arg(long, value_enum, default_value = "retry")]
    pub on_disturbance: OnDisturbance,
    /// Re-runs of one disturbed trial at most, with --on-disturbance retry.
    #[arg(long, default_value_t = 3, allow_negative_numbers = true)]
    pub max_retries: u32,
    /// When a trial counts as disturbed, e.g. `others=0.1,steal=0.02`:
    /// runqueue (wait for a CPU beyond the run's own, share of the
    /// workers' time), others (other processes' CPU, share of the cores),
    /// steal, pressure (shares of the time) and cpu-per-op (ratio to the
    /// cell's median). Defaults: runqueue=0.1,others=0.1,steal=0.02,
    /// pressure=0.2,cpu-per-op=1.15.
    #[arg(long, default_value = "")]
    pub disturbance: String,
    /// The seed of the shuffled trial order (default: a new one, saved in
    /// host.json).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Sample each cell's measured trials in-process and draw a flamegraph
    /// per cell (DIR/profiles/CELL.folded, report/flame/CELL.svg).
    #[arg(long)]
    pub flamegraph: bool,
    /// Samples per CPU-second asked for with --flamegraph (1..=10000; the
    /// kernel's tick rate caps what it gives, recorded in CELL.json).
    #[arg(long, default_value_t = 999, allow_negative_numbers = true)]
    pub flamegraph_hz: i64,
    /// Sample every worker thread at a fixed wall-clock rate, running or
    /// not, and say where blocked workers wait: each record's wait_sites,
    /// DIR/profiles/CELL.wall.folded, an off-CPU flamegraph per cell.
    #[arg(long)]
    pub wall_profile: bool,
    /// Samples per second per thread with --wall-profile (1..=1000).
    #[arg(long, default_value_t = crate::wall::DEFAULT_WALL_HZ as i64, allow_negative_numbers = true)]
    pub wall_profile_hz: i64,
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
    /// A change counts only when its whole interval is beyond this, e.g.
    /// 2% or 0.02. The default is 5%: on a shared VM, identical runs
    /// minutes apart differ by up to 7%, every trial alike; use 1% on a
    /// quiet machine.
    #[arg(long, default_value = "5%", value_parser = compare::parse_noise)]
    pub noise: f64,
    /// Exit 1 when any cell is slower than the baseline (for CI).
    #[arg(long)]
    pub fail_on_regression: bool,
    /// html (a report folder), md, csv, or json (Bencher Metric Format).
    #[arg(long, value_enum, default_value = "html")]
    pub format: reports::export::CompareFormat,
    /// Where to write: a folder for html (default
    /// corebench-results/compare-DATE-TIME), a file for the others
    /// (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Skip malformed record lines with a warning instead of failing.
    #[arg(long)]
    pub lenient: bool,
}

/// Runs a parsed command line over the built-in workloads; returns the
/// process exit code on success.
pub fn dispatch(cli: Cli) -> anyhow::Result<i32> {
    dispatch_with(cli, Arc::new(Registry::builtin()))
}

/// Runs a parsed command line whose workloads come from `registry`.
pub fn dispatch_with(cli: Cli, registry: Arc<Registry>) -> anyhow::Result<i32> {
    match cli.command {
        Command::Run(args) => run::run(args, registry),
        Command::Report {
            dir,
            out,
            lenient,
            json,
        } => {
            let out = out.unwrap_or_else(|| dir.join("report"));
            let rendered = crate::render::render_report(&dir, &out, lenient)?;
            if json {
                let summary =
                    reports::summary::RunSummary::of(&dir, &rendered.analysis, &rendered.index);
                crate::output::println(&serde_json::to_string_pretty(&summary)?)?;
            } else {
                crate::output::println(&format!("report: {}", rendered.index.display()))?;
            }
            Ok(0)
        }
        Command::Compare(args) => compare::compare(args),
        Command::List { json, plans } => {
            crate::output::print(&match (json, plans) {
                (true, false) => list::list_json(&registry)?,
                (false, false) => list::list_text(&registry),
                (true, true) => list::plans_json()?,
                (false, true) => list::plans_text(),
            })?;
            Ok(0)
        }
        Command::Completions { shell } => {
            let mut buffer = Vec::new();
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "corebench",
                &mut buffer,
            );
            crate::output::print(&String::from_utf8_lossy(&buffer))?;
            Ok(0)
        }
        Command::Host { label } => {
            crate::output::println(&serde_json::to_string_pretty(&capture_host(label))?)?;
            Ok(0)
        }
        Command::Serve {
            port,
            threads,
            exit_with_parent,
        } => crate::services::serve(port, threads.max(1), exit_with_parent).map(|_| 0),
        Command::Profile(args) => profile::profile(args, registry),
        Command::Exec(args) => crate::exec::exec(args),
        Command::Worker(args) => Ok(run_child_worker(args, &registry)),
        Command::ExecGuard { tag, scratch } => Ok(crate::exec::guard::guard(&tag, &scratch)),
    }
}
