//! Where the workers' time went, with known answers that hold on this
//! machine: the real binary, each worker's accounting read from the kernel.
//! Software perf counters are checked against the kernel's schedstat.
//! One test, its cases one after another: cases running side by side would
//! wait for each other's CPUs.

#[path = "cli/common/mod.rs"]
mod common;

use common::*;
use reports::schema::{Record, Status};

/// Runs a plan of long enough trials and returns its ok records.
fn breakdowns(args: &[&str]) -> Vec<Record> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let output = corebench()
        .args(["run", "--no-progress", "--no-calibration", "--trials", "3"])
        .args(["--on-disturbance", "flag", "--out"])
        .arg(&out)
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    read(&out)
        .records
        .into_iter()
        .filter(|r| r.status == Status::Ok)
        .collect()
}

#[test]
fn where_the_time_went_matches_known_answers() {
    measured_again_on_a_miss(known_answers);
}

fn known_answers() {
    // serial_fraction 0.5: each round is 0.5 serial (worker 0 alone) and
    // 0.5 split over 2 workers (0.25 each), 0.75 in all; worker 1 sleeps
    // through 0.5 of it, so 1/3 of the pair's time is blocked.
    let records = breakdowns(&[
        "--workloads",
        // Rounds of about 3 ms, a quarter of the default's: the blocked
        // share read 0.342-0.344 in three runs here, 0.339-0.341 at 6 ms.
        "synthetic/amdahl:serial_fraction=0.5,round_steps=2500000",
        "--models",
        "threads",
        "--workers",
        "2",
        "--pin",
        "compact",
        // 100 rounds of about 13 ms: 1.3 s a trial, long against the
        // kernel's accounting.
        "--ops",
        "100",
    ]);
    assert!(!records.is_empty());
    for record in &records {
        let b = record.breakdown.as_ref().expect("a breakdown");
        assert!(
            (b.blocked_fraction - 1.0 / 3.0).abs() < 0.07,
            "amdahl: {b:?}"
        );
        for worker in &record.per_worker {
            let os = worker.os.as_ref().expect("each worker's accounting");
            assert!(os.on_cpu_ns.is_some_and(|ns| ns > 0), "{os:?}");
            // Sampled by a thread of its own: a pinned worker is seen on
            // its core.
            assert!(worker.core.is_some());
            assert_eq!(os.mostly_on_core, worker.core, "{os:?}");
        }
    }

    // Two workers on one core wait half their time for it.
    let records = breakdowns(&[
        "--workloads",
        "cpu/primes",
        "--models",
        "threads",
        "--workers",
        "2",
        "--cores",
        "0",
        "--ops",
        "10000",
    ]);
    for record in &records {
        let b = record.breakdown.as_ref().expect("a breakdown");
        assert!((b.runqueue_fraction - 0.5).abs() < 0.1, "one core: {b:?}");
        for worker in &record.per_worker {
            let os = worker.os.as_ref().expect("each worker's accounting");
            assert_eq!(os.mostly_on_core, Some(0), "unpinned, on core 0's mask");
        }
    }

    // A sleeping op is blocked; children account for themselves. Each
    // workload gets its own op count: 100 sleeps of 1 ms make a trial of
    // 50-100 ms (500 made these cells most of the test's time), while the
    // children's CPU time is compared with getrusage's, which needs
    // trials of more than a few ms.
    let mut records = Vec::new();
    for (workload, ops) in [("io/sleep:ms=1", "100"), ("cpu/primes", "500")] {
        records.extend(breakdowns(&[
            "--workloads",
            workload,
            "--models",
            "threads,process,pool",
            "--workers",
            "1,2",
            "--ops",
            ops,
        ]));
    }
    // The pool's submitter is accounted for apart from its workers.
    for record in records.iter().filter(|r| r.model == "pool") {
        let submitter = record
            .submitter_os
            .as_ref()
            .expect("the submitter's accounting");
        assert!(
            submitter.on_cpu_ns.is_some_and(|ns| ns > 0),
            "{submitter:?}"
        );
        assert_eq!(record.per_worker.len(), record.workers as usize);
    }
    for record in records.iter().filter(|r| r.model != "pool") {
        assert!(record.submitter_os.is_none());
    }
    for record in records.iter().filter(|r| r.workload.id == "io/sleep") {
        let b = record.breakdown.as_ref().expect("a breakdown");
        assert!(
            b.blocked_fraction >= 0.9,
            "sleep under {}: {b:?}",
            record.model
        );
    }
    for record in records
        .iter()
        .filter(|r| r.workload.id == "cpu/primes" && r.model == "process")
    {
        // Each child measured itself: its time on a CPU agrees with the
        // CPU time it reported from getrusage within 5%.
        let on_cpu: u64 = record
            .per_worker
            .iter()
            .map(|w| w.os.as_ref().expect("child accounting").on_cpu_ns.unwrap())
            .sum();
        let rusage = record.cpu_user_ns + record.cpu_sys_ns;
        let diff = (on_cpu as f64 - rusage as f64).abs() / rusage as f64;
        assert!(diff < 0.05, "on-CPU {on_cpu} ns against rusage {rusage} ns");
    }

    // Software perf counters agree with schedstat on CPU-bound threads:
    // on-CPU time within 10%, context switches and migrations exactly
    // (give or take the read itself). Where perf_event_open is refused,
    // every counter is null and host.json says why.
    // Pool workers switch hundreds of times a trial, and there the two
    // clocks part (see the README); switch counts still agree.
    for record in records
        .iter()
        .filter(|r| r.workload.id == "cpu/primes" && r.model != "pool")
    {
        for worker in &record.per_worker {
            let os = worker.os.as_ref().expect("each worker's accounting");
            let counter = |name: &str| *os.counters.get(name).expect("every counter named");
            let Some(task_clock_ns) = counter("task_clock_ns") else {
                assert!(os.counters.values().all(Option::is_none), "{os:?}");
                continue;
            };
            let on_cpu = os.on_cpu_ns.unwrap() as f64;
            let off = (task_clock_ns as f64 - on_cpu).abs() / on_cpu;
            // A CPU-bound thread is on a CPU or waiting for one. Time it
            // was neither is time the hypervisor took (steal): task-clock
            // counts it, schedstat does not, so the two part by that much.
            let stolen = os.wall_ns as f64 - on_cpu - os.runqueue_ns.unwrap_or(0) as f64;
            assert!(
                off < 0.10 + stolen.max(0.0) / on_cpu,
                "{}: task-clock against schedstat: {os:?}",
                record.model
            );
            let switches = os.voluntary_switches.unwrap() + os.involuntary_switches.unwrap();
            let counted = counter("context_switches").unwrap();
            assert!(
                switches.abs_diff(counted) <= 2,
                "{}: switches: {os:?}",
                record.model
            );
            let migrations = counter("cpu_migrations").unwrap();
            assert!(os.migrations.unwrap().abs_diff(migrations) <= 1, "{os:?}");
            // Hardware counters are named too, null where the PMU is
            // missing (host.json's `platform` says why).
            assert!(os.counters.contains_key("cycles"), "{os:?}");
        }
    }

    // tokio's blocking pool (tokio::fs) is outside the accounting, and
    // the records say so; the runtime threads still carry theirs.
    let records = breakdowns(&[
        "--workloads",
        "io/file",
        "--models",
        "tokio,tokio-current",
        "--workers",
        "2",
        "--ops",
        "50",
    ]);
    assert!(!records.is_empty());
    for record in &records {
        assert!(
            record.notes.iter().any(|n| n.contains("blocking pool")),
            "{}: {:?}",
            record.model,
            record.notes
        );
        for thread in &record.runtime_thread_placement {
            let os = thread.os.as_ref().expect("runtime thread accounting");
            assert!(os.mostly_on_core.is_some(), "{os:?}");
        }
    }
}
