//! The analysis on synthetic records with known answers.

use super::*;

fn host(logical_cores: u32) -> Host {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/v1");
    let mut host = crate::folder::ResultsFolder::open(&folder).unwrap().host;
    host.logical_cores = logical_cores;
    host.available_cores = (0..logical_cores).collect();
    host
}

/// Trials of an exact Amdahl curve with f = 0.1 on a 64-core host,
/// with +-1% spread between the three trials of each cell.
fn amdahl_records(ns: &[u32]) -> Vec<Record> {
    let mut records = Vec::new();
    for &n in ns {
        let wall = 1e9 * (0.1 + 0.9 / f64::from(n));
        for spread in [0.99, 1.0, 1.01] {
            records.push(crate::schema::test_record(
                "threads",
                n,
                (wall * spread) as u64,
                "strong",
                Status::Ok,
            ));
        }
    }
    records
}

#[test]
fn a_big_machine_gets_amdahl_with_an_interval_and_the_usl() {
    let analysis = analyse(
        &host(64),
        &amdahl_records(&[1, 2, 4, 8, 16, 32, 64]),
        &crate::series::tests::known(),
    );
    let curve = &analysis.sections[0].models[0];
    let amdahl = curve.amdahl.fit.unwrap();
    assert!(
        (amdahl.serial_fraction.point - 0.1).abs() < 0.005,
        "{amdahl:?}"
    );
    assert!(amdahl.serial_fraction.low <= 0.1 && 0.1 <= amdahl.serial_fraction.high);
    assert_eq!(amdahl.fit.points, 7);
    let usl = curve.usl.fit.expect("seven worker counts fit the USL");
    // Amdahl is the USL with kappa = 0 and sigma = f.
    assert!((usl.sigma - 0.1).abs() < 0.01, "{usl:?}");
    assert!(usl.kappa < 1e-4, "{usl:?}");
    assert!(
        curve.reading.contains("serial fraction 0.10"),
        "{}",
        curve.reading
    );
    let e4 = curve
        .points
        .iter()
        .find(|p| p.n == 4)
        .unwrap()
        .karp_flatt
        .unwrap();
    assert!(
        (e4 - 0.1).abs() < 0.01,
        "Karp-Flatt of pure Amdahl is f: {e4}"
    );
}

#[test]
fn fits_leave_out_oversubscribed_counts_and_say_so() {
    let analysis = analyse(
        &host(2),
        &amdahl_records(&[1, 2, 4, 8]),
        &crate::series::tests::known(),
    );
    let curve = &analysis.sections[0].models[0];
    assert_eq!(curve.amdahl.fit.unwrap().fit.points, 2);
    assert!(curve.usl.reason.as_deref().unwrap().contains("this has 2"));
    assert!(curve
        .reading
        .contains("2 oversubscribed counts are shown but not fitted"));
    assert_eq!(curve.points.len(), 4, "all points are still drawn");
}

#[test]
fn a_failed_cell_and_a_single_point_are_skipped_with_reasons() {
    let mut records = amdahl_records(&[1]);
    records.push(crate::schema::test_record(
        "threads",
        2,
        1,
        "strong",
        Status::Failed,
    ));
    let analysis = analyse(&host(64), &records, &crate::series::tests::known());
    let curve = &analysis.sections[0].models[0];
    assert!(curve
        .amdahl
        .reason
        .as_deref()
        .unwrap()
        .contains("single worker count"));
    let failed = analysis.sections[0]
        .rows
        .iter()
        .find(|r| r.workers == 2)
        .unwrap();
    assert_eq!(failed.status, Status::Failed);
    assert_eq!(failed.trials_ok, 0);
}

#[test]
fn ops_near_the_dispatch_floor_are_flagged() {
    let with = |p50_ns: u64, floor_ns: f64| {
        let mut record = crate::schema::test_record("pool", 1, 1_000_000, "strong", Status::Ok);
        record.latency = Some(crate::schema::LatencySummary {
            min_ns: p50_ns,
            p50_ns,
            p90_ns: p50_ns,
            p99_ns: p50_ns,
            p99_9_ns: p50_ns,
            max_ns: p50_ns,
            mean_ns: p50_ns as f64,
        });
        record.model_overhead.dispatch_floor_ns = Some(floor_ns);
        analyse(&host(2), &[record], &crate::series::tests::known()).sections[0].rows[0].clone()
    };
    let short = with(2_000, 500.0);
    assert!(short.measures_executor);
    assert_eq!(short.floor_ratio, Some(4.0));
    assert!(!with(50_000, 500.0).measures_executor);
}

