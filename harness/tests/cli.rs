//! CLI tests: the real `corebench` binary on tiny plans, read back through
//! the `reports` crate as any user of a results folder would.

mod common;

use std::path::Path;

use common::*;
use reports::schema::{Record, Status};

#[test]
fn every_model_runs_a_tiny_plan_and_records_decode() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let output = run(
        &out,
        &[
            "--workloads",
            "cpu/primes:span=20",
            "--models",
            "all",
            "--workers",
            "1,2",
        ],
    );
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
fn bad_input_exits_2_with_one_line_naming_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--workloads", "cpu/nope"], "cpu/nope"),
        (vec!["--workloads", "cpu/primes:bogus=1"], "bogus"),
        (
            vec!["--workloads", "synthetic/amdahl:serial_fraction=1.5"],
            "serial_fraction=1.5",
        ),
        (vec!["--models", "fibers"], "fibers"),
        (vec!["--workers", "0"], "'0'"),
        (vec!["--pin", "sideways"], "sideways"),
        (vec!["--pin", "cores=4096"], "core 4096"),
        (vec!["--scaling", "diagonal"], "diagonal"),
    ];
    for (args, needle) in cases {
        let output = run(&dir.path().join("never"), &args);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    let output = corebench()
        .args(["run", "--trials", "0", "--workloads", "cpu/primes"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("--trials 0"));

    // Valid choices are named too.
    let output = run(&dir.path().join("never"), &["--models", "fibers"]);
    assert!(text(&output.stderr).contains("tokio-current"));

    let output = run(
        Path::new("/proc/corebench-cannot-write-here"),
        &["--workloads", "cpu/primes"],
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("/proc/corebench-cannot-write-here"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}

#[test]
fn a_panicking_workload_fails_its_cell_and_the_run_goes_on() {
    let (_dir, folder) = run_ok(&[
        "--workloads",
        "synthetic/faulty:mode=panic,at_op=5,synthetic/faulty:mode=error,cpu/primes:span=20",
        "--models",
        "seq,threads,pool,rayon,process,tokio,tokio-current",
        "--workers",
        "2",
    ]);
    let faulty: Vec<&Record> = folder
        .records
        .iter()
        .filter(|r| r.workload.id == "synthetic/faulty")
        .collect();
    // Every faulty cell leaves exactly one failed record saying why.
    assert_eq!(faulty.len(), 2 * 7, "{faulty:?}");
    for record in faulty {
        assert_eq!(record.status, Status::Failed, "{record:?}");
        let error = record.error.as_deref().unwrap();
        assert!(error.contains("on purpose"), "{}: {error}", record.model);
    }
    let primes_ok = folder
        .records
        .iter()
        .filter(|r| r.workload.id == "cpu/primes" && r.status == Status::Ok)
        .count();
    assert_eq!(primes_ok, 7 * 2, "the cells after the failures still ran");
}

#[test]
fn a_crashing_babbling_or_hanging_child_fails_its_cell() {
    for (fault, status, needle) in [
        ("crash", Status::Failed, "exited before reporting"),
        ("garbage", Status::Failed, "not a worker message"),
        ("hang", Status::Timeout, "time limit"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("results");
        let output = run_with_fault(
            &out,
            &[
                "--workloads",
                "cpu/primes:span=20",
                "--models",
                "process,threads",
                "--workers",
                "2",
                "--trial-timeout-s",
                "1",
            ],
            fault,
        );
        assert!(output.status.success(), "{fault}: {}", text(&output.stderr));
        let folder = read(&out);
        let process: Vec<&Record> = folder
            .records
            .iter()
            .filter(|r| r.model == "process")
            .collect();
        assert_eq!(process.len(), 1, "{fault}");
        assert_eq!(process[0].status, status, "{fault}");
        let error = process[0].error.as_deref().unwrap();
        assert!(error.contains(needle), "{fault}: {error}");
        assert!(folder
            .records
            .iter()
            .any(|r| r.model == "threads" && r.status == Status::Ok));
    }
}

#[test]
fn a_hanging_workload_times_out_and_the_run_goes_on() {
    let (_dir, folder) = run_ok(&[
        "--workloads",
        "synthetic/faulty:mode=hang,at_op=150,cpu/primes:span=20",
        "--models",
        "threads,rayon",
        "--workers",
        "2",
        "--trial-timeout-s",
        "1",
    ]);
    let hung: Vec<&Record> = folder
        .records
        .iter()
        .filter(|r| r.workload.id == "synthetic/faulty")
        .collect();
    assert_eq!(hung.len(), 2);
    for record in hung {
        assert_eq!(record.status, Status::Timeout, "{record:?}");
        assert!(record.error.as_deref().unwrap().contains("abandoned"));
    }
    assert_eq!(
        folder
            .records
            .iter()
            .filter(|r| r.workload.id == "cpu/primes" && r.status == Status::Ok)
            .count(),
        4
    );
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
fn without_out_results_go_to_a_dated_folder() {
    let dir = tempfile::tempdir().unwrap();
    let output = corebench()
        .current_dir(dir.path())
        .args([
            "run",
            "--no-progress",
            "--no-calibration",
            "--trials",
            "1",
            "--ops",
            "50",
        ])
        .args([
            "--workloads",
            "cpu/primes:span=10",
            "--models",
            "seq",
            "--label",
            "ci-config",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let parent = dir.path().join("corebench-results");
    let folders: Vec<_> = std::fs::read_dir(&parent).unwrap().collect();
    assert_eq!(folders.len(), 1);
    let folder = read(&folders[0].as_ref().unwrap().path());
    assert_eq!(folder.host.label.as_deref(), Some("ci-config"));
    assert_eq!(folder.records.len(), 1);
    assert!(text(&output.stdout).contains("results: corebench-results/"));
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_killed_run_keeps_every_finished_trial() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("corebench"))
        .args(["run", "--no-progress", "--trials", "100000", "--ops", "400"])
        .args([
            "--workloads",
            "cpu/primes:span=100",
            "--models",
            "threads",
            "--workers",
            "1",
        ])
        .arg("--out")
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed however the test ends, so a failure leaves no run behind.
    let mut child = KillOnDrop(child);
    let records = out.join("records.jsonl");
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::fs::read_to_string(&records).map_or(0, |t| t.lines().count()) < 3 {
        assert!(std::time::Instant::now() < give_up, "no records appeared");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    let folder = read(&out);
    assert!(folder.records.len() >= 3);
    assert!(folder.records.len() < 100_000, "killed before the end");
    for record in &folder.records {
        assert_consistent(record);
    }
}

#[test]
fn list_and_host_describe_workloads_models_and_machine() {
    let output = corebench().arg("list").output().unwrap();
    assert!(output.status.success());
    let stdout = text(&output.stdout);
    for needle in [
        "cpu/primes",
        "cpu/mandelbrot",
        "cpu/sha256",
        "synthetic/amdahl",
        "serial_fraction=0.25",
        "synthetic/gil",
        "locked_fraction",
        "tokio-current",
        "scatter",
    ] {
        assert!(stdout.contains(needle), "list lacks {needle}");
    }

    let output = corebench()
        .args(["host", "--label", "<script>x</script>"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let host: reports::schema::Host = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(host.label.as_deref(), Some("<script>x</script>"));
    assert!(host.logical_cores >= 1 && !host.topology.is_empty());
}

#[test]
fn report_re_renders_a_folder_and_refuses_broken_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let output = run(
        &out,
        &[
            "--workloads",
            "cpu/primes:span=20",
            "--models",
            "seq,threads",
            "--workers",
            "1,2",
        ],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));

    // A folder copied from elsewhere, rendered somewhere else.
    let copied = dir.path().join("from-another-machine");
    std::fs::create_dir(&copied).unwrap();
    for name in ["host.json", "records.jsonl"] {
        std::fs::copy(out.join(name), copied.join(name)).unwrap();
    }
    let elsewhere = dir.path().join("rendered");
    let output = corebench()
        .arg("report")
        .arg(&copied)
        .arg("--out")
        .arg(&elsewhere)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(elsewhere.join("index.html").exists());
    assert!(text(&output.stdout).contains("index.html"));

    let report = |folder: &Path, extra: &[&str]| {
        corebench()
            .arg("report")
            .arg(folder)
            .args(extra)
            .output()
            .unwrap()
    };
    let records = std::fs::read_to_string(copied.join("records.jsonl")).unwrap();

    // A malformed line in the middle: an error naming file and line...
    let mut lines: Vec<&str> = records.lines().collect();
    lines.insert(1, "{\"schema_version\":1,\"not\":\"a record\"}");
    std::fs::write(copied.join("records.jsonl"), lines.join("\n") + "\n").unwrap();
    let output = report(&copied, &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("records.jsonl:2"),
        "{}",
        text(&output.stderr)
    );
    // ...skipped with a warning under --lenient.
    let output = report(&copied, &["--lenient"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("warning: skipped"),
        "{}",
        text(&output.stderr)
    );

    // A newer schema version.
    let newer = records.replacen("\"schema_version\":1", "\"schema_version\":2", 1);
    std::fs::write(copied.join("records.jsonl"), newer).unwrap();
    let output = report(&copied, &["--lenient"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("schema_version 2"),
        "{}",
        text(&output.stderr)
    );

    // No host.json.
    std::fs::remove_file(copied.join("host.json")).unwrap();
    let output = report(&copied, &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("host.json"),
        "{}",
        text(&output.stderr)
    );

    // Not a folder at all.
    let output = report(&dir.path().join("nothing-here"), &[]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn every_run_includes_the_calibration_reference_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let output = corebench()
        .args(["run", "--no-progress", "--trials", "2", "--ops", "100"])
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
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let output = run(
        &out,
        &[
            "--workloads",
            "cpu/primes:span=20",
            "--models",
            "threads,process,tokio",
            "--cores",
            "0",
        ],
    );
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
fn compare_reports_formats_regressions_and_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for (folder, label) in [(&a, "one"), (&b, "two")] {
        let output = corebench()
            .args([
                "run",
                "--no-progress",
                "--trials",
                "3",
                "--ops",
                "200",
                "--label",
                label,
            ])
            .args([
                "--workloads",
                "cpu/primes:span=20",
                "--models",
                "seq,threads",
                "--workers",
                "1,2",
            ])
            .arg("--out")
            .arg(folder)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", text(&output.stderr));
    }
    let (a_str, b_str) = (a.to_str().unwrap(), b.to_str().unwrap());
    let html = dir.path().join("cmp");
    let output = corebench_with(&["compare", a_str, b_str, "--out", html.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(html.join("index.html").exists());
    let stdout = text(&output.stdout);
    assert!(stdout.contains("Against the baseline one"), "{stdout}");

    for (format, needle) in [
        ("md", "| workers |"),
        ("csv", "workload,scaling"),
        ("json", "\"throughput\""),
    ] {
        let output = corebench_with(&["compare", a_str, b_str, "--format", format]);
        assert!(
            output.status.success(),
            "{format}: {}",
            text(&output.stderr)
        );
        assert!(text(&output.stdout).contains(needle), "{format}");
    }
    let bmf: serde_json::Value = serde_json::from_slice(
        &corebench_with(&["compare", a_str, b_str, "--format", "json"]).stdout,
    )
    .unwrap();
    assert!(bmf
        .as_object()
        .unwrap()
        .keys()
        .any(|k| k.starts_with("two/cpu/primes")));

    // A folder against itself: unchanged everywhere, and no regression.
    let output = corebench_with(&[
        "compare",
        a_str,
        a_str,
        "--format",
        "md",
        "--fail-on-regression",
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("0 faster, 0 slower"));

    // A copy made 3x slower everywhere fails --fail-on-regression.
    let slow = dir.path().join("slow");
    std::fs::create_dir(&slow).unwrap();
    std::fs::copy(a.join("host.json"), slow.join("host.json")).unwrap();
    let records = std::fs::read_to_string(a.join("records.jsonl")).unwrap();
    let slowed: Vec<String> = records
        .lines()
        .map(|line| {
            let mut record: serde_json::Value = serde_json::from_str(line).unwrap();
            let t = record["throughput_ops_s"].as_f64().unwrap();
            record["throughput_ops_s"] = serde_json::json!(t / 3.0);
            record.to_string()
        })
        .collect();
    std::fs::write(slow.join("records.jsonl"), slowed.join("\n") + "\n").unwrap();
    let output = corebench_with(&[
        "compare",
        slow.to_str().unwrap(),
        "--baseline",
        a_str,
        "--format",
        "csv",
        "--fail-on-regression",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("slower"),
        "{}",
        text(&output.stderr)
    );

    // Bad input: one folder, a folder that is not a results folder, a bad
    // noise threshold.
    for args in [
        vec!["compare", a_str],
        vec!["compare", a_str, dir.path().to_str().unwrap()],
        vec!["compare", a_str, b_str, "--noise", "lots"],
    ] {
        let output = corebench_with(&args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&output.stderr)
        );
    }
}

#[test]
fn counters_end_exact_and_lost_updates_are_counted_honestly() {
    let impls = [
        "std-mutex",
        "parking_lot-mutex",
        "rwlock",
        "atomic",
        "sharded",
        "sharded-padded",
    ];
    let specs: Vec<String> = impls
        .iter()
        .map(|i| format!("sync/counter:impl={i},outside_steps=200,cs_steps=20"))
        .chain([
            "race/lost-update:outside_steps=100".to_string(),
            "race/lost-update:impl=fetch-add,outside_steps=100".to_string(),
        ])
        .collect();
    let (_dir, folder) = run_ok(&[
        "--workloads",
        &specs.join(","),
        "--models",
        "threads,pool,rayon,process,tokio,tokio-current",
        "--workers",
        "1,2",
    ]);
    for record in &folder.records {
        if record.model == "process" {
            assert_eq!(
                record.status,
                Status::Unsupported,
                "{}",
                record.workload.spec
            );
            continue;
        }
        assert_eq!(
            record.status,
            Status::Ok,
            "{}: {:?}",
            record.workload.spec,
            record.error
        );
        assert_consistent(record);
        let (expected, actual, lost) = (
            counter(record, "expected_count"),
            counter(record, "actual_count"),
            counter(record, "lost_updates"),
        );
        assert_eq!(lost, expected - actual, "{}", record.workload.spec);
        let racy = record.workload.spec.contains("impl=load-store");
        let reads = record.workload.spec.contains("impl=rwlock");
        if !reads {
            assert_eq!(
                expected, record.ops as f64,
                "every op wrote once: {}",
                record.workload.spec
            );
        }
        if !racy {
            assert_eq!(
                lost, 0.0,
                "{} under {} lost updates",
                record.workload.spec, record.model
            );
        }
        if record.workers > 1 {
            let fairness = record
                .fairness
                .as_ref()
                .expect("multi-worker records carry fairness");
            assert!(fairness.jain_index > 0.0 && fairness.jain_index <= 1.0 + 1e-9);
        }
    }
}

#[test]
fn inverted_lock_order_is_recorded_as_a_deadlock_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let started = std::time::Instant::now();
    // Enough ops that the two workers are surely mid-op at the same time,
    // however loaded the machine is.
    let output = corebench()
        .args(["run", "--no-progress", "--no-calibration", "--trials", "2", "--ops", "20000"])
        .args([
            "--workloads",
            "deadlock/lock-order:order=inverted,watchdog_ms=200,deadlock/lock-order:order=consistent,hold_steps=100,cpu/primes:span=20",
            "--models",
            "threads,tokio",
            "--workers",
            "2",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(50),
        "detected long before the trial time limit"
    );
    let folder = read(&out);
    let inverted: Vec<&Record> = folder
        .records
        .iter()
        .filter(|r| r.workload.spec.contains("order=inverted"))
        .collect();
    assert_eq!(inverted.len(), 2);
    for record in inverted {
        assert_eq!(
            record.status,
            Status::Deadlocked,
            "{}: {:?}",
            record.model,
            record.error
        );
        let error = record.error.as_deref().unwrap();
        assert!(
            error.contains("holds A") && error.contains("waits for"),
            "{error}"
        );
    }
    let later_ok = folder
        .records
        .iter()
        .filter(|r| !r.workload.spec.contains("order=inverted") && r.status == Status::Ok)
        .count();
    assert_eq!(
        later_ok,
        2 * 2 * 2,
        "consistent order and the next workload still ran"
    );
}

#[test]
fn rwlock_pingpong_barrier_and_semaphore_run_where_they_can() {
    let specs = [
        "sync/rwlock:impl=std,cs_steps=50,outside_steps=50",
        "sync/rwlock:impl=parking_lot,cs_steps=50,outside_steps=50",
        "sync/pingpong:impl=condvar",
        "sync/pingpong:impl=channel",
        "sync/pingpong:impl=spin",
        "sync/barrier:work_steps=200",
        "sync/semaphore:permits=1,cs_steps=100,outside_steps=100",
    ];
    let (_dir, folder) = run_ok(&[
        "--workloads",
        &specs.join(","),
        "--models",
        "threads,pool,rayon,process,tokio,tokio-current",
        "--workers",
        "1,2",
    ]);
    for record in &folder.records {
        let id = record.workload.id.as_str();
        let spec = record.workload.spec.as_str();
        let lockstep = id == "sync/pingpong" || id == "sync/barrier";
        // Processes share no memory; a pool cannot keep lockstep rounds;
        // pingpong is lockstep without an async op, which tokio needs.
        let unsupported = record.model == "process"
            || (lockstep && record.model == "pool")
            || (id == "sync/pingpong" && record.model.starts_with("tokio"));
        let expected = if unsupported {
            Status::Unsupported
        } else if spec.contains("impl=spin") && record.workers >= 2 {
            Status::Failed // refuses to spin on shared cores
        } else {
            Status::Ok
        };
        assert_eq!(
            record.status, expected,
            "{spec} under {} at {}: {:?}",
            record.model, record.workers, record.error
        );
        match record.status {
            Status::Ok => {
                assert_consistent(record);
                if id == "sync/rwlock" {
                    assert_eq!(counter(record, "lost_updates"), 0.0);
                }
                if id == "sync/semaphore" {
                    assert!(
                        counter(record, "max_holders") <= 1.0,
                        "{:?}",
                        record.counters
                    );
                }
                if lockstep {
                    let ops: Vec<u64> = record.per_worker.iter().map(|w| w.ops).collect();
                    assert!(ops.windows(2).all(|w| w[0] == w[1]), "lockstep: {ops:?}");
                }
            }
            Status::Failed => {
                assert!(record
                    .error
                    .as_deref()
                    .unwrap()
                    .contains("spin needs fewer workers than cores"));
            }
            _ => {}
        }
    }
}

#[test]
fn channels_and_the_queue_deliver_every_message_once_under_every_model() {
    let (_dir, folder) = run_ok(&[
        "--workloads",
        "comm/channel:impl=std,comm/channel:impl=crossbeam,bound=unbounded,comm/channel:impl=flume,bound=1,comm/channel:impl=tokio,comm/queue:bound=4",
        "--models",
        "all",
        "--workers",
        "1,2,3",
    ]);
    let mut ran = std::collections::BTreeSet::new();
    for record in &folder.records {
        let implementation = record.workload.params["impl"].as_str().unwrap().to_string();
        let what = format!(
            "{implementation} under {} at {}",
            record.model, record.workers
        );
        let awaits = implementation == "tokio" || implementation == "flume";
        let refused = matches!(record.model.as_str(), "pool" | "process")
            || (record.model.starts_with("tokio") && !awaits);
        if refused {
            assert_eq!(record.status, Status::Unsupported, "{what}");
            assert!(!record.error.as_deref().unwrap_or("").is_empty(), "{what}");
            continue;
        }
        assert_eq!(record.status, Status::Ok, "{what}: {:?}", record.error);
        assert_consistent(record);
        assert_eq!(counter(record, "messages_lost"), 0.0, "{what}");
        assert_eq!(counter(record, "messages_duplicated"), 0.0, "{what}");
        assert_eq!(
            counter(record, "messages_received"),
            counter(record, "messages"),
            "{what}"
        );
        assert!(counter(record, "message_latency_p99_ns") > 0.0, "{what}");
        ran.insert((implementation, record.model.clone()));
    }
    // Every implementation ran under threads and rayon; the awaiting ones
    // under both tokio models too.
    for implementation in ["std", "crossbeam", "flume", "tokio", "mutex-condvar"] {
        for model in ["seq", "threads", "rayon"] {
            assert!(ran.contains(&(implementation.to_string(), model.to_string())));
        }
    }
    for implementation in ["flume", "tokio"] {
        for model in ["tokio", "tokio-current"] {
            assert!(ran.contains(&(implementation.to_string(), model.to_string())));
        }
    }
}
