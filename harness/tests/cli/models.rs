//! The execution models through the real binary: every model runs, the
//! process model runs children, placements, weak scaling, batch recording,
//! refusals with reasons, `--cores`, and the calibration reference.

use crate::common;

use common::*;
use reports::schema::{Record, Status};

#[test]
fn every_model_runs_a_tiny_plan_and_records_decode() {
    let (_dir, out, output) = run_fresh(&[
        "--workloads",
        "cpu/primes:span=20",
        "--models",
        "all",
        "--workers",
        "1,2",
    ]);
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("cpu/primes"), "{stdout}");
    assert!(stdout.contains("speedup"), "{stdout}");
    // The run renders its report and says where.
    let index = out.join("report/index.html");
    assert!(
        stdout.contains(&format!("report: {}", index.display())),
        "{stdout}"
    );
    assert!(index.exists() && out.join("report/summary.csv").exists());

    let folder = read(&out);
    assert!(folder.host.logical_cores >= 1);
    // seq at 1 worker, six models at 1 and 2 workers, two trials each.
    assert_eq!(folder.records.len(), (1 + 6 * 2) * 2);
    for record in &folder.records {
        assert_eq!(record.status, Status::Ok, "{:?}", record.error);
        assert_eq!(record.schema_version, 1);
        assert_consistent(record);
    }
    let models: std::collections::BTreeSet<&str> =
        folder.records.iter().map(|r| r.model.as_str()).collect();
    assert_eq!(models.len(), 7, "{models:?}");
}

#[test]
fn process_model_runs_separate_processes() {
    let (_dir, folder) = run_ok(&[
        "--workloads",
        "synthetic/gil:op_steps=2000",
        "--models",
        "process,threads",
        "--workers",
        "2",
    ]);
    let process: Vec<&Record> = folder
        .records
        .iter()
        .filter(|r| r.model == "process")
        .collect();
    assert_eq!(process.len(), 2);
    for record in process {
        assert_consistent(record);
        let pids: Vec<u32> = record.per_worker.iter().map(|w| w.pid).collect();
        assert!(pids.iter().all(|pid| *pid != record.parent_pid), "{pids:?}");
        assert_ne!(pids[0], pids[1], "one child per worker");
        assert!(record.model_overhead.spawn_ns.is_some());
    }
    for record in folder.records.iter().filter(|r| r.model == "threads") {
        assert!(record.per_worker.iter().all(|w| w.pid == record.parent_pid));
    }
}

#[test]
fn pinned_workers_record_the_cores_they_were_given() {
    let (_dir, folder) = run_ok(&[
        "--workloads",
        "cpu/sha256:block_bytes=256",
        "--models",
        "threads,pool,rayon,process,tokio,tokio-current",
        "--workers",
        "1,2",
        "--pin",
        "compact,cores=0",
    ]);
    assert!(!folder.records.is_empty());
    for record in &folder.records {
        assert_eq!(record.status, Status::Ok, "{:?}", record.error);
        assert!(record.placement.requested_cores.iter().all(Option::is_some));
        if record.model.starts_with("tokio") {
            // Tasks run on the runtime's threads; those are what is pinned.
            assert_eq!(
                record.runtime_thread_placement.len(),
                record.runtime_threads.unwrap() as usize
            );
            for thread in &record.runtime_thread_placement {
                let wanted = record.placement.requested_cores[thread.index as usize];
                assert_eq!(thread.core, wanted, "{record:?}");
                assert_eq!(thread.cpus_allowed, vec![wanted.unwrap()]);
            }
        } else {
            for worker in &record.per_worker {
                let wanted = record.placement.requested_cores[worker.index as usize];
                assert_eq!(
                    worker.core, wanted,
                    "{} worker {}",
                    record.model, worker.index
                );
                assert_eq!(worker.cpus_allowed, vec![wanted.unwrap()]);
            }
        }
        if record.placement.strategy == "cores=0" {
            assert!(record
                .placement
                .requested_cores
                .iter()
                .all(|c| *c == Some(0)));
        }
    }
}

#[test]
fn weak_scaling_gives_every_worker_the_same_work() {
    let (_dir, folder) = run_ok(&[
        "--workloads",
        "cpu/primes:span=20",
        "--models",
        "threads,process",
        "--workers",
        "1,2",
        "--scaling",
        "weak",
    ]);
    for record in &folder.records {
        assert_eq!(record.scaling, "weak");
        assert_eq!(record.ops, 200 * u64::from(record.workers), "{record:?}");
        assert_consistent(record);
    }
}

