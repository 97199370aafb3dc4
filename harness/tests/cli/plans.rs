//! Plan files through the real binary: `run PLAN.toml` runs the file with
//! the flags on top (and says which), every results folder keeps the
//! resolved plan with its hash in host.json, `--same-as` runs a folder's
//! plan again cell for cell, a machine that cannot run a plan says so
//! before it starts, and a plan of exec programs runs them.

use std::collections::BTreeSet;
use std::path::Path;

use crate::common;

use common::*;
use corebench::plan::file::{input_from, sha256_hex, Loaded};
use reports::folder::ResultsFolder;

const TINY: &str = r#"
title = "Tiny"
question = "Does a plan file run?"
look_at = "The folder."
calibration = false
workers = [1, 2]
workloads = ["cpu/primes:span=50", "io/sleep:ms=0"]
io_workers = [1, 3]
ops = 40
models = ["seq", "threads"]
warmup = 0
trials = 2

[disturbance]
on = "flag"
"#;

/// The cells of a folder: workload spec, model and workers.
fn cells(folder: &ResultsFolder) -> BTreeSet<(String, String, u32)> {
    folder
        .records
        .iter()
        .map(|r| (r.workload.spec.clone(), r.model.clone(), r.workers))
        .collect()
}

/// `corebench run PLAN ARGS... --out OUT`, where PLAN is a plan file, a
/// shipped plan's name, or `--same-as DIR` (as two arguments in `plan`).
fn run_plan(plan: &[&std::ffi::OsStr], args: &[&str], out: &Path) -> std::process::Output {
    corebench()
        .arg("run")
        .args(plan)
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

/// The plan file `name` in `dir`, holding `text`.
fn plan_file(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    file
}

/// The folder's plan.toml, checked against the hash in its host.json.
fn resolved_plan(dir: &Path) -> Loaded {
    let text = std::fs::read_to_string(dir.join("plan.toml")).expect("plan.toml written");
    let folder = read(dir);
    assert_eq!(
        folder.host.plan_sha256.as_deref(),
        Some(sha256_hex(&text).as_str())
    );
    Loaded::parse(&text, "plan.toml").expect("the resolved plan reads")
}

#[test]
fn a_plan_file_runs_with_the_flags_on_top_and_the_folder_keeps_it_resolved() {
    let dir = tempfile::tempdir().unwrap();
    let file = plan_file(dir.path(), "tiny.toml", TINY);
    let out = dir.path().join("results");
    let output = run_plan(
        &[file.as_os_str()],
        &["--trials", "1", "--no-progress"],
        &out,
    );
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("overrides the plan file's keys with --trials"),
        "{stderr}"
    );
    assert!(stderr.contains("(Tiny)"), "{stderr}");
    let folder = read(&out);
    let seen = cells(&folder);
    let io_at_3 = |c: &(String, String, u32)| c.0.starts_with("io/sleep") && c.2 == 3;
    assert!(seen.iter().any(io_at_3), "{seen:?}");
    assert!(!seen
        .iter()
        .any(|c| c.0.starts_with("cpu/primes") && c.2 == 3));
    // One trial per cell: the flag beat the file's 2.
    assert_eq!(folder.records.len(), seen.len());
    let plan = resolved_plan(&out).plan;
    assert_eq!(plan.trials, Some(1));
    assert_eq!(plan.title.as_deref(), Some("Tiny"));
    assert_eq!(plan.disturbance.unwrap().on.as_deref(), Some("flag"));
}

#[test]
fn a_folder_written_without_a_file_has_a_plan_that_same_as_runs_again() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    let output = run(
        &first,
        &[
            "-w",
            "cpu/primes:span=50",
            "-m",
            "seq,threads",
            "--warmup",
            "0",
        ],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let loaded = resolved_plan(&first);
    // Every key explicit: `auto` became counts, the profile its numbers.
    let plan = &loaded.plan;
    assert!(plan.workers.is_some() && plan.io_workers.is_some() && plan.trials.is_some());
    assert!(plan.target_trial_ms.is_some() && plan.disturbance.is_some());
    input_from(plan, &workloads::Registry::builtin()).expect("the resolved plan is valid");
    // It round-trips: written again, it reads the same.
    let again = Loaded::parse(&corebench::plan::file::to_text(plan), "again").unwrap();
    assert_eq!(&again.plan, plan);

    let second = dir.path().join("second");
    let same_as = [std::ffi::OsStr::new("--same-as"), first.as_os_str()];
    let output = run_plan(&same_as, &["--no-progress"], &second);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(cells(&read(&first)), cells(&read(&second)));
    let hash = |d: &Path| read(d).host.plan_sha256;
    assert_eq!(hash(&first), hash(&second), "the same plan, the same hash");
}

