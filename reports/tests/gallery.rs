//! A gallery of curves with known answers: results folders the test
//! writes itself (the R `usl` package's datasets, Amdahl and USL curves,
//! knees with causes, a noisy curve), reported as a user would report
//! them, and read back from `report/fits.json`. Each asserts the chosen
//! law, the parameters within their intervals, the peak or knee and its
//! cause, and that no sentence of the reading contradicts a measured point
//! or slope.

mod common;

use common::curves::*;

#[test]
fn the_usl_packages_coef_curve_peaks_inside_the_data() {
    let ns = [1, 2, 4, 6, 8, 10];
    let xs = [1.0, 1.8868, 3.0769, 3.5294, 3.5398, 3.3557];
    let model = fits_of("coef", &host(10, 10, 1), &cells(&ns, &xs, 0.0));
    assert_eq!(model["law"], "usl", "{model}");
    let usl = &model["usl"];
    assert!((f(&usl["sigma"]["point"]) - 0.02).abs() < 0.001, "{usl}");
    assert!((f(&usl["kappa"]["point"]) - 0.02).abs() < 0.001, "{usl}");
    assert!((f(&model["peak_workers"]) - 7.0).abs() < 0.7, "{model}");
    assert_eq!(model["peak_between"], serde_json::json!([6, 8]));
    let reading = model["reading"].as_str().unwrap();
    assert!(
        reading.contains("throughput peaks between 6 and 8 workers"),
        "{reading}"
    );
    assert!(
        !reading.contains("at most"),
        "no rising projection: {reading}"
    );
}

#[test]
fn raytracer_is_amdahl_with_no_peak_as_r_finds() {
    let ns = [1, 4, 8, 12, 16, 20, 24, 28, 32, 48, 64];
    let xs = [
        20., 78., 130., 170., 190., 200., 210., 230., 260., 280., 310.,
    ];
    let model = fits_of("raytracer", &host(64, 64, 1), &cells(&ns, &xs, 0.0));
    let usl = &model["usl"];
    assert!((f(&usl["sigma"]["point"]) - 0.0578).abs() < 0.003, "{usl}");
    assert!(within(&usl["kappa"], 0.0), "{usl}");
    assert!((f(&usl["lambda"]["point"]) - 21.85).abs() < 0.5, "{usl}");
    assert_eq!(model["law"], "amdahl", "{model}");
    assert!(model["peak_workers"].is_null(), "{model}");
    // One ceiling, the chosen law's: about 18.9x.
    assert!((f(&model["ceiling"]) - 18.9).abs() < 0.3, "{model}");
    assert!(f(&model["criterion"]["p_value"]) >= 0.05);
    // Its bumps are noise, not a bend.
    assert!(model["knees"].as_array().unwrap().is_empty(), "{model}");
}

#[test]
fn amdahl_at_three_serial_fractions_is_chosen_and_recovered() {
    let ns = [1, 2, 4, 8, 16, 32, 64];
    for truth in [0.02, 0.1, 0.4] {
        let xs: Vec<f64> = ns
            .iter()
            .map(|&n| 1000.0 * amdahl(truth, f64::from(n)))
            .collect();
        let model = fits_of("amdahl", &host(64, 64, 1), &cells(&ns, &xs, 0.01));
        assert_eq!(model["law"], "amdahl", "f = {truth}: {model}");
        let sf = &model["amdahl"]["serial_fraction"];
        assert!(within(sf, truth), "f = {truth}: {sf}");
        assert!(
            (f(&model["ceiling"]) - 1.0 / truth).abs() / (1.0 / truth) < 0.05,
            "{model}"
        );
        assert!(model["peak_workers"].is_null());
        assert!(model["knees"].as_array().unwrap().is_empty(), "{model}");
    }
}

#[test]
fn a_usl_curve_that_peaks_inside_the_data_is_named_between_its_counts() {
    let ns = [1, 2, 4, 8, 16, 32, 48, 64];
    let xs: Vec<f64> = ns
        .iter()
        .map(|&n| 500.0 * usl(0.05, 0.001, f64::from(n)))
        .collect();
    let model = fits_of("usl-inside", &host(64, 64, 1), &cells(&ns, &xs, 0.005));
    assert_eq!(model["law"], "usl", "{model}");
    assert!(within(&model["usl"]["kappa"], 0.001), "{model}");
    let peak = f(&model["peak_workers"]);
    assert!((peak - (0.95f64 / 0.001).sqrt()).abs() < 3.0, "{model}");
    assert_eq!(model["peak_between"], serde_json::json!([16, 32]));
}

#[test]
fn a_usl_curve_that_peaks_just_beyond_the_data_is_a_projection() {
    let ns = [1, 2, 4, 8, 12, 16, 24, 32];
    let xs: Vec<f64> = ns
        .iter()
        .map(|&n| 500.0 * usl(0.02, 0.0004, f64::from(n)))
        .collect();
    let model = fits_of("usl-beyond", &host(32, 32, 1), &cells(&ns, &xs, 0.002));
    assert_eq!(model["law"], "usl", "{model}");
    let peak = f(&model["peak_workers"]);
    assert!((peak - (0.98f64 / 0.0004).sqrt()).abs() < 5.0, "{model}");
    assert!(model["peak_between"].is_null(), "beyond the data: {model}");
    let reading = model["reading"].as_str().unwrap();
    assert!(reading.contains("(a projection)"), "{reading}");
}

