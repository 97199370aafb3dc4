//! `report --out` and `compare --out` never destroy a folder: they write
//! only into a new or empty folder, or one holding a report corebench
//! wrote (its marker says so), and then keep whatever else is in it. A
//! results folder, an input and a folder of someone else's files are bad
//! input (exit 2). Every test runs the real binary on a copy of the
//! sample results folder.

use crate::common;

use std::path::Path;

use common::*;

fn refused(output: &std::process::Output, what: &str) -> String {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{what}: {stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    stderr
}

fn args<'a>(words: &[&'a str], out: &'a Path) -> Vec<&'a str> {
    let mut all = words.to_vec();
    all.extend(["--out", out.to_str().unwrap()]);
    all
}

#[test]
fn a_folder_of_someone_elses_files_is_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let base = sample_copy(dir.path(), "base");
    let v = dir.path().join("v");
    std::fs::create_dir(&v).unwrap();
    std::fs::write(v.join("precious.txt"), "keep").unwrap();
    let b = base.to_str().unwrap();
    for (words, what) in [
        (vec!["report", b], "report"),
        (vec!["compare", b, b], "compare"),
    ] {
        let stderr = refused(&corebench_with(&args(&words, &v)), what);
        assert!(stderr.contains("precious.txt"), "names the file: {stderr}");
        assert_eq!(
            std::fs::read_to_string(v.join("precious.txt")).unwrap(),
            "keep"
        );
        assert_eq!(
            std::fs::read_dir(&v).unwrap().count(),
            1,
            "{what} wrote nothing"
        );
    }
}

#[test]
fn a_results_folder_or_an_input_is_never_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let base = sample_copy(dir.path(), "base");
    let other = sample_copy(dir.path(), "other");
    let before = std::fs::read(base.join("records.jsonl")).unwrap();
    let b = base.to_str().unwrap();
    let o = other.to_str().unwrap();
    for (words, out, what) in [
        (vec!["report", b], base.clone(), "report into its input"),
        (
            vec!["report", b],
            other.clone(),
            "report into another results folder",
        ),
        (
            vec!["compare", b, o],
            other.clone(),
            "compare into an input",
        ),
        (
            vec!["report", b],
            dir.path().to_path_buf(),
            "report into a folder holding its input",
        ),
    ] {
        let stderr = refused(&corebench_with(&args(&words, &out)), what);
        assert!(
            stderr.contains("results folder") || stderr.contains("input"),
            "{what}: says why: {stderr}"
        );
    }
    assert_eq!(std::fs::read(base.join("records.jsonl")).unwrap(), before);
    for folder in [&base, &other] {
        let names: Vec<_> = std::fs::read_dir(folder)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names.len(),
            2,
            "nothing added to {}: {names:?}",
            folder.display()
        );
    }
}

#[test]
fn a_report_folder_is_rerendered_in_place_and_keeps_what_the_user_added() {
    let dir = tempfile::tempdir().unwrap();
    let base = sample_copy(dir.path(), "base");
    let b = base.to_str().unwrap();
    // The default, twice: the second replaces the first.
    for _ in 0..2 {
        let output = corebench_with(&["report", b]);
        assert!(output.status.success(), "{}", text(&output.stderr));
    }
    let report = base.join("report");
    assert!(report.join(".corebench-report").is_file());
    std::fs::write(report.join("my-notes.txt"), "mine").unwrap();
    let output = corebench_with(&["report", b]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        std::fs::read_to_string(report.join("my-notes.txt")).unwrap(),
        "mine"
    );
    assert!(report.join("index.html").is_file());

    // A new folder, then the same folder again; an empty one too.
    for name in ["elsewhere", "elsewhere", "empty"] {
        let out = dir.path().join(name);
        if name == "empty" {
            std::fs::create_dir(&out).unwrap();
        }
        let output = corebench_with(&args(&["report", b], &out));
        assert!(output.status.success(), "{name}: {}", text(&output.stderr));
        assert!(out.join("index.html").is_file());
    }
    let out = dir.path().join("comparison");
    for _ in 0..2 {
        let output = corebench_with(&args(&["compare", b, b], &out));
        assert!(output.status.success(), "{}", text(&output.stderr));
    }
    assert!(out.join(".corebench-report").is_file());
}

#[test]
fn a_file_the_user_put_where_the_report_writes_its_own_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let base = sample_copy(dir.path(), "base");
    let b = base.to_str().unwrap();
    let out = dir.path().join("r");
    assert!(corebench_with(&args(&["report", b], &out)).status.success());
    // The user replaced the marker's list with one that no longer names
    // index.html: that file is now theirs.
    let marker = std::fs::read_to_string(out.join(".corebench-report")).unwrap();
    let without: String = marker
        .lines()
        .filter(|l| *l != "index.html")
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(out.join(".corebench-report"), without).unwrap();
    std::fs::write(out.join("index.html"), "theirs").unwrap();
    let stderr = refused(&corebench_with(&args(&["report", b], &out)), "a clash");
    assert!(stderr.contains("index.html"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(out.join("index.html")).unwrap(),
        "theirs"
    );
}