/// Two-worker trials with a known split of the threads' time.
fn split_records(model: &str, threads: u32, wall_2_ns: u64, blocked: f64) -> Vec<Record> {
    let mut records = Vec::new();
    for (n, wall) in [(1, 1_000_000_000), (2, wall_2_ns)] {
        for _ in 0..3 {
            let mut r = crate::schema::test_record(model, n, wall, "strong", Status::Ok);
            r.breakdown = Some(crate::schema::Breakdown {
                threads: threads.min(n),
                on_cpu_fraction: 1.0 - blocked,
                user_fraction: 1.0 - blocked,
                blocked_fraction: blocked,
                ..Default::default()
            });
            records.push(r);
        }
    }
    records
}

#[test]
fn the_lost_speedup_is_attributed_to_what_the_threads_did() {
    // Threads at 1.5x of 2x, a quarter of their time blocked: 0.50x.
    let analysis = analyse(
        &host(2),
        &split_records("threads", 2, 666_666_667, 0.25),
        &crate::series::tests::known(),
    );
    let reading = &analysis.sections[0].models[0].reading;
    assert!(
        reading.contains("of the lost 0.50x, 0.50x is workers blocked and 0.00x waiting"),
        "{reading}"
    );
    assert!(!reading.contains("sharing"), "{reading}");

    // Two tasks on one runtime thread that is always on a CPU: the
    // whole lost 1.00x is the sharing, none of it blocked.
    let analysis = analyse(
        &host(2),
        &split_records("tokio-current", 1, 1_000_000_000, 0.0),
        &crate::series::tests::known(),
    );
    let reading = &analysis.sections[0].models[0].reading;
    assert!(
        reading.contains(
            "of the lost 1.00x, 0.00x is workers blocked and 0.00x waiting for a CPU, and 1.00x is 2 tasks sharing 1 runtime thread"
        ),
        "{reading}"
    );
}

#[test]
fn the_reading_names_the_top_wait_site_and_a_blocking_call_in_a_task() {
    use crate::schema::{WaitPrimitive, WaitSite, WallProfile};
    let site = |in_async_task: bool| WaitSite {
        primitive: WaitPrimitive::Barrier,
        function: "std::sync::barrier::Barrier::wait".into(),
        caller: Some("workloads::synthetic::amdahl::run_op".into()),
        in_async_task,
        samples: 80,
        share_of_blocked: 0.8,
        share_of_time: 0.2,
    };
    let profiled = |model: &str, in_task: bool| {
        let mut records = split_records(model, 2, 666_666_667, 0.25);
        for record in records.iter_mut().filter(|r| r.workers == 2) {
            record.wall_profile = Some(WallProfile {
                asked_hz: 100,
                samples: 400,
                on_cpu_fraction: 0.75,
                runqueue_fraction: 0.0,
                blocked_fraction: 0.25,
                blocked_in_tasks_fraction: in_task.then_some(0.2),
            });
            record.wait_sites = vec![site(in_task)];
        }
        records
    };
    // A quarter of the time blocked, 80% of that at the barrier: 0.40x of
    // the lost 0.50x.
    let analysis = analyse(
        &host(2),
        &profiled("threads", false),
        &crate::series::tests::known(),
    );
    let reading = &analysis.sections[0].models[0].reading;
    assert!(
        reading.contains(
            "of the lost 0.50x, 0.50x is workers blocked, 0.40x of it in Barrier::wait called from synthetic::amdahl::run_op and 0.00x waiting"
        ),
        "{reading}"
    );
    let analysis = analyse(
        &host(2),
        &profiled("tokio", true),
        &crate::series::tests::known(),
    );
    let reading = &analysis.sections[0].models[0].reading;
    assert!(
        reading.contains("tokio's runtime threads were blocked inside tasks 20% of their time at 2 workers, in Barrier::wait called from synthetic::amdahl::run_op: a blocking call on an executor thread"),
        "{reading}"
    );
}

