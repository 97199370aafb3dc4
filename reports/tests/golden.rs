//! Golden results folders: one per schema version, written by a real run
//! and kept forever, so every version this build claims to read stays
//! readable. A new schema version adds a folder here; none is removed.

mod common;

use std::path::Path;

use reports::folder::ResultsFolder;
use reports::schema::{Status, READABLE_SCHEMA_VERSIONS, SCHEMA_VERSION};

fn golden(version: u32) -> ResultsFolder {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("v{version}"));
    ResultsFolder::open(&dir).expect("golden folder reads")
}

#[test]
fn every_readable_version_has_a_golden_folder_that_reads() {
    assert!(READABLE_SCHEMA_VERSIONS.contains(&SCHEMA_VERSION));
    for &version in READABLE_SCHEMA_VERSIONS {
        let folder = golden(version);
        assert_eq!(folder.host.schema_version, version);
        assert!(!folder.records.is_empty());
        assert!(folder.records.iter().all(|r| r.schema_version == version));
    }
}

#[test]
fn v1_records_keep_their_meaning() {
    let folder = golden(1);
    assert_eq!(folder.host.label.as_deref(), Some("golden-v1"));
    let statuses: Vec<Status> = folder.records.iter().map(|r| r.status).collect();
    assert!(statuses.contains(&Status::Ok));
    assert!(statuses.contains(&Status::Failed));
    assert!(statuses.contains(&Status::Unsupported));
    for record in folder.records.iter().filter(|r| r.status == Status::Ok) {
        let histogram = reports::histogram::decode(record.histogram.as_deref().unwrap()).unwrap();
        assert_eq!(histogram.len(), record.ops);
        let summary = reports::histogram::summarise(&histogram).unwrap();
        assert_eq!(Some(&summary), record.latency.as_ref());
        let per_worker: u64 = record.per_worker.iter().map(|w| w.ops).sum();
        assert_eq!(per_worker, record.ops);
    }
    let failed = folder
        .records
        .iter()
        .find(|r| r.status == Status::Failed)
        .unwrap();
    assert!(failed.error.as_deref().unwrap().contains("on purpose"));
}

#[test]
fn a_cut_off_last_line_is_ignored_but_a_bad_middle_line_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/v1");
    std::fs::copy(source.join("host.json"), dir.path().join("host.json")).unwrap();
    let records = std::fs::read_to_string(source.join("records.jsonl")).unwrap();
    let full = records.lines().count();

    let cut = &records[..records.len() - 40];
    std::fs::write(dir.path().join("records.jsonl"), cut).unwrap();
    let folder = ResultsFolder::open(dir.path()).unwrap();
    assert_eq!(folder.records.len(), full - 1);

    let broken = format!("{{\"schema_version\":1,\"oops\":true}}\n{records}");
    std::fs::write(dir.path().join("records.jsonl"), broken).unwrap();
    let err = ResultsFolder::open(dir.path()).unwrap_err().to_string();
    assert!(err.contains("records.jsonl:1"), "{err}");

    let future = records.replacen("\"schema_version\":1", "\"schema_version\":99", 1);
    std::fs::write(dir.path().join("records.jsonl"), future).unwrap();
    let err = ResultsFolder::open(dir.path()).unwrap_err().to_string();
    assert!(err.contains("schema_version 99"), "{err}");
}

#[test]
fn cells_summarise_medians_and_speedups() {
    let folder = golden(1);
    let analysis = reports::analysis::analyse(&folder.host, &folder.records, &common::models());
    let threads = analysis
        .sections
        .iter()
        .filter(|s| s.workload_spec.starts_with("synthetic/amdahl"))
        .flat_map(|s| &s.rows)
        .find(|r| r.model == "threads")
        .unwrap();
    assert_eq!(threads.status, Status::Ok);
    assert!(threads.wall_ns.is_some());
    assert!(threads.speedup_vs_seq.is_some());
    let table = reports::terminal::summary_tables(&analysis);
    assert!(table.contains("unsupported"));
    assert!(table.contains("synthetic/faulty"));
}
