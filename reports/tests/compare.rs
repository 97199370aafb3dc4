//! Change detection on the checked-in sample folder against edited copies
//! of itself: cells made 20% slower must be flagged, exactly those, and
//! noise within the threshold must flag nothing.

mod common;

use std::path::Path;

use reports::compare::{compare, configurations, Change, CompareOptions};
use reports::folder::ResultsFolder;
use reports::schema::Status;

fn sample() -> ResultsFolder {
    ResultsFolder::open(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sample")).unwrap()
}

fn options() -> CompareOptions {
    CompareOptions {
        baseline: 0,
        noise: 0.02,
        series: common::models(),
    }
}

/// (model, workers) of every cell marked with `change`.
fn marked(comparison: &reports::compare::Comparison, change: Change) -> Vec<(String, String, u32)> {
    let mut out = Vec::new();
    for group in &comparison.groups {
        for model in &group.models {
            for row in &model.rows {
                if row.cells[1].change == Some(change) {
                    out.push((
                        group.workload_spec.clone(),
                        model.model.clone(),
                        row.workers,
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn cells_made_20_percent_slower_are_flagged_and_nothing_else() {
    let base = sample();
    let mut slower = sample();
    let targets = [("threads", 2u32), ("rayon", 4u32)];
    for record in &mut slower.records {
        let hit = record.workload.id == "synthetic/amdahl"
            && targets.contains(&(record.model.as_str(), record.workers));
        if hit {
            record.throughput_ops_s *= 0.8;
            record.wall_ns = (record.wall_ns as f64 * 1.25) as u64;
        }
    }
    let comparison = compare(configurations(vec![base, slower]), options());
    let slow = marked(&comparison, Change::Slower);
    let expected: Vec<(String, String, u32)> = targets
        .iter()
        .map(|(m, n)| {
            (
                "synthetic/amdahl:round_steps=1000000,serial_fraction=0.25".to_string(),
                m.to_string(),
                *n,
            )
        })
        .collect();
    let mut slow_sorted = slow.clone();
    slow_sorted.sort();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(slow_sorted, expected_sorted);
    assert!(marked(&comparison, Change::Faster).is_empty());
    assert_eq!(comparison.regressions().len(), 2);
}

#[test]
fn identical_data_with_noise_flags_nothing() {
    let base = sample();
    let mut noisy = sample();
    let mut rng = fastrand::Rng::with_seed(7);
    for record in &mut noisy.records {
        // +-1% per trial, well inside the 2% threshold.
        record.throughput_ops_s *= 1.0 + 0.01 * (2.0 * rng.f64() - 1.0);
    }
    let comparison = compare(configurations(vec![base, noisy]), options());
    assert!(marked(&comparison, Change::Faster).is_empty());
    assert!(marked(&comparison, Change::Slower).is_empty());
    assert!(!marked(&comparison, Change::Unchanged).is_empty());
}

#[test]
fn a_folder_compared_with_itself_is_unchanged_everywhere() {
    let comparison = compare(configurations(vec![sample(), sample()]), options());
    assert_eq!(
        comparison.configs[1].name,
        format!("{} #2", comparison.configs[0].name)
    );
    for group in &comparison.groups {
        for model in &group.models {
            for row in &model.rows {
                let cell = &row.cells[1];
                assert!(cell.present);
                if cell.throughput_ops_s.is_some() {
                    assert_eq!(cell.change, Some(Change::Unchanged));
                    assert!((cell.ratio.unwrap().point - 1.0).abs() < 1e-12);
                }
            }
        }
    }
}

#[test]
fn cells_missing_from_a_configuration_are_shown_as_missing() {
    let base = sample();
    let mut fewer = sample();
    fewer
        .records
        .retain(|r| !(r.model == "rayon" && r.workers == 8));
    let comparison = compare(configurations(vec![base, fewer]), options());
    let amdahl = comparison
        .groups
        .iter()
        .find(|g| g.workload_spec.starts_with("synthetic/amdahl"))
        .unwrap();
    let rayon = amdahl.models.iter().find(|m| m.model == "rayon").unwrap();
    let row = rayon.rows.iter().find(|r| r.workers == 8).unwrap();
    assert!(row.cells[0].present);
    assert!(!row.cells[1].present);
    assert_eq!(row.cells[1].change, None);
    // Unsupported cells stay visible with their status.
    let process = amdahl.models.iter().find(|m| m.model == "process").unwrap();
    assert_eq!(process.rows[0].cells[1].status, Some(Status::Unsupported));
}

#[test]
fn the_page_and_exports_render() {
    let mut other = sample();
    other.host.label = Some("other <i>machine</i>".into());
    let comparison = compare(configurations(vec![sample(), other]), options());
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("compare-report");
    let _ = std::fs::remove_dir_all(&out);
    let index = reports::compare::page::write_compare_report(&comparison, &out).unwrap();
    let html = std::fs::read_to_string(index).unwrap();
    assert!(html.contains("other &lt;i&gt;machine&lt;&#x2f;i&gt;"));
    assert!(!html.contains("<i>machine"));
    assert!(html.contains("unchanged"));
    let charts = common::svg_count(&out);
    assert!(charts >= 6, "{charts} charts");

    let markdown = reports::export::markdown::compare_markdown(&comparison);
    assert!(markdown.contains("| workers |"));
    let csv = reports::export::csv::compare_csv(&comparison).unwrap();
    assert!(csv.starts_with("workload,scaling,load,model,workers,configuration"));
    let bmf = reports::export::bencher::compare_bmf(&comparison);
    let object = bmf.as_object().unwrap();
    let (name, measures) = object.iter().next().unwrap();
    assert!(
        name.contains("/threads/")
            || name.contains("/seq/")
            || name.contains("/process/")
            || name.contains("/rayon/"),
        "{name}"
    );
    let throughput = &measures["throughput"];
    assert!(throughput["value"].as_f64().unwrap() > 0.0);
    assert!(throughput["lower_value"].as_f64().unwrap() <= throughput["value"].as_f64().unwrap());
}

#[test]
fn configuration_names_are_stable_and_distinct_and_carry_no_date() {
    let mut unlabelled = sample();
    unlabelled.host.label = None;
    let names = || -> Vec<String> {
        configurations(vec![unlabelled.clone(), unlabelled.clone()])
            .into_iter()
            .map(|c| c.name)
            .collect()
    };
    let first = names();
    assert_eq!(first, names(), "the same folders, the same names");
    assert_eq!(first[0], unlabelled.host.hostname);
    assert_ne!(first[0], first[1]);
    assert!(!first[0].contains(&unlabelled.host.captured_at[..10]));
}

#[test]
fn the_markdown_export_never_passes_a_label_through_as_html() {
    use reports::export::{Exporter, Markdown};
    let mut other = sample();
    other.host.label = Some("<script>alert(1)</script> [x](javascript:y)".to_string());
    let comparison = compare(configurations(vec![sample(), other]), options());
    let md = Markdown.export(&comparison).unwrap();
    for raw in ["<b>", "<script>"] {
        assert!(!md.contains(raw), "{raw} passed through:\n{md}");
    }
    assert!(
        !md.replace("\\](", "").contains("]("),
        "a link passed through:\n{md}"
    );
    assert!(md.contains("&lt;script&gt;"), "{md}");
}

/// The sample with `synthetic/amdahl` under threads at 2 workers grown to
/// five trials (copies of its three, a little apart).
fn five_trial_cell() -> ResultsFolder {
    let mut folder = sample();
    let cell = |r: &reports::schema::Record| {
        r.workload.id == "synthetic/amdahl" && r.model == "threads" && r.workers == 2
    };
    let extra: Vec<reports::schema::Record> = folder
        .records
        .iter()
        .filter(|r| cell(r))
        .take(2)
        .enumerate()
        .map(|(i, r)| {
            let mut copy = r.clone();
            copy.trial = 3 + i as u32;
            copy.throughput_ops_s *= 1.0 + 0.001 * (i as f64 + 1.0);
            copy
        })
        .collect();
    folder.records.extend(extra);
    folder
}

/// Marks trials `disturbed` of the five-trial cell disturbed and makes
/// them `hit` times as fast, and every other trial of it `clean` times.
fn with_disturbed(disturbed: &[u32], hit: f64, clean: f64) -> ResultsFolder {
    let mut folder = five_trial_cell();
    for record in &mut folder.records {
        if record.workload.id == "synthetic/amdahl"
            && record.model == "threads"
            && record.workers == 2
        {
            let is_hit = disturbed.contains(&record.trial);
            record.throughput_ops_s *= if is_hit { hit } else { clean };
            if is_hit {
                record.machine = Some(reports::schema::MachineView {
                    disturbed: true,
                    reasons: vec!["other processes used 1.00 of the 2 cores".into()],
                    ..Default::default()
                });
            }
        }
    }
    folder
}

fn threads_at_2(comparison: &reports::compare::Comparison) -> &reports::compare::CompareCell {
    let group = comparison
        .groups
        .iter()
        .find(|g| g.workload_spec.starts_with("synthetic/amdahl"))
        .unwrap();
    let model = group.models.iter().find(|m| m.model == "threads").unwrap();
    let row = model.rows.iter().find(|r| r.workers == 2).unwrap();
    &row.cells[1]
}

#[test]
fn a_cell_with_one_disturbed_trial_of_five_is_compared_on_the_other_four() {
    // Its four clean trials are 20% slower; the disturbed one, run beside
    // a hog, a third as fast.
    let comparison = compare(
        configurations(vec![five_trial_cell(), with_disturbed(&[0], 0.3, 0.8)]),
        options(),
    );
    let cell = threads_at_2(&comparison);
    assert_eq!(cell.change, Some(Change::Slower));
    let ratio = cell.ratio.unwrap();
    assert!((ratio.point - 0.8).abs() < 0.01, "{ratio:?}");
    // The interval is the exact one of 4 trials against 5, and says so.
    let base = five_trial_cell();
    let throughputs = |folder: &ResultsFolder, skip: Option<u32>| -> Vec<f64> {
        folder
            .records
            .iter()
            .filter(|r| {
                r.workload.id == "synthetic/amdahl" && r.model == "threads" && r.workers == 2
            })
            .filter(|r| Some(r.trial) != skip)
            .map(|r| r.throughput_ops_s)
            .collect()
    };
    let slower = with_disturbed(&[0], 0.3, 0.8);
    let expected =
        reports::stats::ratio_interval(&throughputs(&slower, Some(0)), &throughputs(&base, None))
            .unwrap();
    assert_eq!(ratio.coverage, expected.coverage);
    assert!(ratio.coverage.unwrap() >= 0.9);
    assert_eq!(ratio.low, expected.low);

    // The page's table says which trials it counted.
    let analysis = &comparison.analyses[1];
    let row = analysis
        .sections
        .iter()
        .flat_map(|s| &s.rows)
        .find(|r| r.model == "threads" && r.workers == 2 && r.trials == 5)
        .unwrap();
    assert_eq!(row.trials_measured, 4);
    assert_eq!(
        row.disturbed_text().as_deref(),
        Some("4 of 5 clean, 1 disturbed left out")
    );
    // A clean measurement: not among the report's problems, and the
    // workload's summary line counts the trial it left out.
    let summary = reports::summary::summarise(analysis);
    assert!(
        summary.problems.iter().all(|p| p.kind != "disturbed"),
        "{:?}",
        summary.problems
    );
    assert!(summary
        .workloads
        .iter()
        .any(|w| w.trials_left_out == 1 && w.text().ends_with("(1 disturbed trial left out).")));

    // Three disturbed of five leave two clean: too few for a verdict.
    let comparison = compare(
        configurations(vec![
            five_trial_cell(),
            with_disturbed(&[0, 1, 2], 0.3, 0.8),
        ]),
        options(),
    );
    assert_eq!(
        threads_at_2(&comparison).change,
        Some(Change::NotComparable)
    );
    let summary = reports::summary::summarise(&comparison.analyses[1]);
    assert!(summary
        .problems
        .iter()
        .any(|p| p.kind == "disturbed" && p.text.contains("too many to leave out")));
}
