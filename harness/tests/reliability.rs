//! Nothing lost, nothing silently wrong: what a run leaves behind when a
//! trial is abandoned, when two runs race for one folder, when it is
//! stopped by a signal or killed, and when a server misbehaves. Every test
//! runs the real binary; servers are on 127.0.0.1 and started here.

#[path = "cli/common/mod.rs"]
mod common;
#[path = "cli/four_tests_per_cpu.rs"]
mod four_tests_per_cpu;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::*;
use reports::schema::Status;

/// A plan whose first cell abandons a trial (limit `limit_s`) whose op
/// computes for `slow_ms`, followed by a clean cell.
fn abandon_then_primes(
    slow_ms: u32,
    limit_s: &str,
) -> (tempfile::TempDir, std::path::PathBuf, std::process::Output) {
    let workloads =
        format!("synthetic/faulty:mode=slow,slow_ms={slow_ms},at_op=0,cpu/primes:span=20");
    run_fresh(&[
        "--workloads",
        &workloads,
        "--models",
        "threads",
        "--workers",
        "1",
        "--trial-timeout-s",
        limit_s,
        "--keep-going",
    ])
}

#[test]
fn after_an_abandoned_trial_the_next_cell_starts_with_no_abandoned_thread_on_a_cpu() {
    // The slow op outlives the trial's limit (3 s + 2 s grace) but ends
    // within the supervisor's wait (as long again as the limit), then
    // stops between ops: the run stays clean.
    let (_dir, out, output) = abandon_then_primes(6_500, "3");
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let folder = read(&out);
    let faulty = records_of(&folder, "synthetic/faulty");
    assert_eq!(faulty[0].status, Status::Timeout, "{:?}", faulty[0].error);
    let primes = records_of(&folder, "cpu/primes");
    assert!(!primes.is_empty());
    for record in primes {
        assert_eq!(record.status, Status::Ok);
        assert!(record.notes.is_empty(), "{:?}", record.notes);
    }
    assert!(!stderr.contains("not clean"), "{stderr}");
}

#[test]
fn an_abandoned_thread_still_on_a_cpu_is_named_and_marks_every_later_record() {
    // This op computes for 20 s: still on a CPU when the wait (1 s + 2 s
    // grace + 1 s) ends.
    let (_dir, out, output) = abandon_then_primes(20_000, "1");
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    // The kernel keeps the first 15 characters of a thread's name.
    assert!(
        stderr.contains("corebench-threa (tid"),
        "the thread is named: {stderr}"
    );
    let folder = read(&out);
    for record in records_of(&folder, "cpu/primes") {
        assert!(
            record.notes.iter().any(|n| n.contains("not clean")),
            "{:?}",
            record.notes
        );
    }
}

#[test]
fn two_runs_never_share_a_folder_and_a_used_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("shared");
    let start = |out: &Path| {
        corebench()
            .args(["run", "--no-progress", "--no-calibration", "--trials", "1"])
            .args(["--on-disturbance", "flag"])
            .args(SMALL_PLAN)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap()
    };
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| start(&out));
        let b = scope.spawn(|| start(&out));
        (a.join().unwrap(), b.join().unwrap())
    });
    let codes = [a.status.code(), b.status.code()];
    assert!(
        codes.contains(&Some(0)) && codes.contains(&Some(2)),
        "{codes:?}"
    );
    let loser = if a.status.code() == Some(2) { &a } else { &b };
    let message = text(&loser.stderr);
    assert!(message.contains("shared"), "names the folder: {message}");
    let folder = read(&out);
    let runs: std::collections::BTreeSet<&str> =
        folder.records.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(runs.len(), 1, "{runs:?}");

    // A folder holding only host.json is not a new folder either.
    let half = dir.path().join("half");
    std::fs::create_dir(&half).unwrap();
    std::fs::write(half.join("host.json"), "{}").unwrap();
    let output = start(&half);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("host.json"));
    // An empty one is.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert!(start(&empty).status.success());
}

