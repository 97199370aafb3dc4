//! `corebench profile SPEC --model M --workers N`: one cell with every
//! probe on, the quick "why is this slow" loop. It runs the cell as `run`
//! would (a results folder, the machine's view, each worker's accounting),
//! then prints where each worker's time went in the median trial, the
//! counters, where each thread waited (the wall-clock profile's top wait
//! sites), and the paths of the cell's flamegraphs.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use reports::schema::{Record, Status, ThreadOs};
use workloads::Registry;

use super::{Cli, Command};
use crate::error::UsageError;
use crate::output::print;

/// `corebench profile` options.
#[derive(Debug, clap::Args)]
pub struct ProfileArgs {
    /// The workload spec, ID[:key=value,...].
    pub spec: String,
    /// The execution model.
    #[arg(long, default_value = "threads")]
    pub model: String,
    /// Workers.
    #[arg(long, default_value = "2", allow_negative_numbers = true)]
    pub workers: String,
    /// Measured trials.
    #[arg(long, default_value_t = 3, allow_negative_numbers = true)]
    pub trials: u32,
    /// Placement, as for `run --pin`.
    #[arg(long, default_value = "none")]
    pub pin: String,
    /// Fix the op count instead of calibrating.
    #[arg(long, allow_negative_numbers = true)]
    pub ops: Option<u64>,
    /// The results folder (default: corebench-results/profile-DATE-TIME-PID).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Runs `corebench profile`; returns the exit code.
pub fn profile(args: ProfileArgs, registry: Arc<Registry>) -> anyhow::Result<i32> {
    if args.workers.contains(',') {
        return Err(UsageError::new(format!(
            "bad --workers '{}': profile runs one cell, give one worker count",
            args.workers
        ))
        .into());
    }
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("corebench-results").join(format!(
            "profile-{}-{}",
            chrono::Local::now().format("%Y%m%d-%H%M%S"),
            std::process::id()
        ))
    });
    let mut argv: Vec<String> = [
        "corebench",
        "run",
        "--no-progress",
        "--no-calibration",
        "--keep-going",
        "--on-disturbance",
        "flag",
        "--workloads",
        &args.spec,
        "--models",
        &args.model,
        "--workers",
        &args.workers,
        "--pin",
        &args.pin,
        "--flamegraph",
        "--wall-profile",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    argv.extend(["--trials".into(), args.trials.to_string()]);
    if let Some(ops) = args.ops {
        argv.extend(["--ops".into(), ops.to_string()]);
    }
    argv.extend(["--out".into(), out.display().to_string()]);
    let Command::Run(run_args) = Cli::try_parse_from(&argv)
        .map_err(|e| UsageError::new(e.to_string().trim().to_string()))?
        .command
    else {
        unreachable!("the arguments name `run`");
    };
    let code = super::run::run(run_args, registry)?;
    let folder = reports::folder::ResultsFolder::open(&out)?;
    let mut text = profile_text(&folder.records);
    if let Some(record) = folder.records.iter().find(|r| r.status == Status::Ok) {
        let name = reports::flame::profile_name(&reports::cells::CellKey::of(record));
        let svg = out
            .join("report")
            .join(reports::flame::FLAME_DIR)
            .join(format!("{name}.svg"));
        if svg.is_file() {
            text.push_str(&format!("flamegraph: {}\n", svg.display()));
        }
        let wall = out
            .join(reports::flame::PROFILES_DIR)
            .join(format!("{name}{}.folded", reports::flame::WALL_SUFFIX));
        text.push_str(&wait_text(&wall));
        let offcpu = svg.with_file_name(format!("{name}{}.svg", reports::flame::OFFCPU_SUFFIX));
        if offcpu.is_file() {
            text.push_str(&format!("off-CPU flamegraph: {}\n", offcpu.display()));
        }
    }
    print(&text)?;
    Ok(code)
}

/// Sites shown per thread.
const SITES_PER_THREAD: usize = 3;

/// Where each thread of the cell waited, over all its trials, from its
/// wall-clock profile (`CELL.wall.folded`); empty without one.
fn wait_text(folded: &std::path::Path) -> String {
    let Ok(bytes) = reports::input::read_capped(folded, reports::flame::FOLDED_MAX_BYTES) else {
        return String::new();
    };
    let stacks = reports::waits::parse_folded(&String::from_utf8_lossy(&bytes));
    let threads = reports::waits::read_per_thread(&stacks);
    if threads.is_empty() {
        return String::new();
    }
    let mut out = "where each thread waited (wall-clock samples, all trials):\n".to_string();
    for (thread, reading) in threads {
        let profile = &reading.profile;
        out.push_str(&format!(
            "  {thread}: on a CPU {:.1}%, waiting for one {:.1}%, blocked {:.1}% of {} samples\n",
            profile.on_cpu_fraction * 100.0,
            profile.runqueue_fraction * 100.0,
            profile.blocked_fraction * 100.0,
            profile.samples
        ));
        for site in reading.sites.iter().take(SITES_PER_THREAD) {
            out.push_str(&format!(
                "    {:.1}% of its blocked time: {} ({}{})\n",
                site.share_of_blocked * 100.0,
                reports::waits::site_phrase(site),
                site.primitive.phrase(),
                if site.in_async_task {
                    ", inside an async task: a blocking call on an executor thread"
                } else {
                    ""
                }
            ));
        }
    }
    out
}

