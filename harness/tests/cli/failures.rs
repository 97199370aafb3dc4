//! Failures a run survives: a panicking workload, a crashing, babbling or
//! hanging child, a hanging trial, and a killed run, each on the real
//! binary; the run goes on and keeps what finished.

use crate::common;

use common::*;
use reports::schema::{Record, Status};

#[test]
fn a_panicking_workload_fails_its_cell_and_the_run_goes_on() {
    let (_dir, folder) = run_ok(&[
        "--workloads",
        "synthetic/faulty:mode=panic,at_op=5,synthetic/faulty:mode=error,cpu/primes:span=20",
        "--keep-going",
        "--models",
        "seq,threads,pool,rayon,process,tokio,tokio-current",
        "--workers",
        "2",
    ]);
    let faulty = records_of(&folder, "synthetic/faulty");
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
        // A failed or timed-out cell fails the run (for CI), and says why on
        // stderr though no terminal is attached.
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{fault}: {stderr}");
        assert!(stderr.contains(needle), "{fault}: {stderr}");
        assert!(stderr.contains("--keep-going"), "{fault}: {stderr}");
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
        "--keep-going",
        "--models",
        "threads,rayon",
        "--workers",
        "2",
        "--trial-timeout-s",
        "1",
    ]);
    let hung = records_of(&folder, "synthetic/faulty");
    assert_eq!(hung.len(), 2);
    // The first cell to meet the op is abandoned; the other is not run,
    // since each further trial would leave more threads blocked.
    let mut errors: Vec<&str> = hung
        .iter()
        .map(|record| {
            assert_eq!(record.status, Status::Timeout, "{record:?}");
            record.error.as_deref().unwrap()
        })
        .collect();
    errors.sort_by_key(|e| e.contains("not run"));
    assert!(errors[0].contains("abandoned"), "{errors:?}");
    assert!(
        errors[1].contains("not run: its op never returned"),
        "{errors:?}"
    );
    assert_eq!(
        folder
            .records
            .iter()
            .filter(|r| r.workload.id == "cpu/primes" && r.status == Status::Ok)
            .count(),
        4
    );
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
