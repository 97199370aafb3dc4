//! `corebench exec` on tiny shell programs through the real binary: the
//! records parse and render, `{workers}` and `COREBENCH_WORKERS` reach the
//! program, a failing command fails its trial with its stderr, a hanging
//! one times out and leaves no process behind (not even one that left the
//! process group), and latencies written to `COREBENCH_OPS_FILE` reach the
//! histogram.

use crate::common;

use common::*;
use reports::schema::Status;

/// Whether any process's command line contains `marker`.
fn running(marker: &str) -> bool {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .any(|cmdline| {
            String::from_utf8_lossy(&cmdline)
                .replace('\0', " ")
                .contains(marker)
        })
}

#[test]
fn a_program_is_measured_at_each_worker_count_with_its_own_latencies() {
    let dir = tempfile::tempdir().unwrap();
    let seen = dir.path().join("seen.txt");
    let out = dir.path().join("results");
    let echo = format!(
        "echo=sh -c 'echo {{workers}} $COREBENCH_WORKERS >> {}'",
        seen.display()
    );
    let ops = "ops=sh -c 'for i in 1 2 3 4 5; do echo 2000 >> \"$COREBENCH_OPS_FILE\"; done'";
    let output = corebench()
        .args(["exec", "--name", "tiny", "-n", "1,2", "-t", "2", "-q"])
        .args(["--wall-profile", "--warmup", "2"])
        .args(["--variant", &echo, "--variant", ops, "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let mut lines: Vec<String> = std::fs::read_to_string(&seen)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    // Two warm-up runs, then the two measured ones, at each count.
    assert_eq!(
        lines,
        ["1 1", "1 1", "1 1", "1 1", "2 2", "2 2", "2 2", "2 2"],
        "{{workers}} and the env"
    );

    let folder = read(&out);
    assert_eq!(folder.records.len(), 8);
    for record in &folder.records {
        assert_eq!(record.workload.id, "exec/tiny");
        assert_eq!(record.status, Status::Ok, "{:?}", record.error);
        assert!(record.machine.is_some(), "the disturbance guard judged it");
        assert!(record.notes.iter().any(|n| n.contains("foreign program")));
        // Asked for, a wall-clock profile is not pretended: the record
        // says why there is none.
        assert!(record.wall_profile.is_none() && record.wait_sites.is_empty());
        assert!(record.notes.iter().any(|n| n.contains("not wall-profiled")));
        let histogram = reports::histogram::decode(record.histogram.as_ref().unwrap()).unwrap();
        assert_eq!(histogram.len(), record.ops);
        if record.model == "ops" {
            assert_eq!(record.ops, 5);
            let p50 = record.latency.as_ref().unwrap().p50_ns;
            assert!((1990..=2010).contains(&p50), "{p50}");
        } else {
            assert_eq!(record.ops, 1, "no ops file: the run is one op");
        }
    }
    assert!(out.join("report/index.html").exists());
}

#[test]
fn a_failing_program_fails_its_trial_and_a_hanging_one_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let fail = "fail=sh -c 'echo the reason it broke >&2; exit 3'";
    // One sleeper stays in the group, one leaves it with setsid.
    let hang = "hang=sh -c 'sleep 3001 & setsid sleep 3002 & sleep 3003'";
    let output = corebench()
        .args(["exec", "--name", "bad", "-n", "1", "-t", "1", "-q"])
        .args([
            "--trial-timeout-s",
            "1",
            "--variant",
            fail,
            "--variant",
            hang,
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let folder = read(&out);
    let failed = folder.records.iter().find(|r| r.model == "fail").unwrap();
    assert_eq!(failed.status, Status::Failed);
    let error = failed.error.as_deref().unwrap();
    assert!(error.contains("exited with status 3"), "{error}");
    assert!(error.contains("the reason it broke"), "{error}");
    let hung = folder.records.iter().find(|r| r.model == "hang").unwrap();
    assert_eq!(hung.status, Status::Timeout, "{:?}", hung.error);
    for marker in ["sleep 3001", "sleep 3002", "sleep 3003"] {
        assert!(!running(marker), "{marker} outlived its trial");
    }

    let bad = corebench()
        .args(["exec", "--name", "x", "--variant", "no-equals-sign"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("bad --variant 'no-equals-sign'"));
}

#[test]
fn the_books_python_experiments_run_on_a_tiny_plan() {
    let python = std::process::Command::new("python3")
        .arg("--version")
        .output();
    if python.is_err() {
        assert!(std::env::var_os("CI").is_none(), "CI machines have python3");
        eprintln!("skipped: no python3");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gil");
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = std::process::Command::new("bash")
        .arg(repo.join("examples/python/gil.sh"))
        .args(["--quick", "--out"])
        .arg(&out)
        .env("COREBENCH", env!("CARGO_BIN_EXE_corebench"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let folder = read(&out);
    for id in ["exec/python-cpu-primes", "exec/python-io-fetch"] {
        for model in [
            "python-threads",
            "python-processes",
            "python-thread-pool",
            "python-process-pool",
            "python-asyncio",
        ] {
            let records: Vec<_> = folder
                .records
                .iter()
                .filter(|r| r.workload.id == id && r.model == model)
                .collect();
            assert_eq!(records.len(), 2, "{id} {model}: workers 1 and 2");
            for record in records {
                assert_eq!(
                    record.status,
                    Status::Ok,
                    "{id} {model}: {:?}",
                    record.error
                );
                assert!(record.ops > 1, "per-op latencies reached the histogram");
            }
        }
    }
    assert!(out.join("report/index.html").exists());
}

#[test]
fn a_warm_up_run_is_not_recorded_and_a_failing_one_fails_its_cell() {
    let dir = tempfile::tempdir().unwrap();
    let seen = dir.path().join("seen.txt");
    // Fails on its first run only: the warm-up.
    let flaky = format!(
        "flaky=sh -c 'test -e {0} || {{ touch {0}; exit 3; }}'",
        seen.display()
    );
    let out = dir.path().join("results");
    let output = corebench()
        .args(["exec", "--name", "warm", "-n", "1", "-t", "2", "-q"])
        .args(["--variant", &flaky, "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let folder = read(&out);
    assert_eq!(folder.records.len(), 1, "the cell stops at its warm-up");
    let error = folder.records[0].error.as_deref().unwrap_or_default();
    assert!(error.starts_with("warm-up: "), "{error}");

    // Without a warm-up, the first run is a measured one. Not quiet, it
    // prints a table of the wall time per run, as `run` prints its own.
    let out = dir.path().join("cold");
    std::fs::remove_file(&seen).unwrap();
    let output = corebench()
        .args([
            "exec", "--name", "cold", "-n", "1", "-t", "2", "--warmup", "0",
        ])
        .args(["--variant", &flaky, "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let folder = read(&out);
    assert_eq!(folder.records.len(), 2, "{}", text(&output.stderr));
    let errors: Vec<&str> = folder
        .records
        .iter()
        .filter_map(|r| r.error.as_deref())
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("exited with status 3"), "{errors:?}");
    let stdout = text(&output.stdout);
    assert!(stdout.contains("wall per run median"), "{stdout}");
    assert!(stdout.contains("│ flaky "), "{stdout}");
    assert!(stdout.contains("1/2"), "one of two trials ok: {stdout}");
}

#[test]
fn setup_prepare_and_cleanup_run_in_hyperfines_order() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("calls.log");
    let log = log.display();
    let variant = |v: &str| format!("{v}=sh -c 'echo run-{v} {{workers}} >> {log}'");
    let output = corebench()
        .args(["exec", "--name", "hooks", "-n", "1,2", "-t", "2", "-q"])
        .args(["--variant", &variant("a"), "--variant", &variant("b")])
        // Setup once per variant, prepare and cleanup once for all.
        .args(["--setup", &format!("echo setup-a >> {log}")])
        .args(["--setup", &format!("echo setup-b >> {log}")])
        .args(["--prepare", &format!("echo prepare {{workers}} >> {log}")])
        .args(["--cleanup", &format!("echo cleanup >> {log}")])
        .arg("--out")
        .arg(dir.path().join("results"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let calls = std::fs::read_to_string(dir.path().join("calls.log")).unwrap();
    let calls: Vec<&str> = calls.lines().collect();
    for v in ["a", "b"] {
        let setup = calls.iter().position(|c| *c == format!("setup-{v}"));
        let first_run = calls
            .iter()
            .position(|c| c.starts_with(&format!("run-{v} ")));
        assert!(setup.is_some() && setup < first_run, "{calls:?}");
        assert_eq!(
            calls.iter().filter(|c| **c == format!("setup-{v}")).count(),
            1
        );
        // One warm-up and two measured runs at each of two counts.
        let runs = calls
            .iter()
            .filter(|c| c.starts_with(&format!("run-{v} ")))
            .count();
        assert_eq!(runs, 6, "{calls:?}");
    }
    // Every run right after its own prepare, with the same worker count.
    for (i, call) in calls.iter().enumerate() {
        if let Some(rest) = call.strip_prefix("run-") {
            let workers = rest.split(' ').nth(1).unwrap();
            assert_eq!(calls[i - 1], format!("prepare {workers}"), "{calls:?}");
        }
    }
    // The cleanups come last, one per variant.
    assert_eq!(
        calls[calls.len() - 2..],
        ["cleanup", "cleanup"],
        "{calls:?}"
    );

    let bad = corebench()
        .args(["exec", "--name", "hooks", "-n", "1"])
        .args(["--variant", &variant("a"), "--variant", &variant("b")])
        .args([
            "--variant",
            &variant("c"),
            "--setup",
            "true",
            "--setup",
            "true",
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad.stderr).contains("bad --setup: given 2 times for 3 variants"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn each_parameter_set_is_a_section_with_its_values_in_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("calls.log");
    let variant = format!(
        "v=sh -c 'echo {{size}} $COREBENCH_PARAM_SIZE {{mode}} {{workers}} >> {}'",
        log.display()
    );
    let out = dir.path().join("results");
    let output = corebench()
        .args([
            "exec", "--name", "p", "-n", "1", "-t", "1", "-q", "--warmup", "0",
        ])
        .args(["--parameter", "size=10,20", "--parameter", "mode=a"])
        .args(["--variant", &variant, "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let mut calls: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    calls.sort();
    assert_eq!(calls, ["10 10 a 1", "20 20 a 1"]);
    let mut specs: Vec<String> = read(&out)
        .records
        .iter()
        .map(|r| r.workload.spec.clone())
        .collect();
    specs.sort();
    assert_eq!(specs, ["exec/p:mode=a,size=10", "exec/p:mode=a,size=20"]);

    let bad = corebench()
        .args(["exec", "--name", "p", "--parameter", "workers=1,2"])
        .args(["--variant", &variant])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("bad --parameter 'workers=1,2'"));
}

#[test]
fn a_programs_output_is_dropped_kept_in_a_file_or_shown_when_it_fails() {
    let dir = tempfile::tempdir().unwrap();
    let talk = "talk=sh -c 'echo said {workers}'";
    let saved = dir.path().join("out.txt");
    let output = corebench()
        .args([
            "exec", "--name", "o", "-n", "1,2", "-t", "1", "-q", "--warmup", "0",
        ])
        .args(["--variant", talk, "--output"])
        .arg(&saved)
        .arg("--out")
        .arg(dir.path().join("file"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let mut lines: Vec<String> = std::fs::read_to_string(&saved)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    assert_eq!(lines, ["said 1", "said 2"], "appended, run after run");

    // Failing with its reason on stdout only: --show-output quotes it.
    let failing = "fail=sh -c 'echo the config is missing; exit 4'";
    let out = dir.path().join("shown");
    let output = corebench()
        .args([
            "exec", "--name", "o", "-n", "1", "-t", "1", "-q", "--warmup", "0",
        ])
        .args(["--variant", failing, "--show-output", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let error = read(&out).records[0].error.clone().unwrap_or_default();
    assert!(
        error.contains("its stdout ended: the config is missing"),
        "{error}"
    );

    let both = corebench()
        .args(["exec", "--name", "o", "--variant", talk])
        .args(["--output", "inherit", "--show-output"])
        .output()
        .unwrap();
    assert_eq!(both.status.code(), Some(2));
    assert!(text(&both.stderr).contains("bad --output 'inherit' with --show-output"));
}

#[test]
fn json_verbose_and_latency_print_as_run_prints_them() {
    let dir = tempfile::tempdir().unwrap();
    let output = corebench()
        .args(["exec", "--name", "j", "-n", "1", "-t", "2", "--warmup", "0"])
        .args(["--json", "-v", "--latency", "--seed", "7", "--no-progress"])
        .args(["--variant", "quick=true", "--out"])
        .arg(dir.path().join("results"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    // stdout is the JSON alone; the tables and each run go to stderr.
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert!(json["summary"].is_object(), "{json}");
    let stderr = text(&output.stderr);
    assert!(stderr.contains("quick · 1 worker trial 0:"), "{stderr}");
    assert!(stderr.contains("wall per run median"), "{stderr}");
    assert!(stderr.contains("p99.9"), "the latency table: {stderr}");
}

#[test]
fn on_disturbance_is_taken_as_run_takes_it_and_kept_in_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let output = corebench()
        .args([
            "exec", "--name", "calm", "-n", "1", "-t", "2", "--warmup", "0", "-q",
        ])
        .args(["--on-disturbance", "ignore", "--disturbance", "others=0.5"])
        .args(["--variant", "sh=true", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    // Ignored: every run's view is kept, and none is judged disturbed.
    let folder = read(&out);
    assert!(folder
        .records
        .iter()
        .all(|r| r.machine.as_ref().is_some_and(|m| !m.disturbed)));
    let plan = folder.plan.expect("exec writes its plan");
    let settings = plan.disturbance.unwrap();
    assert_eq!(settings.on.as_deref(), Some("ignore"));
    assert!(settings.rule.unwrap().contains("others=0.5"));

    let output = corebench()
        .args(["exec", "--name", "x", "--on-disturbance", "sometimes"])
        .args(["--variant", "sh=true"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let output = corebench()
        .args([
            "exec",
            "--name",
            "x",
            "--disturbance",
            "bogus=1",
            "--variant",
            "sh=true",
        ])
        .arg("--out")
        .arg(dir.path().join("never"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("bogus"),
        "{}",
        text(&output.stderr)
    );
    assert!(!dir.path().join("never").exists());
}
