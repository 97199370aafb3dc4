//! Readers that cannot be hung or swamped by what a folder holds: a FIFO
//! or a device in place of `records.jsonl` or `host.json` is refused with
//! one line naming it (exit 2); a folded profile that is a link to
//! `/dev/zero`, or not UTF-8, leaves out its own flamegraph with a warning
//! naming the file and line, and the report is written. Every test runs
//! the real binary, with a time limit, on a copy of the sample folder.

use crate::common;

use std::path::Path;
use std::time::Duration;

use common::*;

/// A limit far above what these tiny folders take, so a hang fails the
/// test instead of stalling the suite.
const HANG_LIMIT: Duration = Duration::from_secs(60);

fn corebench_limited(args: &[&str]) -> std::process::Output {
    corebench().args(args).timeout(HANG_LIMIT).output().unwrap()
}

fn make_fifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

fn refused_naming(output: &std::process::Output, file: &str, kind: &str) {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains(file) && stderr.contains(kind), "{stderr}");
}

#[test]
fn a_fifo_or_a_device_as_records_or_host_is_refused_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let base = sample_copy(dir.path(), "base");
    let good = base.to_str().unwrap();
    for (file, kind) in [
        ("records.jsonl", "FIFO"),
        ("host.json", "FIFO"),
        ("records.jsonl", "character device"),
    ] {
        let bad = sample_copy(dir.path(), &format!("bad-{file}-{}", kind.len()));
        let path = bad.join(file);
        std::fs::remove_file(&path).unwrap();
        if kind == "FIFO" {
            make_fifo(&path);
        } else {
            std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
        }
        let b = bad.to_str().unwrap();
        let out = dir.path().join(format!("out-{file}-{}", kind.len()));
        let o = out.to_str().unwrap();
        refused_naming(&corebench_limited(&["report", b, "--out", o]), file, kind);
        refused_naming(
            &corebench_limited(&["compare", good, b, "--out", o]),
            file,
            kind,
        );
        assert!(!out.exists(), "nothing written for {file} as a {kind}");
    }
}

#[test]
fn a_bad_folded_profile_leaves_out_its_flamegraph_only() {
    let dir = tempfile::tempdir().unwrap();
    let base = sample_copy(dir.path(), "base");
    let profiles = base.join("profiles");
    std::fs::create_dir(&profiles).unwrap();
    std::os::unix::fs::symlink("/dev/zero", profiles.join("endless.folded")).unwrap();
    std::fs::write(
        profiles.join("garbled.folded"),
        b"main;work 3\nmain;\xc3\x28 2\n",
    )
    .unwrap();
    std::fs::write(profiles.join("fine.folded"), "main;primes_kernel 7\n").unwrap();
    let out = dir.path().join("report");
    let output = corebench_limited(&[
        "report",
        base.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(out.join("index.html").is_file());
    assert!(
        out.join("flame/fine.svg").is_file(),
        "the good one is drawn"
    );
    assert!(!out.join("flame/garbled.svg").exists());
    assert!(!out.join("flame/endless.svg").exists());
    assert!(
        stderr.contains("warning: profiles/garbled.folded:2: not valid UTF-8 at byte 6"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: profiles/endless.folded: it is a character device"),
        "{stderr}"
    );
}