#[test]
fn an_smt_knee_is_named_at_the_physical_core_count() {
    // 32 physical cores, 64 logical: linear to 32, then SMT siblings add
    // a little each, and each op costs more CPU time.
    let smt = |inflation| Split { inflation, ..BUSY };
    let cells = shaped(&[
        (1, 1.0, BUSY),
        (2, 2.0, BUSY),
        (4, 3.98, BUSY),
        (8, 7.9, BUSY),
        (16, 15.7, BUSY),
        (32, 31.0, BUSY),
        (64, 38.0, smt(1.6)),
    ]);
    let model = fits_of("smt", &host(64, 32, 1), &cells);
    let knee = &model["knees"][0];
    assert_eq!(knee["cause"], "smt", "{model}");
    assert_eq!(knee["workers"], 32);
    assert!(model["reading"].as_str().unwrap().contains("SMT siblings"));
}

#[test]
fn a_plateau_with_rising_cpu_time_per_op_points_at_shared_hardware() {
    let bound = |inflation| Split { inflation, ..BUSY };
    let cells = shaped(&[
        (1, 1.0, BUSY),
        (2, 1.98, bound(1.01)),
        (4, 3.9, bound(1.02)),
        (8, 7.6, bound(1.05)),
        (16, 9.0, bound(1.7)),
        (32, 9.3, bound(3.3)),
    ]);
    let model = fits_of("bandwidth", &host(64, 64, 1), &cells);
    let knee = &model["knees"][0];
    assert_eq!(knee["cause"], "shared_hardware", "{model}");
    assert_eq!(knee["workers"], 8);
    assert!(knee["text"].as_str().unwrap().contains("memory bandwidth"));
}

#[test]
fn a_lock_bound_curve_names_the_blocked_share() {
    let locked = |blocked| Split { blocked, ..BUSY };
    let cells = shaped(&[
        (1, 1.0, BUSY),
        (2, 1.9, locked(0.05)),
        (4, 3.5, locked(0.1)),
        (8, 4.2, locked(0.45)),
        (16, 4.4, locked(0.7)),
    ]);
    let model = fits_of("lock", &host(64, 64, 1), &cells);
    let knee = &model["knees"][0];
    assert_eq!(knee["cause"], "blocked", "{model}");
    assert!(knee["text"]
        .as_str()
        .unwrap()
        .contains("locks and barriers"));
}

#[test]
fn an_oversubscribed_curve_names_the_run_queue_past_the_cores() {
    let queued = |runqueue| Split { runqueue, ..BUSY };
    let cells = shaped(&[
        (1, 1.0, BUSY),
        (2, 2.0, BUSY),
        (4, 3.96, BUSY),
        (8, 7.8, queued(0.01)),
        (16, 8.1, queued(0.48)),
        (32, 8.0, queued(0.74)),
    ]);
    let model = fits_of("oversubscribed", &host(8, 8, 1), &cells);
    let knee = &model["knees"][0];
    assert_eq!(knee["cause"], "oversubscribed", "{model}");
    assert!(knee["text"]
        .as_str()
        .unwrap()
        .starts_with("the slope falls after 8 workers"));
    assert!(knee["text"].as_str().unwrap().contains("past the 8 cores"));
}

#[test]
fn a_knee_without_evidence_is_not_given_a_cause() {
    let cells = shaped(&[
        (1, 1.0, BUSY),
        (2, 2.0, BUSY),
        (4, 3.9, BUSY),
        (8, 4.5, BUSY),
        (16, 4.8, BUSY),
    ]);
    let model = fits_of("unknown", &host(64, 64, 1), &cells);
    assert_eq!(model["knees"][0]["cause"], "unknown", "{model}");
    let mixed = shaped(&[
        (1, 1.0, BUSY),
        (2, 2.0, BUSY),
        (4, 3.9, BUSY),
        (
            8,
            4.5,
            Split {
                runqueue: 0.2,
                blocked: 0.3,
                inflation: 1.0,
            },
        ),
        (
            16,
            4.8,
            Split {
                runqueue: 0.3,
                blocked: 0.4,
                inflation: 1.0,
            },
        ),
    ]);
    let model = fits_of("mixed", &host(64, 64, 1), &mixed);
    assert_eq!(model["knees"][0]["cause"], "mixed", "{model}");
}

