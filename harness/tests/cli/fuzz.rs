//! Fuzz-style checks of bad input through the real binary: at least 100
//! malformed argument sets and 50 corrupted results folders. Every case
//! must end by itself (a time limit per case), never panic, and exit 2 with
//! a line that names the bad value or the file and line.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;

/// What each case may take before it counts as a hang.
const CASE_LIMIT: Duration = Duration::from_secs(30);

/// Runs corebench with `args` under the time limit and checks the rules
/// (`needle` must appear in stderr); returns what broke them.
fn refused(args: &[&str], needle: &str) -> Option<String> {
    let output = corebench()
        .args(args)
        .timeout(CASE_LIMIT)
        .output()
        .expect("corebench runs");
    let stderr = text(&output.stderr);
    let broken = if output.status.code() != Some(2) {
        "not exit 2 (a hang, or the wrong code)"
    } else if stderr.contains("panicked") {
        "a panic"
    } else if !stderr.to_lowercase().contains(&needle.to_lowercase()) {
        "no mention of the value"
    } else {
        return None;
    };
    Some(format!("{args:?}: {broken}, expected {needle:?}: {stderr}"))
}

#[test]
fn a_hundred_malformed_argument_sets_exit_2_naming_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never");
    let out = out.to_str().unwrap();
    let bad: Vec<(&str, Vec<&str>)> = vec![
        (
            "--workloads",
            vec![
                "cpu/nope",
                "nope",
                "cpu/primes:span=0",
                "cpu/primes:span=-3",
                "cpu/primes:span=x",
                "cpu/primes:bogus=1",
                "cpu/primes:span",
                "cpu/primes:span=1,span=2",
                "synthetic/amdahl:serial_fraction=2",
                "synthetic/amdahl:serial_fraction=nan",
                "io/http:delay_ms=-1",
                "sync/counter:impl=magic",
                "comm/channel:bound=-1",
                "\u{1f600}/x",
            ],
        ),
        (
            "--models",
            vec![
                "fibers",
                "threads,fibers",
                "THREADS",
                "thread",
                "tokio-multi",
                "seq;threads",
            ],
        ),
        (
            "--workers",
            vec![
                "0",
                "-1",
                "x",
                "4097",
                "1e3",
                "1.5",
                "99999999999999999999999",
                "2,0",
                "auto2",
            ],
        ),
        (
            "--pin",
            vec![
                "sideways",
                "cores=",
                "cores=x",
                "cores=3-1",
                "cores=99999",
                "cores=0-99999999999",
                "compactt",
                "cores=-1",
            ],
        ),
        ("--scaling", vec!["diagonal", "Strong", "weak2"]),
        ("--trials", vec!["0", "-1", "x", "1e3", "99999999999"]),
        (
            "--ops",
            vec![
                "0",
                "-1",
                "x",
                "18446744073709551615",
                "18446744073709551616",
                "1000000000001",
            ],
        ),
        ("--runtime-threads", vec!["0", "-2", "x", "5000"]),
        (
            "--trial-timeout-s",
            vec!["0", "-1", "1e300", "2e19", "inf", "nan", "x", "86401"],
        ),
        (
            "--load",
            vec![
                "open",
                "open:",
                "open:0",
                "open:-5",
                "open:1e-300",
                "open:nan",
                "open:inf",
                "poisson:10",
                "closed2",
                "open:x",
            ],
        ),
        ("--cores", vec!["x", "0-99999999999", "99999", "3-1", "0,x"]),
        ("--server-threads", vec!["0", "-1", "x"]),
        ("--record", vec!["sometimes", "per_op"]),
        ("--profile", vec!["huge", "QUICK"]),
        (
            "--target",
            vec![
                "ftp://x/",
                "http://",
                "http:///x",
                "http://x:0/",
                "http://x:99999/",
                "https://127.0.0.1:1/",
            ],
        ),
    ];
    let mut cases = 0;
    let mut failures = Vec::new();
    for (flag, values) in &bad {
        for value in values {
            let mut args = vec!["run", "--no-progress", "--out", out];
            if *flag != "--workloads" {
                args.extend(["--workloads", "cpu/primes"]);
            }
            args.extend([*flag, *value]);
            // The error names the bad part: the whole value, or for a
            // workload spec its bad parameter.
            let needle = match value.split_once(':') {
                Some((_, params)) if *flag == "--workloads" => {
                    let first = params.split(',').next().unwrap_or(params);
                    first.split('=').next().unwrap_or(first)
                }
                _ if value.is_empty() || *value == "cores=" => flag,
                _ if value.contains(',') && *flag != "--cores" => {
                    value.rsplit(',').next().unwrap_or(value)
                }
                _ => value,
            };
            failures.extend(refused(&args, needle));
            cases += 1;
        }
    }
    // Other commands' arguments.
    for (args, needle) in [
        (
            vec!["report", "/nonexistent/corebench"],
            "/nonexistent/corebench",
        ),
        (vec!["compare", "/nonexistent/a"], "got 1"),
        (
            vec!["compare", "/nonexistent/a", "/nonexistent/b"],
            "/nonexistent/a",
        ),
        (vec!["compare", ".", ".", "--noise", "200%"], "200%"),
        (vec!["compare", ".", ".", "--noise", "-1"], "-1"),
        (vec!["compare", ".", ".", "--format", "xml"], "xml"),
        (vec!["completely-unknown"], "completely-unknown"),
        (vec!["run", "--no-such-flag"], "--no-such-flag"),
        (vec!["host", "--label"], "--label"),
        (vec!["report", ".", "--out"], "--out"),
    ] {
        failures.extend(refused(&args, needle));
        cases += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(cases >= 100, "only {cases} cases");
    assert!(!Path::new(out).exists(), "bad input left a folder");
}

