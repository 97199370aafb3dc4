//! CLI tests of the IO and mixed workloads, the loopback server, `--target`
//! and open load: the real binary on tiny plans, everything on 127.0.0.1.

use crate::common;

use std::path::Path;

use common::*;
use reports::schema::{Record, Status};

/// Every IO and mixed workload, small enough for a test.
const IO_WORKLOADS: &str = "io/http:delay_ms=0.2,size_bytes=300,io/file:block_bytes=4096,fsync=false,io/sleep:ms=0.2,mixed/crawl:hash_rounds=1,mixed/compress:chunk_bytes=4096,chunks=8,level=1";

/// Runs every IO workload under every model (two trials of 200 ops unless
/// `extra` says otherwise, see `common::run`) with `extra` arguments and
/// checks each record: `ok` and consistent, except the crawler under
/// `process`, which must say why it cannot run.
fn run_every_io_workload(extra: &[&str]) -> (tempfile::TempDir, Vec<Record>) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let mut args = vec![
        "--workloads",
        IO_WORKLOADS,
        "--models",
        "all",
        "--workers",
        "1,3",
    ];
    args.extend_from_slice(extra);
    let output = run(&out, &args);
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let folder = read(&out);
    // seq at 1, six models at 1 and 3, for five workloads: two trials
    // each, one record for the two cells that cannot run.
    assert_eq!(folder.records.len(), 5 * (1 + 6 * 2) * 2 - 2);
    for record in &folder.records {
        let what = format!(
            "{} under {} at {}",
            record.workload.id, record.model, record.workers
        );
        if record.workload.id == "mixed/crawl" && record.model == "process" {
            assert_eq!(record.status, Status::Unsupported, "{what}");
            assert!(
                record.error.as_deref().unwrap().contains("frontier"),
                "{what}"
            );
            continue;
        }
        assert_eq!(record.status, Status::Ok, "{what}: {:?}", record.error);
        assert_consistent(record);
        // The async models use the async op of every IO workload.
        assert_eq!(record.async_op, record.model.starts_with("tokio"), "{what}");
    }
    let host = &folder.host;
    let server = host
        .http_server
        .as_ref()
        .expect("host.json names the server");
    assert_eq!(server.kind, "loopback");
    assert!(server.threads.is_some_and(|t| t >= 1));
    assert_server_is_gone(&server.url);
    (dir, folder.records)
}

/// Nothing listens at `url` any more: the run stopped its server.
fn assert_server_is_gone(url: &str) {
    let address = url.trim_start_matches("http://");
    assert!(
        std::net::TcpStream::connect(address).is_err(),
        "the loopback server at {url} outlived the run"
    );
}

fn records_of<'a>(records: &'a [Record], id: &str) -> Vec<&'a Record> {
    records
        .iter()
        .filter(|r| r.workload.id == id && r.status == Status::Ok)
        .collect()
}

#[test]
fn io_workloads_run_under_every_model_closed_and_strong() {
    // 60 ops a trial: what is checked is what the ops did, and 200 took
    // twice as long.
    let (dir, records) = run_every_io_workload(&["--ops", "60"]);
    // The crawler visits every page of its site exactly once.
    let crawls = records_of(&records, "mixed/crawl");
    assert_eq!(crawls.len(), (1 + 5 * 2) * 2);
    for record in crawls {
        assert_eq!(counter(record, "pages"), record.ops as f64);
        assert_eq!(counter(record, "pages_visited"), record.ops as f64);
        assert_eq!(
            counter(record, "pages_visited_twice"),
            0.0,
            "{}",
            record.model
        );
        assert_eq!(counter(record, "pages_unvisited"), 0.0, "{}", record.model);
    }
    // Its CSV holds one row per page of the last crawl, each page once.
    let csv = std::fs::read_to_string(dir.path().join("results/crawl-pages.csv")).unwrap();
    let mut pages: Vec<u64> = csv
        .lines()
        .skip(1)
        .map(|line| line.split(',').next().unwrap().parse().unwrap())
        .collect();
    pages.sort_unstable();
    assert_eq!(pages, (0..pages.len() as u64).collect::<Vec<_>>());
    // The file workload verified every byte it wrote.
    for record in records_of(&records, "io/file") {
        assert_eq!(
            counter(record, "verified_bytes"),
            record.ops as f64 * 4096.0
        );
    }
    for record in records_of(&records, "mixed/compress") {
        assert_eq!(counter(record, "bytes_in"), record.ops as f64 * 4096.0);
        assert!(counter(record, "bytes_out") < counter(record, "bytes_in"));
    }
    for record in records_of(&records, "io/http") {
        assert_eq!(counter(record, "http_errors"), 0.0);
    }
    // Temporary files are gone; only the results, the report and the
    // crawler's CSV remain.
    let mut left: Vec<String> = std::fs::read_dir(dir.path().join("results"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            "crawl-pages.csv",
            "host.json",
            "plan.toml",
            "records.jsonl",
            "report"
        ]
    );
}

