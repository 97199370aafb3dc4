//! The command line as people and scripts use it: help with examples,
//! shell completions, `--json` on stdout with messages on stderr,
//! `--quiet` and `-v`, `--latency`, `--warmup`, `list` aligned and as
//! JSON, and the notes a plan's silent changes get. The real binary on
//! tiny plans.

use crate::common;

use common::*;

/// The words of a command line written as one string.
fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// Every number 0 and every path `<path>`: what is left is the shape of
/// the output, which a snapshot can hold.
fn shape(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(_) => *value = Value::from(0),
        Value::String(s) if s.starts_with('/') => *s = "<path>".to_string(),
        Value::String(s) if s.contains(" ops/s") || s.contains('x') && s.contains(" at ") => {
            *s = "<text with numbers>".to_string()
        }
        Value::Array(items) => items.iter_mut().for_each(shape),
        Value::Object(map) => map.values_mut().for_each(shape),
        _ => {}
    }
}

#[test]
fn run_json_is_one_document_on_stdout_and_messages_go_to_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let output = corebench()
        .args(words("run -w cpu/primes -m seq,threads -n 1,2"))
        .args(words("-t 2 --ops 400 --no-calibration --json -o"))
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let mut json: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is one JSON document");
    assert_eq!(json["cells"].as_array().unwrap().len(), 3);
    // One analysis: the terminal's table (on stderr with --json), the
    // page and --json show the same speedup with the same interval.
    let speedup: reports::stats::Estimate =
        serde_json::from_value(json["cells"][2]["speedup"].clone())
            .expect("the 2-worker cell has a speedup");
    let shown = reports::format::speedup_text(Some(speedup));
    let page = std::fs::read_to_string(out.join("report/index.html")).unwrap();
    assert!(
        text(&output.stderr).contains(&shown),
        "{shown} not in the terminal's table"
    );
    assert!(page.contains(&shown), "{shown} not on the page");
    let threads_2 = &json["cells"][2];
    assert_eq!(threads_2["model"], "threads");
    assert!(threads_2["throughput_ops_s"]["low"].as_f64().unwrap() > 0.0);
    // Which model wins at 1 worker, and whether the machine disturbed a
    // trial, is up to the machine: the snapshot holds the rest.
    assert!(json["summary"]["problems"].is_array());
    json["summary"]["problems"] = serde_json::json!([]);
    for best in json["summary"]["workloads"][0]["best"]
        .as_array_mut()
        .unwrap()
    {
        assert!(["seq", "threads"].contains(&best["model"].as_str().unwrap()));
        best["model"] = "<model>".into();
        assert!(best["ties"].is_array());
        best["ties"] = serde_json::json!([]);
    }
    // Whether 2 workers beat 1 beyond noise is up to the machine too.
    let line = &mut json["summary"]["workloads"][0];
    assert!(line["gets_faster"].is_boolean());
    line["gets_faster"] = true.into();
    // The fits are there, as report/fits.json holds them.
    let fits = std::fs::read_to_string(out.join("report/fits.json")).unwrap();
    let fits: serde_json::Value = serde_json::from_str(&fits).unwrap();
    assert_eq!(json["fits"], fits["sections"]);
    shape(&mut json);
    insta::assert_json_snapshot!("run_json", json);
    let stderr = text(&output.stderr);
    // The header gives each workload's own sweep, and the plan's silent
    // change (seq stays at 1 worker) is a note.
    assert!(
        stderr.contains("cpu/primes         workers 1,2"),
        "{stderr}"
    );
    assert!(
        stderr.contains("note: seq runs at 1 worker only"),
        "{stderr}"
    );
    assert!(stderr.contains("report: "), "{stderr}");
}