#[test]
fn a_noisy_curve_keeps_the_simpler_law() {
    // Amdahl f = 0.05 with +-4% noise on the medians: no coherency term
    // is told apart from the noise.
    let ns = [1, 2, 4, 8, 16, 24, 32];
    let noise = [1.0, 1.04, 0.97, 1.03, 0.96, 1.04, 0.98];
    let xs: Vec<f64> = ns
        .iter()
        .zip(noise)
        .map(|(&n, e)| 1000.0 * amdahl(0.05, f64::from(n)) * e)
        .collect();
    let model = fits_of("noisy", &host(32, 32, 1), &cells(&ns, &xs, 0.02));
    assert_eq!(model["law"], "amdahl", "{model}");
    assert!(f(&model["criterion"]["p_value"]) >= 0.05, "{model}");
    assert!(within(&model["usl"]["kappa"], 0.0), "{model}");
    assert!(model["peak_workers"].is_null());
    // Nor is its noise a knee.
    assert!(model["knees"].as_array().unwrap().is_empty(), "{model}");
}

#[test]
fn the_summary_never_crowns_a_model_that_copied_the_shared_state() {
    // A map shared by every thread, and under process one map per child:
    // process "scales" because it does different work.
    let threads = shaped(&[(1, 1.0, BUSY), (2, 1.3, BUSY)]);
    let process = shaped(&[(1, 1.0, BUSY), (2, 1.9, BUSY)]);
    let curves = [
        Curve {
            model: "threads",
            cells: &threads,
            own_processes: false,
        },
        Curve {
            model: "process",
            cells: &process,
            own_processes: true,
        },
    ];
    let summary = summary_of("shared", &host(2, 2, 1), &curves, true);
    let line = &summary["summary"]["workloads"][0];
    for best in line["best"].as_array().unwrap() {
        assert_eq!(best["model"], "threads", "{line}");
    }
    assert_eq!(line["left_out_models"], serde_json::json!(["process"]));
    let process = &summary["fits"][0]["models"][1];
    assert!(
        process["reading"]
            .as_str()
            .unwrap()
            .starts_with("not the same program"),
        "{process}"
    );
    // The same curves of a workload that shares nothing: process wins.
    let summary = summary_of("unshared", &host(2, 2, 1), &curves, false);
    let best = &summary["summary"]["workloads"][0]["best"][1];
    assert_eq!(best["model"], "process", "{summary}");
}

#[test]
fn the_summary_names_no_winner_among_ties_and_says_when_nothing_scales() {
    // Two models within each other's noise at every count, neither faster
    // with two workers than with one.
    let a = shaped(&[
        (1, 1.0, BUSY),
        (
            2,
            0.6,
            Split {
                blocked: 0.5,
                ..BUSY
            },
        ),
    ]);
    let b = shaped(&[
        (1, 1.001, BUSY),
        (
            2,
            0.601,
            Split {
                blocked: 0.5,
                ..BUSY
            },
        ),
    ]);
    let curves = [
        Curve {
            model: "threads",
            cells: &a,
            own_processes: false,
        },
        Curve {
            model: "rayon",
            cells: &b,
            own_processes: false,
        },
    ];
    let summary = summary_of("flat", &host(2, 2, 1), &curves, false);
    let line = &summary["summary"]["workloads"][0];
    assert_eq!(line["gets_faster"], false, "{line}");
    for best in line["best"].as_array().unwrap() {
        assert!(!best["ties"].as_array().unwrap().is_empty(), "{line}");
    }
    // The page's line says both, in words.
    let page = summary["report"].as_str().unwrap();
    assert!(page.contains("1 worker: all models within noise"), "{page}");
    assert!(page.contains("This does not get faster with workers here."));
    // And why, from the breakdown: the workers were blocked.
    let reason = line["reason"].as_str().unwrap();
    assert!(reason.contains("is workers blocked"), "{reason}");
}

#[test]
fn a_model_slower_than_seq_at_one_worker_is_told_its_own_cost() {
    let seq = shaped(&[(1, 1.0, BUSY)]);
    let pool = shaped(&[(1, 0.9, BUSY), (2, 1.8, BUSY)]);
    let threads = shaped(&[(1, 0.999, BUSY), (2, 1.99, BUSY)]);
    let curves = [
        Curve {
            model: "seq",
            cells: &seq,
            own_processes: false,
        },
        Curve {
            model: "pool",
            cells: &pool,
            own_processes: false,
        },
        Curve {
            model: "threads",
            cells: &threads,
            own_processes: false,
        },
    ];
    let dir = tempfile::tempdir().unwrap();
    write_curves(dir.path(), &host(2, 2, 1), &curves, false);
    let mut series = common::models();
    for known in &mut series.0 {
        known.own_cost = format!("what {} costs", known.name);
    }
    let folder = reports::folder::ResultsFolder::open(dir.path()).unwrap();
    let written =
        reports::report::write_report(&folder, &dir.path().join("report"), &series).unwrap();
    let fits = &written.context.sections[0].fits;
    let vs_seq = |model: &str| &fits.iter().find(|f| f.model == model).unwrap().vs_seq;
    assert!(
        vs_seq("pool").ends_with("; its own cost: what pool costs"),
        "{}",
        vs_seq("pool")
    );
    // Within seq's noise: no cost to explain.
    assert!(
        !vs_seq("threads").contains("own cost"),
        "{}",
        vs_seq("threads")
    );
}