/// Spoils the record lines and host.json of a folder.
type Spoil = Box<dyn Fn(&mut Vec<Vec<u8>>, &mut Vec<u8>)>;

/// One way to spoil a results folder, and what the error must name.
struct Corruption {
    what: String,
    spoil: Spoil,
    needle: String,
}

/// Sets `field` (a JSON pointer) of record line `line` to `value`.
fn set_field(line: usize, pointer: &'static str, value: serde_json::Value) -> Corruption {
    Corruption {
        what: format!("line {} {pointer} = {value}", line + 1),
        needle: format!("records.jsonl:{}", line + 1),
        spoil: Box::new(move |lines, _| {
            let mut record: serde_json::Value = serde_json::from_slice(&lines[line]).unwrap();
            *record
                .pointer_mut(pointer)
                .unwrap_or_else(|| panic!("{pointer}")) = value.clone();
            lines[line] = record.to_string().into_bytes();
        }),
    }
}

fn corruptions(records: usize) -> Vec<Corruption> {
    use serde_json::json;
    let mut all = Vec::new();
    for line in [0, 1, records / 2, records - 2] {
        for (pointer, value) in [
            ("/throughput_ops_s", json!(1e308)),
            ("/throughput_ops_s", json!(-5.0)),
            ("/wall_ns", json!(0)),
            ("/workers", json!(0)),
            ("/ops", json!(0)),
            ("/histogram", json!("not a histogram")),
            ("/histogram", json!(null)),
            ("/status", json!("bogus")),
            ("/model", json!(5)),
            ("/latency/p50_ns", json!(u64::MAX)),
            ("/latency/mean_ns", json!("x")),
            ("/per_worker/0/ops", json!(123_456_789)),
            ("/workers", json!(-1)),
            ("/schema_version", json!(99)),
        ] {
            all.push(set_field(line, pointer, value));
        }
    }
    let middle = records / 2;
    all.push(Corruption {
        what: "a line cut in the middle of the file".into(),
        needle: format!("records.jsonl:{}", middle + 1),
        spoil: Box::new(move |lines, _| {
            let half = lines[middle].len() / 2;
            lines[middle].truncate(half);
        }),
    });
    all.push(Corruption {
        what: "one byte of invalid UTF-8".into(),
        needle: format!("records.jsonl:{}", middle + 1),
        spoil: Box::new(move |lines, _| lines[middle].insert(10, 0xff)),
    });
    all.push(Corruption {
        what: "a duplicated record".into(),
        needle: format!("records.jsonl:{}", middle + 2),
        spoil: Box::new(move |lines, _| {
            let copy = lines[middle].clone();
            lines.insert(middle + 1, copy);
        }),
    });
    all.push(Corruption {
        what: "host.json that is not JSON".into(),
        needle: "host.json:1".into(),
        spoil: Box::new(|_, host| host.truncate(host.len() / 2)),
    });
    all.push(Corruption {
        what: "host.json with invalid UTF-8".into(),
        needle: "host.json:1".into(),
        spoil: Box::new(|_, host| host.insert(5, 0xfe)),
    });
    all.push(Corruption {
        what: "host.json with no cores".into(),
        needle: "host.json:1".into(),
        spoil: Box::new(|_, host| {
            let mut value: serde_json::Value = serde_json::from_slice(host).unwrap();
            value["logical_cores"] = serde_json::json!(0);
            *host = value.to_string().into_bytes();
        }),
    });
    all
}