#[test]
fn quiet_prints_only_failures_and_verbose_prints_each_trial() {
    let dir = tempfile::tempdir().unwrap();
    let quiet = corebench()
        .args(words("run -q -w synthetic/faulty:mode=error,at_op=3"))
        .args(words("-m threads -n 1 -t 1 --no-calibration -o"))
        .arg(dir.path().join("quiet"))
        .output()
        .unwrap();
    assert_eq!(quiet.status.code(), Some(1));
    assert!(quiet.stdout.is_empty(), "{}", text(&quiet.stdout));
    let stderr = text(&quiet.stderr);
    assert!(stderr.contains("failed"), "{stderr}");
    assert!(
        !stderr.contains("corebench: 1 cells"),
        "no header: {stderr}"
    );

    let verbose = corebench()
        .args(words("run -v -w cpu/primes -m threads -n 1"))
        .args(words("-t 2 --ops 200 --warmup 0 --no-calibration"))
        .arg("--no-progress")
        .arg("--latency")
        .arg("-o")
        .arg(dir.path().join("verbose"))
        .output()
        .unwrap();
    assert!(verbose.status.success(), "{}", text(&verbose.stderr));
    let stderr = text(&verbose.stderr);
    assert!(
        stderr.contains("cpu/primes · threads · 1 worker · pin none trial 0: "),
        "{stderr}"
    );
    assert!(stderr.contains("trial 1: "), "{stderr}");
    let stdout = text(&verbose.stdout);
    for column in ["p50", "p90", "p99", "p99.9", "max"] {
        assert!(stdout.contains(column), "--latency: {stdout}");
    }
    assert!(!stderr.contains("largest child process"), "{stderr}");
}

#[test]
fn a_single_worker_count_on_restricted_cores_gets_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let output = corebench()
        .args(words("run --cores 0 -w cpu/primes -m threads"))
        .args(words("-t 1 --ops 100 --no-calibration -q -o"))
        .arg(dir.path().join("one"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    // -q hides notes too; without it the note suggests --workers.
    let output = corebench()
        .args(words("run --cores 0 -w cpu/primes -m threads"))
        .args(words("-t 1 --ops 100 --no-calibration --no-progress -o"))
        .arg(dir.path().join("two"))
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert!(stderr.contains("pass --workers 1,2"), "{stderr}");
}

#[test]
fn list_is_aligned_and_its_json_matches_the_snapshot() {
    let output = corebench().arg("list").output().unwrap();
    assert!(output.status.success());
    let listing = text(&output.stdout);
    // Every parameter's description starts in one column.
    let columns: std::collections::BTreeSet<usize> = listing
        .lines()
        .filter_map(|line| {
            let setting = line.strip_prefix("      ")?;
            let token = setting.split(' ').next()?;
            token.contains('=').then(|| {
                let rest = &setting[token.len()..];
                6 + token.len() + rest.len() - rest.trim_start().len()
            })
        })
        .collect();
    assert_eq!(columns.len(), 1, "description columns: {columns:?}");

    let output = corebench().args(words("list --json")).output().unwrap();
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    insta::assert_json_snapshot!("list_json", json);
}

#[test]
fn help_speaks_to_users_with_examples_and_completions_are_generated() {
    let output = corebench().arg("--help").output().unwrap();
    let help = text(&output.stdout);
    assert!(
        help.starts_with("How work scales on this machine, and why."),
        "{help}"
    );
    for command in ["run", "list", "report", "compare", "profile", "completions"] {
        let output = corebench().args([command, "--help"]).output().unwrap();
        let help = text(&output.stdout);
        assert!(help.contains("Examples:\n  corebench"), "{command}: {help}");
    }

    let output = corebench()
        .args(words("completions bash"))
        .output()
        .unwrap();
    assert!(output.status.success());
    let script = text(&output.stdout);
    assert!(script.contains("_corebench()"), "{script}");
    assert!(script.contains("complete -F _corebench"), "{script}");
    for word in ["run", "compare", "--workloads", "--json", "--warmup"] {
        assert!(script.contains(word), "{word} is completed");
    }
    let bad = corebench()
        .args(words("completions tcsh"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("tcsh"));
}

#[test]
fn one_core_says_the_cpu_workloads_do_not_sweep_while_io_does() {
    // On one core the CPU workloads run at 1 worker only, while IO-bound
    // ones sweep past the cores: a comparison with a two-core run then
    // finds no partner for its 2-worker CPU cells, so the run says so.
    let dir = tempfile::tempdir().unwrap();
    let output = corebench()
        .args(words("run --cores 0 -w cpu/primes,io/sleep:ms=0.1"))
        .args(words(
            "-m threads -t 1 --ops 64 --no-calibration --no-progress -o",
        ))
        .arg(dir.path().join("one-core"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("note: cpu/primes runs at 1 worker only (1 core) while io/sleep sweeps"),
        "{stderr}"
    );
}
