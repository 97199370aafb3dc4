//! Where blocked workers wait, with known answers: the real binary with
//! `--wall-profile`, each cell's top wait site checked by its primitive,
//! the function waited in and the workload frame that called it, and its
//! share of the workers' time against the kernel's own blocked share (the
//! breakdown). One test, its runs one after another: runs side by side
//! would wait for each other's CPUs.

#[path = "cli/common/mod.rs"]
mod common;

use common::*;
use reports::schema::WaitPrimitive::{Barrier, Channel, IoRead, Mutex, Sleep};
use reports::schema::{Record, Status, WaitPrimitive};

/// Runs `workloads` under `models` at 2 workers with the wall-clock
/// profile on (and `more` arguments); returns the results folder (removed
/// when dropped) and its ok records.
fn profiled(workloads: &str, models: &str, more: &[&str]) -> (tempfile::TempDir, Vec<Record>) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let output = corebench()
        .args(["run", "--no-progress", "--no-calibration", "--trials", "2"])
        .args(["--on-disturbance", "flag", "--wall-profile"])
        .args(["--wall-profile-hz", "200", "--workers", "2", "--out"])
        .arg(&out)
        .args(["--workloads", workloads, "--models", models])
        .args(more)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let records = read(&out)
        .records
        .into_iter()
        .filter(|r| r.status == Status::Ok)
        .collect();
    (dir, records)
}

/// What a cell's top wait site must be: the workload (a prefix of its
/// spec), the model, the primitive, a part of the function waited in and
/// a part of the calling frame (under `workloads::`). Its share of all samples must be within
/// 0.1 of the breakdown's blocked share.
type Expected = (
    &'static str,
    &'static str,
    WaitPrimitive,
    &'static str,
    &'static str,
);

/// Checks `expected` against the cell's trials, pooled: the top site's
/// samples over all samples, against the trials' mean blocked share.
fn check(records: &[Record], expected: &Expected) {
    let &(workload, model, primitive, function, caller) = expected;
    let cell: Vec<&Record> = records
        .iter()
        .filter(|r| r.workload.spec.starts_with(workload) && r.model == model)
        .collect();
    let label = format!("{workload} under {model}");
    assert!(!cell.is_empty(), "{label}: no ok trial");
    let mut site_samples = 0;
    let mut blocked_samples = 0.0;
    let mut all_samples = 0;
    let mut breakdown_blocked = 0.0;
    for record in &cell {
        let profile = record.wall_profile.as_ref().expect("a wall profile");
        let top = record
            .wait_sites
            .first()
            .unwrap_or_else(|| panic!("{label}: no wait site: {profile:?}"));
        assert_eq!(top.primitive, primitive, "{label}: {top:?}");
        assert!(top.function.contains(function), "{label}: {top:?}");
        let called_from = top.caller.as_deref().unwrap_or_default();
        assert!(
            called_from.contains(&format!("workloads::{caller}")),
            "{label}: {top:?}"
        );
        site_samples += top.samples;
        all_samples += profile.samples;
        blocked_samples += profile.blocked_fraction * profile.samples as f64;
        breakdown_blocked += record
            .breakdown
            .as_ref()
            .expect("a breakdown")
            .blocked_fraction;
    }
    let site_share = site_samples as f64 / all_samples as f64;
    let breakdown_blocked = breakdown_blocked / cell.len() as f64;
    assert!(
        (site_share - breakdown_blocked).abs() <= 0.1,
        "{label}: the top site holds {site_share:.2} of the samples, the breakdown says {breakdown_blocked:.2} blocked"
    );
    // At least 80% of the blocked samples are at the one site.
    assert!(
        site_samples as f64 >= 0.8 * blocked_samples,
        "{label}: the top site holds {site_samples} of {blocked_samples} blocked samples"
    );
}

#[test]
fn blocked_workers_are_found_where_they_wait() {
    measured_again_on_a_miss(known_answers);
}