#[test]
fn io_workloads_run_under_every_model_open_and_weak() {
    // 25 ops per worker: at 4000 ops/s a trial's schedule, not its work,
    // sets its length.
    let (_dir, records) =
        run_every_io_workload(&["--load", "open:4000", "--scaling", "weak", "--ops", "25"]);
    for record in records.iter().filter(|r| r.status == Status::Ok) {
        assert_eq!(record.load, "open:4000");
        assert_eq!(record.ops, 25 * u64::from(record.workers), "weak scaling");
        let open = record
            .open_loop
            .as_ref()
            .expect("open records say how the schedule went");
        assert_eq!(open.requested_rate_ops_s, 4000.0);
        let uncorrected =
            reports::histogram::decode(open.uncorrected_histogram.as_ref().unwrap()).unwrap();
        assert_eq!(uncorrected.len(), record.ops, "{}", record.model);
        // From the due time is never shorter than from the actual start.
        let corrected = record.latency.as_ref().unwrap();
        assert!(corrected.max_ns >= open.uncorrected_latency.as_ref().unwrap().max_ns);
        let pacing = open
            .pacing_histogram
            .as_ref()
            .map_or(0, |h| reports::histogram::decode(h).unwrap().len());
        assert_eq!(
            pacing + open.late_starts,
            record.ops,
            "every op was early or late"
        );
    }
}

#[test]
fn the_file_workload_fails_a_cell_whose_data_does_not_verify() {
    let (dir, folder) = run_ok(&[
        "--workloads",
        "io/file:block_bytes=512,fsync=false,corrupt=true,cpu/primes",
        "--keep-going",
        "--models",
        "threads,tokio",
        "--workers",
        "1",
    ]);
    for record in &folder.records {
        if record.workload.id == "io/file" {
            assert_eq!(record.status, Status::Failed, "{}", record.model);
            let error = record.error.as_deref().unwrap();
            assert!(error.contains("verification failed"), "{error}");
        } else {
            assert_eq!(record.status, Status::Ok, "the run goes on");
        }
    }
    // The failed cells' temporary folders are gone too.
    let left: Vec<String> = std::fs::read_dir(dir.path().join("results"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".corebench"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_target_that_answers_errors_is_counted_per_status_and_fails_past_the_limit() {
    let server = serve();
    let target = format!("{}/status/503", server.url);
    let (_dir, folder) = run_ok(&[
        "--workloads",
        "io/http:max_errors=5",
        "--keep-going",
        "--models",
        "threads,tokio",
        "--workers",
        "1",
        "--target",
        &target,
    ]);
    let http = folder.host.http_server.as_ref().unwrap();
    assert_eq!(
        (http.kind.as_str(), http.url.as_str()),
        ("target", target.as_str())
    );
    for record in &folder.records {
        assert_eq!(record.status, Status::Failed, "{}", record.model);
        let error = record.error.as_deref().unwrap();
        assert!(
            error.contains("503: 6") && error.contains("max_errors=5"),
            "{error}"
        );
    }
    // A target that answers 200 is measured as a client only.
    let target = format!("{}/work?size_bytes=5", server.url);
    let (_dir, folder) = run_ok(&[
        "--workloads",
        "io/http",
        "--models",
        "threads,tokio-current",
        "--workers",
        "2",
        "--target",
        &target,
    ]);
    for record in &folder.records {
        assert_eq!(record.status, Status::Ok, "{:?}", record.error);
        assert_eq!(counter(record, "http_errors"), 0.0);
    }
}

#[test]
fn bad_io_input_exits_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let free_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = format!("http://127.0.0.1:{free_port}/");
    let cases: [(&[&str], &str); 5] = [
        (
            &["--workloads", "io/http", "--target", &unreachable],
            "cannot reach --target",
        ),
        (
            &["--workloads", "io/http", "--target", "https://example.com/"],
            "http://",
        ),
        (&["--workloads", "io/http", "--load", "open:0"], "'open:0'"),
        (
            &["--workloads", "io/http", "--load", "open:-10"],
            "RATE in ops per second > 0",
        ),
        (&["--workloads", "io/http:delay_ms=-1"], "delay_ms"),
    ];
    for (args, needle) in cases {
        let out = dir.path().join("never");
        let output = run(&out, args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&output.stderr)
        );
        let stderr = text(&output.stderr);
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(!Path::new(&out).exists(), "no results folder for bad input");
    }
}

#[test]
fn open_load_counts_a_server_stall_from_the_due_times() {
    // The op of index 40 makes the server hold every answer for 100 ms.
    let (_dir, folder) = run_ok(&[
        "--workloads",
        "io/http:delay_ms=0,stall_ms=100,stall_at_op=40",
        "--models",
        "threads",
        "--workers",
        "2",
        "--load",
        "open:400",
    ]);
    let record = &folder.records[0];
    assert_eq!(record.status, Status::Ok, "{:?}", record.error);
    let corrected = record.latency.as_ref().unwrap();
    let open = record.open_loop.as_ref().unwrap();
    let uncorrected = open.uncorrected_latency.as_ref().unwrap();
    // The server slept 100 ms, so some op took that long however counted;
    // from the due times, the ops due during the stall waited too, so
    // more of them show it.
    assert!(uncorrected.max_ns >= 100_000_000);
    let slow = |encoded: &str| {
        let histogram = reports::histogram::decode(encoded).unwrap();
        histogram.count_between(50_000_000, u64::MAX)
    };
    let slow_corrected = slow(record.histogram.as_ref().unwrap());
    let slow_uncorrected = slow(open.uncorrected_histogram.as_ref().unwrap());
    assert!(
        slow_corrected > slow_uncorrected,
        "{slow_corrected} ops over 50 ms from due times vs {slow_uncorrected} from starts"
    );
    assert!(corrected.max_ns >= uncorrected.max_ns);
}
