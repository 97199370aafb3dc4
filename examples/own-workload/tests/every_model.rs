//! The library API end to end: this crate's binary runs both of its
//! workloads under all seven models, `process` included, where the
//! children are this binary again (their pids differ from the parent's).

use std::process::Command;

use corebench::models::ALL as MODELS;
use corebench::reports::folder::ResultsFolder;
use corebench::reports::schema::Status;

#[test]
fn own_workloads_run_under_every_model_and_in_child_processes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let output = Command::new(env!("CARGO_BIN_EXE_own-workload-example"))
        .args([
            "run",
            "--models",
            "all",
            "--workers",
            "1,2",
            "--trials",
            "1",
        ])
        .args([
            "--ops",
            "200",
            "--no-calibration",
            "--no-progress",
            "--on-disturbance",
            "flag",
            "-q",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let folder = ResultsFolder::open(&out).unwrap();
    for workload in ["own/json-parse", "own/cache"] {
        for model in MODELS.iter().map(|m| m.name()) {
            let records: Vec<_> = folder
                .records
                .iter()
                .filter(|r| r.workload.id == workload && r.model == model)
                .collect();
            assert!(!records.is_empty(), "{workload} under {model}");
            for record in &records {
                assert_eq!(
                    record.status,
                    Status::Ok,
                    "{workload} under {model}: {:?}",
                    record.error
                );
                if model == "process" {
                    for worker in &record.per_worker {
                        assert_ne!(worker.pid, record.parent_pid, "a child process");
                    }
                }
            }
        }
    }
    assert!(out.join("report/index.html").exists());
    // The cache is shared state: its records say so, and under process,
    // where each child built a cache of its own, the report says the work
    // changed instead of crowning the model.
    for record in &folder.records {
        assert_eq!(
            record.workload.shares_state,
            Some(record.workload.id == "own/cache"),
            "{}",
            record.workload.id
        );
    }
    let fits: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report/fits.json")).unwrap())
            .unwrap();
    for section in fits["sections"].as_array().unwrap() {
        let process = section["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["model"] == "process")
            .unwrap();
        let reading = process["reading"].as_str().unwrap();
        assert_eq!(
            reading.starts_with("not the same program"),
            section["workload"] == "own/cache",
            "{}: {reading}",
            section["workload"]
        );
    }
    // Only this crate's workloads: none of corebench's own ran.
    assert!(folder
        .records
        .iter()
        .all(|r| r.workload.id.starts_with("own/")));
}

#[test]
fn list_shows_only_its_own_workloads_and_the_harness_ones() {
    let output = Command::new(env!("CARGO_BIN_EXE_own-workload-example"))
        .args(["list", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let list: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let ids: Vec<&str> = list["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "cpu/calibrate",
            "synthetic/noop",
            "own/json-parse",
            "own/cache"
        ]
    );
}
