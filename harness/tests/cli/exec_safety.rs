//! `corebench exec` under the guarantees `run` gives: SIGINT and SIGTERM
//! kill the program and everything it started and render what finished;
//! SIGKILL of corebench leaves nothing running either (its guardian
//! acts); a chain of `setsid` escapees holding stderr open cannot hold a
//! trial past its limit; numbers are bounded as `run`'s are; and neither
//! a flood of stderr nor a huge garbage line in the ops file is held
//! whole. Every test runs the real binary on tiny shell programs.

use crate::common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use reports::schema::Status;

/// Pids of processes (not this test) whose command line starts with
/// `needle`: the programs themselves, not corebench, whose command line
/// names them too.
fn processes_mentioning(needle: &str) -> Vec<u32> {
    processes_where(|cmdline| cmdline.starts_with(needle))
}

/// Waits up to `patience` for `done`; false if it never came.
fn within(patience: Duration, mut done: impl FnMut() -> bool) -> bool {
    let give_up = Instant::now() + patience;
    while Instant::now() < give_up {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    done()
}

/// Kills whatever is left of `needle` after a failed assertion. Each test
/// sweeps only its own markers: the tests run side by side, and a broader
/// needle killed another test's programs mid-trial.
struct Sweep(&'static str);

impl Drop for Sweep {
    fn drop(&mut self) {
        for pid in processes_mentioning(self.0) {
            unsafe {
                libc::kill(pid as i32, libc::SIGKILL);
            }
        }
    }
}

/// `corebench exec` in the background on a program that forks two
/// grandchildren and waits for them.
fn exec_in_background(out: &Path, marker: u32) -> Child {
    let program = format!("a=sh -c 'sleep {marker}1 & sleep {marker}2 & wait'");
    Command::new(env!("CARGO_BIN_EXE_corebench"))
        .args(["exec", "--name", "k", "-t", "2", "-n", "1,2", "-q"])
        .args(["--variant", "quick=true", "--variant", &program, "--out"])
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn stop_mid_trial(signal: i32, marker: u32) -> (std::process::Output, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap().keep();
    let out = dir.join("ex");
    let child = exec_in_background(&out, marker);
    let first = format!("sleep {marker}1");
    assert!(
        within(Duration::from_secs(30), || !processes_mentioning(&first)
            .is_empty()),
        "the program started"
    );
    unsafe {
        libc::kill(child.id() as i32, signal);
    }
    (child.wait_with_output().unwrap(), out)
}

#[test]
fn sigint_and_sigterm_kill_the_programs_children_and_render_what_finished() {
    let _sweeps = [Sweep("sleep 4061"), Sweep("sleep 4062")];
    for (signal, marker, code) in [(libc::SIGINT, 4061, 130), (libc::SIGTERM, 4062, 143)] {
        let (output, out) = stop_mid_trial(signal, marker);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{stderr}");
        assert!(stderr.contains("stopped by SIG"), "{stderr}");
        for leftover in [format!("sleep {marker}1"), format!("sleep {marker}2")] {
            assert!(
                within(Duration::from_secs(2), || processes_mentioning(&leftover)
                    .is_empty()),
                "{leftover} outlived corebench"
            );
        }
        assert!(
            !out.join("exec-ops").exists(),
            "the scratch folder is removed"
        );
        assert!(out.join("report/index.html").is_file(), "{stderr}");
        // What finished is kept; the trial cut short is not a result.
        for record in read(&out).records {
            assert_eq!(record.status, Status::Ok, "{:?}", record.error);
        }
        let _ = std::fs::remove_dir_all(out.parent().unwrap());
    }
}

#[test]
fn sigkill_of_corebench_leaves_no_child_and_no_scratch_folder() {
    let _sweep = Sweep("sleep 4063");
    let (output, out) = stop_mid_trial(libc::SIGKILL, 4063);
    assert_eq!(output.status.code(), None, "killed by a signal");
    for leftover in ["sleep 40631", "sleep 40632"] {
        assert!(
            within(Duration::from_secs(10), || processes_mentioning(leftover)
                .is_empty()),
            "{leftover} outlived a killed corebench"
        );
    }
    assert!(
        within(Duration::from_secs(10), || !out.join("exec-ops").exists()),
        "the guardian removed the scratch folder"
    );
    assert!(
        within(Duration::from_secs(10), || {
            processes_mentioning(env!("CARGO_BIN_EXE_corebench"))
                .iter()
                .all(|pid| {
                    !std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
                        .unwrap_or_default()
                        .contains(out.to_str().unwrap())
                })
        }),
        "the guardian ended too"
    );
    let _ = std::fs::remove_dir_all(out.parent().unwrap());
}

#[test]
fn a_five_deep_setsid_chain_holding_stderr_cannot_hold_a_trial_past_its_limit() {
    let _sweep = Sweep("sleep 4064");
    let dir = tempfile::tempdir().unwrap();
    let chain = dir.path().join("chain.sh");
    // Each level starts the next in a session of its own, then sleeps
    // with stderr still open.
    std::fs::write(
        &chain,
        "d=$1\nif [ \"$d\" -gt 0 ]; then setsid sh \"$0\" $((d-1)) & fi\nexec sleep 4064$d\n",
    )
    .unwrap();
    let out = dir.path().join("results");
    let variant = format!("chain=sh {} 5", chain.display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_corebench"))
        .args(["exec", "--name", "chain", "-t", "1", "-n", "1", "-q"])
        .args(["--trial-timeout-s", "1", "--variant", &variant, "--out"])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Far past the 1 s limit: a hang, not a slow run.
    let ended = within(Duration::from_secs(60), || {
        child.try_wait().unwrap().is_some()
    });
    if !ended {
        let _ = child.kill();
    }
    assert!(ended, "corebench hung on the chain's open stderr");
    for depth in 0..=5 {
        let leftover = format!("sleep 4064{depth}");
        assert!(
            processes_mentioning(&leftover).is_empty(),
            "{leftover} outlived its trial"
        );
    }
    let folder = read(&out);
    let record = &folder.records[0];
    assert_eq!(record.status, Status::Timeout, "{:?}", record.error);
}

#[test]
fn huge_timeouts_and_worker_counts_get_runs_answers() {
    for timeout in ["1e300", "1e19", "inf", "-1"] {
        let output = corebench_with(&[
            "exec",
            "--name",
            "x",
            "--variant",
            "a=true",
            &format!("--trial-timeout-s={timeout}"),
        ]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{timeout}: {stderr}");
        assert!(
            stderr.contains("--trial-timeout-s") && stderr.contains("at most 86400"),
            "{stderr}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let output = corebench()
        .args([
            "exec",
            "--name",
            "wide",
            "-n",
            "2000",
            "-t",
            "1",
            "-q",
            "--variant",
            "a=true",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(read(&out).records[0].workers, 2000);
    let output = corebench_with(&["exec", "--name", "x", "--variant", "a=true", "-n", "9999"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("from 1 to 4096"),
        "{}",
        text(&output.stderr)
    );
}

/// Runs `program` once under `corebench exec`, waiting for it with
/// `wait4`: its output and corebench's peak resident set, KiB.
// Reaped by `libc::wait4`, which returns its own rusage, not by `wait`.
#[allow(clippy::zombie_processes)]
fn exec_measured(out: &Path, program: &str) -> (std::process::Output, u64) {
    let child = Command::new(env!("CARGO_BIN_EXE_corebench"))
        .args([
            "exec",
            "--name",
            "big",
            "-t",
            "1",
            "-n",
            "1",
            "-q",
            "--variant",
            program,
            "--out",
        ])
        .arg(out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // Reaped here for its own rusage; its pipes are read afterwards.
    let stdout = child.stdout;
    let stderr = child.stderr;
    let reader = std::thread::spawn(move || {
        use std::io::Read;
        let (mut o, mut e) = (Vec::new(), Vec::new());
        stdout.unwrap().read_to_end(&mut o).unwrap();
        stderr.unwrap().read_to_end(&mut e).unwrap();
        (o, e)
    });
    unsafe {
        libc::wait4(pid, &mut status, 0, &mut usage);
    }
    let (stdout, stderr) = reader.join().unwrap();
    let output = std::process::Output {
        status: std::os::unix::process::ExitStatusExt::from_raw(status),
        stdout,
        stderr,
    };
    (output, usage.ru_maxrss as u64)
}

#[test]
fn a_gigabyte_of_stderr_is_not_held_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let program = "flood=sh -c 'head -c 1000000000 /dev/zero | tr \"\\0\" e >&2; echo the last words >&2; exit 1'";
    let (output, peak_kib) = exec_measured(&out, program);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert!(peak_kib < 200 * 1024, "corebench peaked at {peak_kib} KiB");
    let record = &read(&out).records[0];
    let error = record.error.as_deref().unwrap();
    assert!(
        error.contains("the last words"),
        "{}",
        &error[..200.min(error.len())]
    );
    assert!(
        error.contains("of 1000000015 bytes"),
        "says what was cut: {}",
        &error[..200]
    );
    assert!(error.len() < 4000, "{}", error.len());
}

#[test]
fn a_50_mb_garbage_line_in_the_ops_file_is_quoted_only_in_part() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let program = "garbage=sh -c 'echo 1000 > $COREBENCH_OPS_FILE; head -c 50000000 /dev/zero | tr \"\\0\" x >> $COREBENCH_OPS_FILE'";
    let (output, peak_kib) = exec_measured(&out, program);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert!(peak_kib < 200 * 1024, "corebench peaked at {peak_kib} KiB");
    let size = std::fs::metadata(out.join("records.jsonl")).unwrap().len();
    assert!(size < 100_000, "records.jsonl grew to {size} bytes");
    let record = &read(&out).records[0];
    let error = record.error.as_deref().unwrap();
    assert!(
        error.contains(":2: 'xxx") && error.contains("50000000 bytes in all"),
        "{error}"
    );
}