fn known_answers() {
    // Calibrated trials of about a quarter second each.
    let (dir, records) = profiled(
        "synthetic/amdahl:serial_fraction=0.5,io/sleep:ms=2,io/http",
        "threads,process",
        &[],
    );
    // The page draws each profiled cell's blocked samples and lists its
    // wait sites.
    let report = dir.path().join("results/report");
    let page = std::fs::read_to_string(report.join("index.html")).unwrap();
    assert!(page.contains("Where blocked workers wait"));
    let offcpu: Vec<_> = std::fs::read_dir(report.join("flame"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".offcpu.svg"))
        .collect();
    let amdahl = offcpu
        .iter()
        .find(|name| name.contains("amdahl") && name.contains("-threads-2w-"))
        .unwrap_or_else(|| panic!("no off-CPU flamegraph of amdahl: {offcpu:?}"));
    assert!(page.contains(&format!("flame&#x2f;{amdahl}\">off-CPU</a>")));
    let svg = std::fs::read_to_string(report.join("flame").join(amdahl)).unwrap();
    assert!(svg.contains("Barrier::wait"), "the barrier is drawn");
    // A comparison shows the top site's share beside the breakdown.
    let results = dir.path().join("results");
    let compared = dir.path().join("compared");
    let output = corebench()
        .arg("compare")
        .args([&results, &results])
        .arg("--out")
        .arg(&compared)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let page = std::fs::read_to_string(compared.join("index.html")).unwrap();
    assert!(
        page.contains("in Barrier::wait called from synthetic::amdahl::run_op"),
        "the comparison names no wait site"
    );
    for expected in [
        // serial_fraction 0.5: worker 1 sleeps in the barrier through the
        // serial half, a third of the pair's time.
        (
            "synthetic/amdahl",
            "threads",
            Barrier,
            "Barrier::wait",
            "synthetic::amdahl",
        ),
        // Process children sample themselves and send their stacks back.
        ("io/sleep", "process", Sleep, "sleep", "io::sleep"),
        ("io/sleep", "threads", Sleep, "sleep", "io::sleep"),
        // Waiting for the loopback server's answer: a socket read, under
        // the HTTP client the workload calls.
        ("io/http", "threads", IoRead, "ureq", "io::client"),
    ] {
        check(&records, &expected);
    }

    // Blocked episodes of about 1.75 ms: a sample sees a thread's state at
    // one instant, and on this VM waking a thread takes tens of
    // microseconds the kernel counts as neither on a CPU nor queued, so
    // the shares agree only when waits are long against that.
    let (_dir, records) = profiled("sync/counter:impl=std-mutex,cs_steps=1000000,comm/channel:impl=crossbeam,producers=1,consumers=1,consume_steps=1000000", "threads", &["--ops", "150"]);
    for expected in [
        ("sync/counter", "threads", Mutex, "mutex", "sync::counter"),
        // The slow consumer fills the channel: the producer waits in send.
        ("comm/channel", "threads", Channel, "send", "comm"),
    ] {
        check(&records, &expected);
    }

    // A blocking sleep inside an async op blocks the runtime thread, and
    // is flagged as such; the timer's sleep is the runtime parking.
    let (_dir, records) = profiled("io/sleep:ms=2,blocking=true,io/sleep:ms=2", "tokio", &[]);
    for record in &records {
        let profile = record.wall_profile.as_ref().expect("a wall profile");
        let top = record.wait_sites.first().expect("a wait site");
        let in_tasks = profile.blocked_in_tasks_fraction.expect("an async model");
        if record.workload.spec.contains("blocking=true") {
            assert!(top.in_async_task, "{top:?}");
            assert_eq!(top.primitive, WaitPrimitive::Sleep, "{top:?}");
            assert!(in_tasks > 0.8, "{profile:?}");
        } else {
            assert!(!top.in_async_task, "{top:?}");
            assert_eq!(top.primitive, WaitPrimitive::Park, "{top:?}");
            assert!(in_tasks < 0.1, "{profile:?}");
        }
    }
}