#[test]
fn compare_refuses_to_write_into_an_input() {
    let (_dir, out, output) = run_fresh(&SMALL_PLAN);
    assert!(output.status.success());
    let before = std::fs::read(out.join("records.jsonl")).unwrap();
    let dir = out.to_str().unwrap();
    for target in [
        format!("{dir}/records.jsonl"),
        dir.to_string(),
        format!("{dir}/report/x.csv"),
    ] {
        let output = corebench_with(&["compare", dir, dir, "--format", "csv", "--out", &target]);
        assert_eq!(output.status.code(), Some(2), "{target}");
        assert!(
            text(&output.stderr).contains("inside the input"),
            "{target}"
        );
    }
    assert_eq!(std::fs::read(out.join("records.jsonl")).unwrap(), before);
}

#[test]
fn target_credentials_are_used_but_never_saved() {
    let server = serve();
    let authority = server.url.trim_start_matches("http://");
    // User information, a query-string token and a fragment, under
    // every client.
    let target = format!("http://user:s3cret@{authority}/status/200?token=abc123#fragment");
    let (_dir, out, output) = run_fresh(&[
        "--workloads",
        "io/http",
        "--models",
        "threads,process,tokio",
        "--workers",
        "1",
        "--target",
        &target,
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let folder = read(&out);
    assert!(folder.records.iter().all(|r| r.status == Status::Ok));
    for entry in walk(&out) {
        let bytes = std::fs::read(&entry).unwrap();
        let content = String::from_utf8_lossy(&bytes);
        for secret in ["s3cret", "abc123"] {
            assert!(
                !content.contains(secret),
                "{} holds {secret}",
                entry.display()
            );
        }
    }
    for stream in [&output.stdout, &output.stderr] {
        assert!(!text(stream).contains("abc123"), "{}", text(stream));
    }
    let host = std::fs::read_to_string(out.join("host.json")).unwrap();
    assert!(host.contains("token=REDACTED"), "{host}");
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// Processes whose command line mentions `needle`, other than this test.
fn processes_mentioning(needle: &str) -> Vec<u32> {
    processes_where(|cmdline| cmdline.contains(needle))
}

/// A background run, killed if a test fails before it ends.
struct Background(Child);

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A long run of child processes writing scratch files, started in the
/// background.
fn long_process_run(out: &Path) -> Background {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_corebench"))
        .args(["run", "--no-progress", "--no-calibration", "--trials", "3"])
        .args([
            "--workloads",
            "io/file:block_bytes=4096,fsync=false,cpu/primes",
        ])
        .args(["--models", "process", "--workers", "2", "--ops", "2000000"])
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    Background(child)
}

/// Waits until `process_mentioning(needle)` finds children, or fails.
fn wait_for_children(needle: &str, parent: u32) -> Vec<u32> {
    let give_up = Instant::now() + Duration::from_secs(20);
    loop {
        let children: Vec<u32> = processes_mentioning(needle)
            .into_iter()
            .filter(|pid| *pid != parent)
            .collect();
        if !children.is_empty() {
            return children;
        }
        assert!(Instant::now() < give_up, "no child process ever started");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigint_and_sigterm_stop_the_run_kill_every_child_and_render_what_finished() {
    for (signal, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join(format!("stopped-{signal}"));
        let mut run = long_process_run(&out);
        let needle = out.to_str().unwrap().to_string();
        wait_for_children(&needle, run.0.id());
        // SAFETY: kill sends a signal to our own child.
        unsafe { libc::kill(run.0.id() as i32, signal) };
        let sent = Instant::now();
        let status = run.0.wait().unwrap();
        let mut stderr = String::new();
        run.0
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert!(sent.elapsed() < Duration::from_secs(10), "stopped promptly");
        assert_eq!(status.code(), Some(code), "{stderr}");
        assert!(
            stderr.contains("corebench report"),
            "how to re-render: {stderr}"
        );
        assert!(stderr.contains(&needle), "names the folder: {stderr}");
        assert!(processes_mentioning(&needle).is_empty(), "a child survived");
        let left: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with(".corebench-io"))
            .collect();
        assert!(left.is_empty(), "scratch folders left: {left:?}");
        assert!(out.join("report/index.html").exists());
        read(&out);
    }
}

#[test]
fn worker_children_die_with_a_parent_killed_by_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("killed");
    let mut run = long_process_run(&out);
    let needle = out.to_str().unwrap().to_string();
    let children = wait_for_children(&needle, run.0.id());
    run.0.kill().unwrap();
    run.0.wait().unwrap();
    let give_up = Instant::now() + Duration::from_secs(5);
    while children
        .iter()
        .any(|pid| Path::new(&format!("/proc/{pid}")).exists())
    {
        // A zombie reaped by init still has its folder for a moment.
        let alive = children.iter().any(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|stat| !stat.contains(") Z "))
        });
        if !alive {
            break;
        }
        assert!(Instant::now() < give_up, "children outlived their parent");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A loopback server answering every request with `reply(request_number)`
/// on a fresh thread per connection; with `close`, it closes each
/// connection after one answer.
fn tiny_server(reply: fn(&mut std::net::TcpStream) -> std::io::Result<()>, close: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                loop {
                    // Read one request head.
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    if reply(&mut stream).is_err() || close {
                        return;
                    }
                }
            });
        }
    });
    url
}

