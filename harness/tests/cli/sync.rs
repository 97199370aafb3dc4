//! Synchronization and communication workloads are correct under every
//! model: counters end exact (lost updates counted honestly), an inverted
//! lock order is recorded as a deadlock, and channels deliver every
//! message once.

use crate::common;

use common::*;
use reports::schema::{Record, Status};

/// Runs `workloads` under every model but `seq` at 1 and 2 workers.
fn run_at_1_and_2_workers(workloads: &str) -> (tempfile::TempDir, reports::folder::ResultsFolder) {
    run_ok(&[
        "--workloads",
        workloads,
        "--models",
        "threads,pool,rayon,process,tokio,tokio-current",
        "--workers",
        "1,2",
    ])
}

/// The words a `Choice` parameter of a workload accepts.
fn choices_of(info: &workloads::WorkloadInfo, param: &str) -> Vec<&'static str> {
    match info.params.iter().find(|p| p.name == param).map(|p| p.kind) {
        Some(workloads::ParamKind::Choice(words)) => words.to_vec(),
        other => panic!("{} has no choice parameter {param}: {other:?}", info.id),
    }
}

#[test]
fn counters_end_exact_and_lost_updates_are_counted_honestly() {
    let impls = choices_of(&workloads::sync::counter::INFO, "impl");
    assert_eq!(impls.len(), 6, "every counter implementation: {impls:?}");
    let specs: Vec<String> = impls
        .iter()
        .map(|i| format!("sync/counter:impl={i},outside_steps=200,cs_steps=20"))
        .chain([
            "race/lost-update:outside_steps=100".to_string(),
            "race/lost-update:impl=fetch-add,outside_steps=100".to_string(),
        ])
        .collect();
    let (_dir, folder) = run_at_1_and_2_workers(&specs.join(","));
    for record in &folder.records {
        if record.model == "process" {
            assert_eq!(
                record.status,
                Status::Unsupported,
                "{}",
                record.workload.spec
            );
            continue;
        }
        assert_eq!(
            record.status,
            Status::Ok,
            "{}: {:?}",
            record.workload.spec,
            record.error
        );
        assert_consistent(record);
        let (expected, actual, lost) = (
            counter(record, "expected_count"),
            counter(record, "actual_count"),
            counter(record, "lost_updates"),
        );
        assert_eq!(lost, expected - actual, "{}", record.workload.spec);
        let racy = record.workload.spec.contains("impl=load-store");
        let reads = record.workload.spec.contains("impl=rwlock");
        if !reads {
            assert_eq!(
                expected, record.ops as f64,
                "every op wrote once: {}",
                record.workload.spec
            );
        }
        if !racy {
            assert_eq!(
                lost, 0.0,
                "{} under {} lost updates",
                record.workload.spec, record.model
            );
        }
        if record.workers > 1 {
            let fairness = record
                .fairness
                .as_ref()
                .expect("multi-worker records carry fairness");
            assert!(fairness.jain_index > 0.0 && fairness.jain_index <= 1.0 + 1e-9);
        }
    }
}

#[test]
fn inverted_lock_order_is_recorded_as_a_deadlock_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let started = std::time::Instant::now();
    // Enough ops that the two workers are surely mid-op at the same time,
    // however loaded the machine is.
    let output = corebench()
        .args(["run", "--no-progress", "--no-calibration", "--trials", "2", "--ops", "20000"])
        .args(["--on-disturbance", "flag"])
        .args([
            "--workloads",
            "deadlock/lock-order:order=inverted,watchdog_ms=200,deadlock/lock-order:order=consistent,hold_steps=100,cpu/primes:span=20",
            "--models",
            "threads,tokio",
            "--workers",
            "2",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(50),
        "detected long before the trial time limit"
    );
    let folder = read(&out);
    let inverted: Vec<&Record> = folder
        .records
        .iter()
        .filter(|r| r.workload.spec.contains("order=inverted"))
        .collect();
    assert_eq!(inverted.len(), 2);
    for record in inverted {
        assert_eq!(
            record.status,
            Status::Deadlocked,
            "{}: {:?}",
            record.model,
            record.error
        );
        let error = record.error.as_deref().unwrap();
        assert!(
            error.contains("holds A") && error.contains("waits for"),
            "{error}"
        );
    }
    let later_ok = folder
        .records
        .iter()
        .filter(|r| !r.workload.spec.contains("order=inverted") && r.status == Status::Ok)
        .count();
    assert_eq!(
        later_ok,
        2 * 2 * 2,
        "consistent order and the next workload still ran"
    );
}