#[test]
fn a_bad_plan_file_is_one_line_naming_file_line_and_key_and_leaves_no_folder() {
    let dir = tempfile::tempdir().unwrap();
    let file = plan_file(
        dir.path(),
        "bad.toml",
        "title = \"x\"\nmodels = [\"thread\"]\n",
    );
    let out = dir.path().join("results");
    let output = run_plan(&[file.as_os_str()], &[], &out);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("bad.toml, line 2, key models"), "{stderr}");
    assert!(stderr.contains("threads"), "{stderr}");
    assert!(!out.exists());
    // A program's mistake names its [[exec]] table.
    let file = plan_file(
        dir.path(),
        "exec.toml",
        "workers = [1]\n[[exec]]\nname = \"a\"\nvariants = [\"nolabel\"]\n",
    );
    let output = run_plan(&[file.as_os_str()], &[], &out);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("exec.toml, line 4, key exec[0].variants"),
        "{stderr}"
    );
    assert!(stderr.contains("LABEL=COMMAND"), "{stderr}");
    assert!(!out.exists());
    // Not a plan at all: refused in one line, never read for ever.
    for given in ["/dev/zero", "/"] {
        let output = run_plan(&[given.as_ref()], &[], &out);
        assert_eq!(output.status.code(), Some(2), "{given}");
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains(&format!("cannot read plan file {given}")),
            "{stderr}"
        );
    }
    // Neither a path nor a shipped plan: the shipped ones are named.
    let output = corebench().args(["run", "no-such-plan"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("amdahl"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn a_machine_that_lacks_a_program_or_cores_says_so_before_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let file = plan_file(
        dir.path(),
        "missing.toml",
        "[[exec]]\nname = \"gone\"\nvariants = [\"x=no-such-program-anywhere {workers}\"]\n",
    );
    let out = dir.path().join("results");
    let output = run_plan(&[file.as_os_str()], &[], &out);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("lacks no-such-program-anywhere"));
    assert!(!out.exists());

    let cores = std::thread::available_parallelism().unwrap().get();
    let pinned = format!(
        "workloads = [\"cpu/primes\"]\nmodels = [\"threads\"]\npin = [\"compact\"]\nworkers = [{}]\n",
        cores + 1
    );
    std::fs::write(&file, pinned).unwrap();
    let output = run_plan(&[file.as_os_str()], &[], &out);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("cannot run the plan"),
        "{}",
        text(&output.stderr)
    );
    assert!(!out.exists());
}

#[test]
fn a_plan_of_exec_programs_runs_them_and_same_as_runs_an_exec_folder_again() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("programs.toml");
    std::fs::write(
        &file,
        r#"
title = "Two shells"
workers = [1, 2]
[[exec]]
name = "sleepy"
variants = ["sh=sh -c 'sleep 0.0{size}'", "dash=sh -c 'true {size}'"]
parameters = ["size=1,2"]
trials = 1
warmup = 0
"#,
    )
    .unwrap();
    let out = dir.path().join("results");
    let output = run_plan(&[file.as_os_str()], &["-q"], &out);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let folder = read(&out);
    // 2 variants x 2 sizes x 2 worker counts, one trial each.
    assert_eq!(folder.records.len(), 8);
    assert!(folder
        .records
        .iter()
        .all(|r| r.workload.id == "exec/sleepy"));

    // `corebench exec` writes a plan too, which `run --same-as` repeats.
    let exec_out = dir.path().join("exec");
    let output = corebench()
        .args([
            "exec", "--name", "one", "-n", "1", "-t", "1", "--warmup", "0", "-q",
        ])
        .args(["--variant", "sh=true", "--out"])
        .arg(&exec_out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let again = dir.path().join("again");
    let same_as = [std::ffi::OsStr::new("--same-as"), exec_out.as_os_str()];
    let output = run_plan(&same_as, &["-q"], &again);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(cells(&read(&exec_out)), cells(&read(&again)));
}