#[test]
fn the_async_client_reconnects_when_the_server_closes_every_connection() {
    let url = tiny_server(
        |s| s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"),
        true,
    );
    let (_dir, folder) = run_ok(&[
        "--workloads",
        "io/http",
        "--models",
        "threads,tokio,tokio-current",
        "--workers",
        "2",
        "--target",
        &url,
    ]);
    for record in &folder.records {
        assert_eq!(
            record.status,
            Status::Ok,
            "{}: {:?}",
            record.model,
            record.error
        );
        assert_eq!(record.ops, 200, "each op on a new connection");
    }
}

#[test]
fn an_endless_body_fails_the_cell_instead_of_filling_memory() {
    let url = tiny_server(
        |s| {
            s.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")?;
            let chunk = vec![b'x'; 1 << 20];
            loop {
                s.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())?;
                s.write_all(&chunk)?;
                s.write_all(b"\r\n")?;
            }
        },
        false,
    );
    let (_dir, out, output) = run_fresh(&[
        "--workloads",
        "io/http",
        "--models",
        "threads,tokio",
        "--workers",
        "1",
        "--target",
        &url,
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let folder = read(&out);
    for record in &folder.records {
        assert_eq!(record.status, Status::Failed, "{}", record.model);
        let error = record.error.as_deref().unwrap();
        assert!(error.contains("body"), "{}: {error}", record.model);
    }
}

#[test]
fn explicit_producers_and_consumers_at_one_worker_are_refused_with_the_reason() {
    let (_dir, folder) = run_ok(&[
        "--workloads",
        "comm/channel:producers=3,consumers=3",
        "--models",
        "threads",
        "--workers",
        "1",
    ]);
    let record = &folder.records[0];
    assert_eq!(record.status, Status::Unsupported);
    assert!(record.error.as_deref().unwrap().contains("need 6 workers"));
}

#[test]
fn a_closed_stdout_is_a_normal_end() {
    let (_dir, out, output) = run_fresh(&SMALL_PLAN);
    assert!(output.status.success());
    let dir = out.to_str().unwrap();
    for format in ["json", "csv", "md"] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_corebench"))
            .args(["compare", dir, dir, "--format", format])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // As `| head -c 10` does: read a little, then go away.
        let mut first = [0u8; 10];
        let _ = child.stdout.as_mut().unwrap().read(&mut first);
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{format}: {stderr}");
        assert!(!stderr.contains("panicked"), "{format}: {stderr}");
    }
}

#[test]
fn an_unusable_out_is_bad_input_for_run_report_and_compare() {
    let (_dir, out, output) = run_fresh(&SMALL_PLAN);
    assert!(output.status.success());
    let dir = out.to_str().unwrap();
    let nowhere = "/proc/corebench-cannot-write-here/report";
    for args in [
        vec!["report", dir, "--out", nowhere],
        vec!["compare", dir, dir, "--out", nowhere],
        vec!["compare", dir, dir, "--format", "csv", "--out", nowhere],
    ] {
        let output = corebench_with(&args);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("corebench-cannot-write-here"),
            "{args:?}: {stderr}"
        );
    }
}