#[test]
fn rwlock_pingpong_barrier_and_semaphore_run_where_they_can() {
    let specs = [
        "sync/rwlock:impl=std,cs_steps=50,outside_steps=50",
        "sync/rwlock:impl=parking_lot,cs_steps=50,outside_steps=50",
        "sync/pingpong:impl=condvar",
        "sync/pingpong:impl=channel",
        "sync/pingpong:impl=spin",
        "sync/barrier:work_steps=200",
        "sync/semaphore:permits=1,cs_steps=100,outside_steps=100",
    ];
    let (_dir, folder) = run_at_1_and_2_workers(&specs.join(","));
    for record in &folder.records {
        let id = record.workload.id.as_str();
        let spec = record.workload.spec.as_str();
        let lockstep = id == "sync/pingpong" || id == "sync/barrier";
        // Processes share no memory; a pool cannot keep lockstep rounds;
        // pingpong is lockstep without an async op, which tokio needs.
        // spin refuses to spin on shared cores.
        let unsupported = record.model == "process"
            || (lockstep && record.model == "pool")
            || (id == "sync/pingpong" && record.model.starts_with("tokio"))
            || (spec.contains("impl=spin") && record.workers >= 2);
        let expected = if unsupported {
            Status::Unsupported
        } else {
            Status::Ok
        };
        assert_eq!(
            record.status, expected,
            "{spec} under {} at {}: {:?}",
            record.model, record.workers, record.error
        );
        match record.status {
            Status::Ok => {
                assert_consistent(record);
                if id == "sync/rwlock" {
                    assert_eq!(counter(record, "lost_updates"), 0.0);
                }
                if id == "sync/semaphore" {
                    assert!(
                        counter(record, "max_holders") <= 1.0,
                        "{:?}",
                        record.counters
                    );
                }
                if lockstep {
                    let ops: Vec<u64> = record.per_worker.iter().map(|w| w.ops).collect();
                    assert!(ops.windows(2).all(|w| w[0] == w[1]), "lockstep: {ops:?}");
                }
            }
            Status::Unsupported
                if spec.contains("impl=spin")
                    && matches!(record.model.as_str(), "threads" | "rayon") =>
            {
                assert!(record
                    .error
                    .as_deref()
                    .unwrap()
                    .contains("spin needs fewer workers than cores"));
            }
            _ => {}
        }
    }
}

#[test]
fn channels_and_the_queue_deliver_every_message_once_under_every_model() {
    let (_dir, folder) = run_ok(&[
        "--workloads",
        "comm/channel:impl=std,comm/channel:impl=crossbeam,bound=unbounded,comm/channel:impl=flume,bound=1,comm/channel:impl=tokio,comm/queue:bound=4",
        "--models",
        "all",
        "--workers",
        "1,2,3",
    ]);
    let mut ran = std::collections::BTreeSet::new();
    for record in &folder.records {
        let (implementation, what) = implementation_and_what(record);
        let awaits = implementation == "tokio" || implementation == "flume";
        let refused = matches!(record.model.as_str(), "pool" | "process")
            || (record.model.starts_with("tokio") && !awaits);
        if refused {
            assert_eq!(record.status, Status::Unsupported, "{what}");
            assert!(!record.error.as_deref().unwrap_or("").is_empty(), "{what}");
            continue;
        }
        assert_eq!(record.status, Status::Ok, "{what}: {:?}", record.error);
        assert_consistent(record);
        assert_eq!(counter(record, "messages_lost"), 0.0, "{what}");
        assert_eq!(counter(record, "messages_duplicated"), 0.0, "{what}");
        assert_eq!(
            counter(record, "messages_received"),
            counter(record, "messages"),
            "{what}"
        );
        assert!(counter(record, "message_latency_p99_ns") > 0.0, "{what}");
        ran.insert((implementation, record.model.clone()));
    }
    // Every implementation ran under threads and rayon; the awaiting ones
    // under both tokio models too.
    for implementation in ["std", "crossbeam", "flume", "tokio", "mutex-condvar"] {
        for model in ["seq", "threads", "rayon"] {
            assert!(ran.contains(&(implementation.to_string(), model.to_string())));
        }
    }
    for implementation in ["flume", "tokio"] {
        for model in ["tokio", "tokio-current"] {
            assert!(ran.contains(&(implementation.to_string(), model.to_string())));
        }
    }
}