#[test]
fn compare_says_whether_two_folders_ran_one_plan_and_lists_what_differs() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    let plan = [
        "-w",
        "cpu/primes:span=50",
        "-m",
        "threads",
        "--warmup",
        "0",
        "--seed",
        "3",
    ];
    for (out, extra) in [
        (&a, &["-n", "1,2"]),
        (&b, &["-n", "1,2"]),
        (&c, &["-n", "1"]),
    ] {
        let mut args = plan.to_vec();
        args.extend(extra);
        let output = run(out, &args);
        assert!(output.status.success(), "{}", text(&output.stderr));
    }
    let output = corebench()
        .args(["compare", "--format", "md"])
        .args([&a, &b, &c])
        .output()
        .unwrap();
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(stdout.contains("ran the same plan"), "{stdout}");
    assert!(stdout.contains("ran a different plan from"), "{stdout}");
    assert!(stdout.contains("workers: [1,2] vs [1]"), "{stdout}");
    assert!(
        stdout.contains("plan)"),
        "a missing cell says why: {stdout}"
    );
    let output = corebench()
        .args(["compare", "--format", "csv"])
        .args([&a, &c])
        .output()
        .unwrap();
    let csv = text(&output.stdout);
    assert!(
        csv.lines().next().unwrap().ends_with(",missing_reason"),
        "{csv}"
    );
    assert!(csv.contains("not in vm #2's plan"), "{csv}");
}

#[test]
fn list_plans_shows_every_shipped_plan_with_its_title() {
    let output = corebench().args(["list", "--plans"]).output().unwrap();
    let stdout = text(&output.stdout);
    assert!(output.status.success());
    for name in [
        "default",
        "quick",
        "full",
        "gil",
        "amdahl",
        "reactive-streams",
    ] {
        assert!(
            stdout.lines().any(|l| l.starts_with(&format!("  {name} "))),
            "{name}: {stdout}"
        );
    }
    assert!(stdout.contains("Amdahl's law at three serial fractions"));
}

#[test]
fn a_program_given_http_url_gets_the_loopback_server_for_every_run() {
    // The orphan hunt after each run once killed the server too: the
    // second run found nothing listening. The prepare hook gets the URL
    // as the command does.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fetch.toml");
    let get = "python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1]).read()' {http_url}/work?delay_ms=0";
    std::fs::write(
        &file,
        format!("workers = [1, 2]\n[[exec]]\nname = \"get\"\nvariants = [\"py={get}\"]\nprepare = [\"{get}\"]\ntrials = 2\nwarmup = 0\n"),
    )
    .unwrap();
    let out = dir.path().join("results");
    let output = run_plan(&[file.as_os_str()], &["-q"], &out);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let folder = read(&out);
    assert_eq!(folder.records.len(), 4);
    assert_eq!(folder.host.http_server.unwrap().kind, "loopback");
}

#[test]
fn print_plan_shows_the_resolved_plan_and_runs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let output = run_plan(
        &["amdahl".as_ref()],
        &["--trials", "2", "--print-plan"],
        &out,
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let printed = Loaded::parse(&text(&output.stdout), "printed")
        .unwrap()
        .plan;
    assert_eq!(printed.trials, Some(2));
    assert!(matches!(
        printed.workers,
        Some(reports::schema::plan::WorkerCounts::Counts(_))
    ));
    assert_eq!(printed.workloads.unwrap().len(), 3);
    assert!(!out.exists());
}

#[test]
fn the_suite_without_a_file_is_its_shipped_plan_and_a_custom_run_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let title = |args: &[&str]| {
        let output = run_plan(
            &[],
            &[args, &["--print-plan"]].concat(),
            &dir.path().join("x"),
        );
        assert!(output.status.success(), "{}", text(&output.stderr));
        Loaded::parse(&text(&output.stdout), "printed")
            .unwrap()
            .plan
            .title
    };
    assert_eq!(title(&[]).as_deref(), Some("The default suite"));
    assert_eq!(
        title(&["--profile", "quick", "-t", "2"]).as_deref(),
        Some("The suite, quickly")
    );
    assert_eq!(title(&["-w", "cpu/primes"]), None);
}