#[test]
fn batch_recording_still_counts_every_op() {
    let (_dir, folder) = run_ok(&[
        "--workloads",
        "cpu/primes:span=20",
        "--models",
        "seq,threads,pool,rayon,process,tokio,tokio-current",
        "--workers",
        "2",
        "--record",
        "batch",
    ]);
    for record in &folder.records {
        assert_consistent(record);
        // A pool job is one op, so the pool always times ops one by one.
        let expected = if record.model == "pool" {
            "per-op"
        } else {
            "batch"
        };
        assert_eq!(record.recording, expected, "{}", record.model);
    }
}

#[test]
fn models_that_cannot_run_a_workload_say_why_in_a_record() {
    let (_dir, folder) = run_ok(&[
        "--workloads",
        "synthetic/amdahl:round_steps=20000",
        "--models",
        "process,pool,threads",
        "--workers",
        "2",
    ]);
    let by_model = |model: &str| {
        folder
            .records
            .iter()
            .filter(|r| r.model == model)
            .collect::<Vec<_>>()
    };
    let process = by_model("process");
    assert_eq!(process.len(), 1);
    assert_eq!(process[0].status, Status::Unsupported);
    assert!(process[0]
        .error
        .as_deref()
        .unwrap()
        .contains("share no memory"));
    let pool = by_model("pool");
    assert_eq!(pool[0].status, Status::Unsupported);
    assert!(pool[0].error.as_deref().unwrap().contains("lockstep"));
    for record in by_model("threads") {
        assert_eq!(record.status, Status::Ok);
        // Lockstep: every worker ran every round.
        assert!(record.per_worker.iter().all(|w| w.ops == 200));
        assert_consistent(record);
    }
}

#[test]
fn every_run_includes_the_calibration_reference_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let output = corebench()
        .args(["run", "--no-progress", "--trials", "2", "--ops", "100"])
        .args(["--on-disturbance", "flag"])
        .args([
            "--workloads",
            "cpu/primes:span=20",
            "--models",
            "threads,rayon",
            "--workers",
            "1,2",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let folder = read(&out);
    let calibration: Vec<&Record> = folder
        .records
        .iter()
        .filter(|r| r.workload.id == "cpu/calibrate")
        .collect();
    assert_eq!(calibration.len(), 7, "one cell, at least seven trials");
    assert!(calibration
        .iter()
        .all(|r| r.model == "seq" && r.workers == 1 && r.status == Status::Ok));
    assert_eq!(
        folder.records[0].workload.id, "cpu/calibrate",
        "it runs first"
    );
}

#[test]
fn cores_restricts_the_whole_run() {
    let (dir, out, output) = run_fresh(&[
        "--workloads",
        "cpu/primes:span=20",
        "--models",
        "threads,process,tokio",
        "--cores",
        "0",
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let folder = read(&out);
    assert_eq!(folder.host.available_cores, vec![0]);
    // auto workers on one core is just 1.
    assert!(folder.records.iter().all(|r| r.workers == 1));
    for record in &folder.records {
        for worker in &record.per_worker {
            assert_eq!(
                worker.cpus_allowed,
                vec![0],
                "{} worker {}",
                record.model,
                worker.index
            );
        }
    }
    let output = run(&dir.path().join("never"), &["--cores", "4096"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("core 4096"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn trials_run_round_by_round_in_an_order_the_seed_repeats() {
    let plan = [
        "--workloads",
        "cpu/primes:span=20",
        "--models",
        "threads,tokio",
        "--workers",
        "1,2",
        "--seed",
        "42",
    ];
    let cell_order = || {
        let (_dir, folder) = run_ok(&plan);
        assert_eq!(folder.host.trial_order_seed, Some(42));
        let cells: Vec<(String, u32, u32)> = folder
            .records
            .iter()
            .map(|r| {
                (
                    r.model.clone(),
                    r.workers,
                    r.round.expect("every trial has a round"),
                )
            })
            .collect();
        // Round by round: every cell once per round, rounds in order.
        for (i, chunk) in cells.chunks(4).enumerate() {
            assert!(chunk.iter().all(|c| c.2 == i as u32), "{cells:?}");
            let mut distinct: Vec<_> = chunk.iter().map(|c| (&c.0, c.1)).collect();
            distinct.sort();
            distinct.dedup();
            assert_eq!(distinct.len(), 4, "{cells:?}");
        }
        cells
    };
    assert_eq!(cell_order(), cell_order(), "the same seed, the same order");
}
