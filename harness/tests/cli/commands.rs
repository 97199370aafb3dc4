//! CLI tests: the commands as a user runs them (bad input, list, host,
//! default folders, report, compare, profile), on the real `corebench` binary with
//! tiny plans, read back through the `reports` crate.

use crate::common;

use std::path::Path;

use common::*;

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
        (vec!["--trial-timeout-s", "1e300"], "1e300"),
        (vec!["--trial-timeout-s", "2e19"], "2e19"),
        (vec!["--cores", "0-99999999999"], "99999999999"),
        (vec!["--pin", "cores=0-99999999999"], "99999999999"),
        (vec!["--load", "open:1e-300"], "open:1e-300"),
        (vec!["--workers", "-1"], "'-1'"),
    ];
    for (args, needle) in cases {
        let output = run(&dir.path().join("never"), &args);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    for (flag, value) in [
        ("--trials", "0"),
        ("--ops", "18446744073709551615"),
        ("--ops", "-5"),
    ] {
        let output = corebench()
            .args(["run", "--workloads", "cpu/primes", flag, value])
            .output()
            .unwrap();
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(stderr.contains(value), "{flag} {value}: {stderr}");
    }

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
fn without_out_results_go_to_a_dated_folder() {
    let dir = tempfile::tempdir().unwrap();
    let start = || {
        corebench()
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
            .unwrap()
    };
    // Two runs started together get a folder each (the name holds the pid).
    let (first, second) = std::thread::scope(|scope| {
        let first = scope.spawn(start);
        let second = scope.spawn(start);
        (first.join().unwrap(), second.join().unwrap())
    });
    for output in [&first, &second] {
        assert!(output.status.success(), "{}", text(&output.stderr));
        assert!(text(&output.stdout).contains("results: corebench-results/"));
    }
    let parent = dir.path().join("corebench-results");
    let folders: Vec<_> = std::fs::read_dir(&parent).unwrap().collect();
    assert_eq!(folders.len(), 2);
    let folder = read(&folders[0].as_ref().unwrap().path());
    assert_eq!(folder.host.label.as_deref(), Some("ci-config"));
    assert_eq!(folder.records.len(), 1);
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
    let (dir, out, output) = run_fresh(&SMALL_PLAN);
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
fn compare_reports_formats_regressions_and_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for (folder, label) in [(&a, "one"), (&b, "two")] {
        // What compare makes of the folders is tested here, not how a run
        // meets a busy machine: the other tests running beside this one
        // must not leave a cell with too few clean trials to compare
        // (then the 3x slower copy below reads "not comparable").
        let output = corebench()
            .args([
                "run",
                "--no-progress",
                "--trials",
                "3",
                "--ops",
                "200",
                "--on-disturbance",
                "ignore",
                "--label",
                label,
            ])
            .args(SMALL_PLAN)
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
    // Each configuration's cell says where its workers' time went.
    let page = std::fs::read_to_string(html.join("index.html")).unwrap();
    assert!(
        page.matches("waiting for a CPU").count() >= 2,
        "no time split"
    );

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

    // A copy made 3x slower everywhere fails --fail-on-regression. Both
    // sides are copies in which every trial of a cell reads its cell's
    // first trial: the tests beside this one can slow one trial of `a`
    // past 3x, and then a cell's interval honestly spans no change.
    let copy = |name: &str, slowdown: f64| {
        let folder = dir.path().join(name);
        std::fs::create_dir(&folder).unwrap();
        std::fs::copy(a.join("host.json"), folder.join("host.json")).unwrap();
        let records = std::fs::read_to_string(a.join("records.jsonl")).unwrap();
        let mut first_of_cell = std::collections::HashMap::new();
        let rewritten: Vec<String> = records
            .lines()
            .map(|line| {
                let mut record: serde_json::Value = serde_json::from_str(line).unwrap();
                let cell = [
                    "workload",
                    "model",
                    "workers",
                    "placement",
                    "scaling",
                    "load",
                ]
                .map(|key| record[key].to_string())
                .join("|");
                let t = *first_of_cell
                    .entry(cell)
                    .or_insert(record["throughput_ops_s"].as_f64().unwrap())
                    / slowdown;
                // Consistently: records are checked on read.
                let ops = record["ops"].as_f64().unwrap();
                let wall_ns = (ops / t * 1e9).round();
                record["wall_ns"] = serde_json::json!(wall_ns as u64);
                record["throughput_ops_s"] = serde_json::json!(ops / (wall_ns / 1e9));
                record.to_string()
            })
            .collect();
        std::fs::write(folder.join("records.jsonl"), rewritten.join("\n") + "\n").unwrap();
        folder
    };
    let base = copy("base", 1.0);
    let slow = copy("slow", 3.0);
    let output = corebench_with(&[
        "compare",
        slow.to_str().unwrap(),
        "--baseline",
        base.to_str().unwrap(),
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
fn profile_prints_each_workers_time_and_rejects_a_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("profile");
    let output = corebench()
        .args([
            "profile",
            "synthetic/amdahl:serial_fraction=0.5",
            "--workers",
            "2",
        ])
        // 80 rounds of about 13 ms: about 100 wall-clock samples.
        .args(["--trials", "1", "--ops", "80", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    for expected in [
        "where the time went",
        "worker 0",
        "worker 1",
        "blocked",
        "the machine",
        "perf counters, worker 1: ",
        "flamegraph: ",
        // The wall-clock profile: worker 1 waits at the barrier.
        "where each thread waited",
        "of its blocked time: Barrier::wait called from synthetic::amdahl::run_op (barrier)",
        "off-CPU flamegraph: ",
    ] {
        assert!(stdout.contains(expected), "no '{expected}' in:\n{stdout}");
    }
    // The results folder is a normal one: the report reads it.
    assert!(out.join("records.jsonl").is_file());
    assert!(out.join("report/index.html").is_file());

    let sweep = corebench()
        .args(["profile", "cpu/primes", "--workers", "1,2"])
        .output()
        .unwrap();
    assert_eq!(sweep.status.code(), Some(2));
    assert!(text(&sweep.stderr).contains("'1,2'"));
}

#[test]
fn flamegraph_samples_each_cell_and_the_report_draws_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("flame");
    let output = corebench()
        // With the calibration cell, which the page leaves out of its
        // sections: rows were once matched to profiles by position, and
        // every link then went missing.
        .args(["run", "--no-progress", "--flamegraph"])
        .args(["--workloads", "cpu/primes", "--models", "threads,process"])
        .args(["--workers", "2", "--trials", "2", "--ops", "2000", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    // Process children sample themselves and send their stacks back.
    let children = std::fs::read_dir(out.join("profiles"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let name = p.to_string_lossy();
            name.contains("-process-2w-") && name.ends_with(".folded") && !name.contains(".wall")
        })
        .expect("the process cell's samples");
    let children = std::fs::read_to_string(children).unwrap();
    assert!(
        children
            .lines()
            .any(|l| l.starts_with("corebench-child;") && l.contains("count_primes")),
        "{children}"
    );
    let profiles: Vec<_> = std::fs::read_dir(out.join("profiles"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let folded = profiles
        .iter()
        .find(|p| {
            let name = p.to_string_lossy();
            name.contains("-threads-2w-") && name.ends_with(".folded")
        })
        .expect("the cell's samples");
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folded.with_extension("json")).unwrap())
            .unwrap();
    assert_eq!(info["asked_hz"], 999);
    assert!(info["samples"].as_u64().unwrap() > 0, "{info}");
    let svg_path = out
        .join("report/flame")
        .join(folded.file_stem().unwrap())
        .with_extension("svg");
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    assert!(svg.contains("count_primes"), "the primes kernel is named");
    let page = std::fs::read_to_string(out.join("report/index.html")).unwrap();
    // The row links to it (minijinja writes the '/' as "&#x2f;").
    let stem = folded.file_stem().unwrap().to_str().unwrap();
    assert!(page.contains(&format!("flame&#x2f;{stem}.svg\">flamegraph</a>")));

    let bad = corebench()
        .args(["run", "--flamegraph", "--flamegraph-hz", "0"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("--flamegraph-hz 0"));
}