#[test]
fn a_cgroup_quota_below_the_mask_sets_the_core_count() {
    let mut h = host(64);
    assert_eq!(usable_cores(&h), 64);
    h.cgroup_cpu_quota_cores = Some(2);
    assert_eq!(usable_cores(&h), 2);
    h.cgroup_cpu_quota_cores = Some(128);
    assert_eq!(usable_cores(&h), 64);
}

#[test]
fn work_inflation_comes_from_the_cells_own_records_whatever_their_order() {
    // One worker takes 1000 ns of CPU per op (medians of 900, 1000, 1100);
    // two workers take 1500 ns: each op costs 1.5x what it costs alone.
    let mut records = Vec::new();
    for (n, per_op) in [(1, [900.0, 1000.0, 1100.0]), (2, [1400.0, 1500.0, 1600.0])] {
        for on_cpu_ns_per_op in per_op {
            let mut r =
                crate::schema::test_record("threads", n, 1_000_000_000, "strong", Status::Ok);
            r.breakdown = Some(crate::schema::Breakdown {
                threads: n,
                on_cpu_fraction: 1.0,
                user_fraction: 1.0,
                on_cpu_ns_per_op,
                // What an older harness stored from whatever trials ran
                // before: never read.
                work_inflation: Some(9.0),
                ..Default::default()
            });
            records.push(r);
        }
    }
    let inflation_of = |records: &[Record]| {
        let analysis = analyse(&host(2), records, &crate::series::tests::known());
        let splits = &analysis.sections[0].models[0].time_split;
        (splits[0].work_inflation, splits[1].work_inflation)
    };
    assert_eq!(inflation_of(&records), (None, Some(1.5)));
    // Any trial order (any --seed) reads the same.
    let mut rng = fastrand::Rng::with_seed(3);
    for _ in 0..5 {
        rng.shuffle(&mut records);
        assert_eq!(inflation_of(&records), (None, Some(1.5)));
    }
}

#[test]
fn a_cells_row_holds_its_medians_and_its_speedups_with_intervals() {
    let record = |model: &str, workers, wall_ns, status| {
        crate::schema::test_record(model, workers, wall_ns, "strong", status)
    };
    let records = vec![
        record("seq", 1, 1000, Status::Ok),
        record("threads", 1, 1100, Status::Ok),
        record("threads", 1, 1000, Status::Ok),
        record("threads", 1, 9000, Status::Ok),
        record("threads", 4, 400, Status::Ok),
        record("threads", 4, 250, Status::Ok),
        record("threads", 4, 50, Status::Failed),
    ];
    let analysis = analyse(&host(4), &records, &crate::series::tests::known());
    let four = analysis.sections[0]
        .rows
        .iter()
        .find(|r| r.model == "threads" && r.workers == 4)
        .unwrap();
    // T(4) = median(250, 400) = 325; the failed trial is not timed.
    assert_eq!(four.wall_ns.unwrap().point, 325.0);
    assert_eq!(
        four.speedup,
        crate::stats::ratio_interval(&[1000.0, 1100.0, 9000.0], &[250.0, 400.0])
    );
    assert_eq!(
        four.speedup_vs_seq,
        crate::stats::ratio_interval(&[1000.0], &[250.0, 400.0])
    );
    assert_eq!(four.status, Status::Failed);
    assert_eq!((four.trials, four.trials_ok), (3, 2));
    assert_eq!(four.cpu_utilisation, Some(0.5));
    assert_eq!(
        four.throughput_range_ops_s().map(|(l, h)| l < h),
        Some(true)
    );
}

#[test]
fn weak_scaling_rows_hold_the_scaled_speedup() {
    let records = vec![
        crate::schema::test_record("threads", 1, 1000, "weak", Status::Ok),
        crate::schema::test_record("threads", 8, 1250, "weak", Status::Ok),
    ];
    let analysis = analyse(&host(8), &records, &crate::series::tests::known());
    let eight = &analysis.sections[0].rows[1];
    assert!((eight.speedup.unwrap().point - 8.0 * 1000.0 / 1250.0).abs() < 1e-9);
    assert_eq!(eight.speedup_vs_seq, None);
}