fn write_folder(dir: &Path, lines: &[Vec<u8>], host: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("host.json"), host).unwrap();
    let mut bytes = Vec::new();
    for line in lines {
        bytes.extend_from_slice(line);
        bytes.push(b'\n');
    }
    std::fs::write(dir.join("records.jsonl"), bytes).unwrap();
}

/// A real results folder of two models at three worker counts (the
/// chart code once hung on such a folder with absurd numbers).
fn folder_to_spoil() -> (tempfile::TempDir, PathBuf) {
    let (dir, source, output) = run_fresh(&[
        "--workloads",
        "io/sleep:ms=0.1,cpu/primes:span=20",
        "--models",
        "threads,tokio",
        "--workers",
        "1,2,4",
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    (dir, source)
}

#[test]
fn fifty_corrupted_folders_are_refused_naming_file_and_line() {
    let (dir, source) = folder_to_spoil();
    let records = std::fs::read(source.join("records.jsonl")).unwrap();
    let lines: Vec<Vec<u8>> = records
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    let host = std::fs::read(source.join("host.json")).unwrap();
    let all = corruptions(lines.len());
    assert!(all.len() >= 50, "only {} corruptions", all.len());
    for (index, corruption) in all.iter().enumerate() {
        let folder: PathBuf = dir.path().join(format!("corrupt-{index}"));
        let (mut spoilt, mut spoilt_host) = (lines.clone(), host.clone());
        (corruption.spoil)(&mut spoilt, &mut spoilt_host);
        write_folder(&folder, &spoilt, &spoilt_host);
        let folder = folder.to_str().unwrap();
        let what = &corruption.what;
        let output = corebench()
            .args(["report", folder])
            .timeout(CASE_LIMIT)
            .output()
            .unwrap();
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{what}: {stderr}");
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
        assert!(stderr.contains(&corruption.needle), "{what}: {stderr}");
        assert_eq!(
            stderr.trim().lines().count(),
            1,
            "{what}: one line: {stderr}"
        );
    }
}

#[test]
fn lenient_reading_skips_bad_lines_with_a_warning_and_never_hangs() {
    let (dir, source) = folder_to_spoil();
    // Every line claims 1e308 ops/s: once a hang in the chart code.
    let records = std::fs::read_to_string(source.join("records.jsonl")).unwrap();
    let spoilt: Vec<Vec<u8>> = records
        .lines()
        .map(|line| {
            let mut record: serde_json::Value = serde_json::from_str(line).unwrap();
            record["throughput_ops_s"] = serde_json::json!(1e308);
            record.to_string().into_bytes()
        })
        .collect();
    let folder = dir.path().join("all-huge");
    write_folder(
        &folder,
        &spoilt,
        &std::fs::read(source.join("host.json")).unwrap(),
    );
    let folder = folder.to_str().unwrap();
    let output = corebench()
        .args(["report", folder, "--lenient"])
        .timeout(CASE_LIMIT)
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("skipped") && stderr.contains("throughput_ops_s"),
        "{stderr}"
    );
    let output = corebench()
        .args(["compare", folder, folder, "--lenient", "--format", "md"])
        .timeout(CASE_LIMIT)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
}
