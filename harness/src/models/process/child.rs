//! The child side of the `process` model: `corebench worker` (hidden).
//! It builds the workload and its worker as an in-process model would,
//! says `ready`, waits for `go`, runs its share of the ops, and reports in
//! one `done` message (see [`super::wire`] for the format).

use std::io::{BufRead, Write};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use workloads::{IoEnv, Registry, RunShape};

use super::wire::{ChildArgs, OpenMessage, WorkerMessage, CHILD_FAULT_ENV};
use crate::models::worker_run::{prepare_shared_for, WorkerRun};
use crate::os::clock::monotonic_ns;
use crate::os::usage::{peak_rss_kib, CpuTime};
use crate::pacing::OpenSchedule;
use crate::recorder::schedule::OpSource;

/// Runs `corebench worker` with the workloads of `registry` (the same
/// registry the parent planned with); returns the exit code.
pub fn run_child_worker(args: ChildArgs, registry: &Registry) -> i32 {
    let pid = std::process::id();
    let fault = std::env::var(CHILD_FAULT_ENV).unwrap_or_default();
    let fail = |error: String| {
        send(&WorkerMessage::Failed { pid, error });
        1
    };
    let workload = match registry.parse_spec(&args.workload) {
        Ok(w) => w,
        Err(e) => return fail(e.to_string()),
    };
    let shape = RunShape {
        workers: args.workers,
        scaling: args.scaling,
        total_ops: args.total_ops.unwrap_or(args.op_start + args.op_count),
        io: IoEnv {
            server_url: args.server_url.clone(),
            target_url: std::env::var(super::wire::TARGET_URL_ENV).ok(),
            output_dir: args.output_dir.clone(),
        },
        // A child runs its ops on its own thread, blocking.
        async_ops: false,
    };
    let shared = match prepare_shared_for(workload.as_ref(), shape) {
        Ok(shared) => shared,
        Err(e) => return fail(e.message),
    };
    let open = args.open_rate.filter(|rate| *rate > 0.0);
    // Armed before the worker sets up, which registers its thread.
    let wall = args.wall_hz.and_then(crate::wall::WallProfiler::start);
    let mut run = WorkerRun::set_up_with(
        &shared,
        args.index,
        args.core,
        args.recording,
        open.is_some(),
    );
    if let Some(e) = run.error.take() {
        return fail(e.message);
    }
    run.open_counters();
    if fault == "garbage" {
        println!("this line is not a worker message");
    }
    send(&WorkerMessage::Ready {
        pid,
        core: run.placed.core,
        cpus_allowed: run.placed.cpus_allowed.clone(),
    });

    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    let mut words = line.split_whitespace();
    if words.next() != Some("go") {
        return 1; // The parent gave up on this cell; nobody is listening.
    }
    let base_mono_ns: Option<u64> = words.next().and_then(|w| w.parse().ok());
    match fault.as_str() {
        "crash" => std::process::abort(),
        "hang" => loop {
            std::thread::park();
        },
        _ => {}
    }

    let stop = AtomicBool::new(false);
    let cpu_before = CpuTime::of_process();
    let start_mono_ns = monotonic_ns();
    let release = Instant::now();
    let source = match open {
        Some(rate) => {
            // The parent's base, on this process's Instant clock: both
            // read CLOCK_MONOTONIC.
            let behind = start_mono_ns.saturating_sub(base_mono_ns.unwrap_or(start_mono_ns));
            let base = release
                .checked_sub(Duration::from_nanos(behind))
                .unwrap_or(release);
            let total = args.total_ops.unwrap_or(args.op_start + args.op_count);
            OpSource::Open(OpenSchedule::share(
                base,
                rate,
                total,
                args.index,
                args.workers,
            ))
        }
        None => OpSource::Fixed {
            start: args.op_start,
            count: args.op_count,
        },
    };
    let armed = args.sample_hz.and_then(crate::sampler::Armed::new);
    run.run(source, &stop);
    if let Some(armed) = armed {
        let samples = crate::sampler::capped_child_samples(armed, "corebench-child");
        send(&WorkerMessage::Profile {
            pid,
            stacks: samples.stacks,
            samples: samples.samples,
            dropped: samples.dropped,
            cpu_ns: samples.cpu_ns,
        });
    }
    if let Some(wall) = wall {
        // Its worker thread is labelled `worker{index}` as in-process ones
        // are. Cut as its CPU stacks are: the rarest go first.
        let samples = wall.finish();
        let (stacks, _dropped) = crate::sampler::capped(samples.stacks);
        send(&WorkerMessage::WallProfile {
            pid,
            stacks,
            samples: samples.samples,
        });
    }
    let cpu = CpuTime::of_process().since(cpu_before);
    let end_mono_ns = start_mono_ns
        + run
            .recorder
            .last_op_end
            .map_or(0, |end| end.duration_since(release).as_nanos() as u64);
    let histogram = match reports::histogram::encode(&run.recorder.histogram) {
        Ok(h) => h,
        Err(e) => return fail(e.to_string()),
    };
    let open = match run.recorder.open.as_ref().map(|open| {
        Ok::<_, String>(OpenMessage {
            uncorrected_histogram: reports::histogram::encode(&open.uncorrected)
                .map_err(|e| e.to_string())?,
            pacing_histogram: reports::histogram::encode(&open.pacing)
                .map_err(|e| e.to_string())?,
            late_starts: open.late_starts,
        })
    }) {
        Some(Err(e)) => return fail(e),
        Some(Ok(open)) => Some(open),
        None => None,
    };
    send(&WorkerMessage::Done {
        pid,
        ops: run.recorder.ops,
        start_mono_ns,
        end_mono_ns,
        cpu_user_ns: cpu.user_ns,
        cpu_sys_ns: cpu.sys_ns,
        histogram,
        error: run.error.clone(),
        counters: shared.counters(),
        histograms: shared
            .histograms()
            .iter()
            .filter_map(|(name, h)| Some((name.clone(), reports::histogram::encode(h).ok()?)))
            .collect(),
        peak_rss_kib: peak_rss_kib(),
        sched: run.sched.map(|t| super::wire::SchedMessage {
            stat: t.sched,
            wall_ns: t.wall_ns,
            counts: t.counts,
        }),
        open,
    });
    0
}

fn send(message: &WorkerMessage) {
    let mut out = std::io::stdout().lock();
    // If the parent is gone there is nobody to tell; exit quietly later.
    if let Ok(line) = serde_json::to_string(message) {
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}