/// Where each worker's time went in the median trial, and the counters.
pub fn profile_text(records: &[Record]) -> String {
    let mut ok: Vec<&Record> = records.iter().filter(|r| r.status == Status::Ok).collect();
    if ok.is_empty() {
        return "\nno successful trial to profile\n".to_string();
    }
    ok.sort_by_key(|r| r.wall_ns);
    let record = ok[ok.len() / 2];
    let mut out = format!(
        "\nwhere the time went: {} under {} at {} (trial {}, the median of {} ok {})\n",
        record.workload.spec,
        record.model,
        reports::format::workers_phrase(record.workers),
        record.trial,
        ok.len(),
        if ok.len() == 1 { "trial" } else { "trials" }
    );
    let mut threads: Vec<(String, &ThreadOs)> = if record.runtime_thread_placement.is_empty() {
        record
            .per_worker
            .iter()
            .filter_map(|w| Some((format!("worker {}", w.index), w.os.as_ref()?)))
            .collect()
    } else {
        record
            .runtime_thread_placement
            .iter()
            .filter_map(|t| Some((format!("runtime thread {}", t.index), t.os.as_ref()?)))
            .collect()
    };
    if let Some(os) = &record.submitter_os {
        threads.push(("submitter".to_string(), os));
    }
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        "thread",
        "on CPU",
        "user",
        "system",
        "run queue",
        "blocked",
        "switches (vol/invol)",
        "faults (minor/major)",
        "migrations",
        "mostly on core",
    ]);
    let share = |part: Option<u64>, wall: u64| {
        part.filter(|_| wall > 0).map_or("null".to_string(), |p| {
            format!("{:.1}%", p as f64 * 100.0 / wall as f64)
        })
    };
    let pair = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) => format!("{a} / {b}"),
        _ => "null".to_string(),
    };
    for (name, os) in &threads {
        let blocked = os
            .on_cpu_ns
            .zip(os.runqueue_ns)
            .map(|(on, rq)| os.wall_ns.saturating_sub(on).saturating_sub(rq));
        table.add_row(vec![
            name.clone(),
            share(os.on_cpu_ns, os.wall_ns),
            share(os.user_ns, os.wall_ns),
            share(os.sys_ns, os.wall_ns),
            share(os.runqueue_ns, os.wall_ns),
            share(blocked, os.wall_ns),
            pair(os.voluntary_switches, os.involuntary_switches),
            pair(os.minor_faults, os.major_faults),
            os.migrations.map_or("null".into(), |m| m.to_string()),
            os.mostly_on_core
                .or(os.last_core)
                .map_or("-".into(), |c| c.to_string()),
        ]);
    }
    out.push_str(&format!("{table}\n"));
    for (name, os) in &threads {
        if os.counters.is_empty() {
            continue;
        }
        let counters: Vec<String> = os
            .counters
            .iter()
            .map(|(k, v)| format!("{k}={}", v.map_or("null".into(), |v| v.to_string())))
            .collect();
        out.push_str(&format!("perf counters, {name}: {}\n", counters.join(", ")));
    }
    if let Some(b) = &record.breakdown {
        out.push_str(&format!(
            "all threads: on CPU {:.1}%, waiting for a CPU {:.1}%, blocked {:.1}%; {:.3} context switches and {:.4} migrations per op\n",
            b.on_cpu_fraction * 100.0,
            b.runqueue_fraction * 100.0,
            b.blocked_fraction * 100.0,
            b.switches_per_op,
            b.migrations_per_op,
        ));
        if let (Some(ipc), Some(instructions)) = (b.ipc, b.instructions_per_op) {
            out.push_str(&format!(
                "hardware: {ipc:.2} instructions per cycle, {instructions:.0} instructions and {} cache misses per op\n",
                b.cache_misses_per_op.map_or("?".into(), |m| format!("{m:.1}"))
            ));
        }
    }
    if let Some(machine) = &record.machine {
        out.push_str(&format!(
            "the machine: others used {} cores, steal {}, disturbed: {}{}\n",
            machine
                .others_cpu_cores
                .map_or("?".into(), |c| format!("{c:.2}")),
            machine
                .steal_fraction
                .map_or("?".into(), |s| format!("{:.1}%", s * 100.0)),
            machine.disturbed,
            if machine.reasons.is_empty() {
                String::new()
            } else {
                format!(" ({})", machine.reasons.join("; "))
            }
        ));
    }
    if !record.counters.is_empty() {
        let counters: Vec<String> = record
            .counters
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        out.push_str(&format!("workload counters: {}\n", counters.join(", ")));
    }
    out
}
