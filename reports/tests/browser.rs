//! Opens a real report in headless Chromium: the page must load from disk
//! with no console messages, and every chart image must load and have a
//! size. Also saves a screenshot to `target/tmp/report-screenshot.png` for
//! a person to look at.
//!
//! `.ci/run` installs Debian's `chromium`. Where no browser is found the
//! test is skipped, except under CI (`CI` set), where that is a failure.

mod browser_helpers;
mod common;

use std::path::Path;

use reports::folder::ResultsFolder;
use reports::report::write_report;

use browser_helpers::*;

#[test]
fn compare_page_loads_in_headless_chromium_with_every_chart() {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let sample = || {
        ResultsFolder::open(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sample")).unwrap()
    };
    let comparison = reports::compare::compare(
        reports::compare::configurations(vec![sample(), sample()]),
        reports::compare::CompareOptions {
            baseline: 0,
            noise: 0.02,
            series: common::models(),
        },
    );
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-compare");
    let _ = std::fs::remove_dir_all(&out);
    let index = reports::compare::page::write_compare_report(&comparison, &out).unwrap();
    let charts = common::svg_count(&out);
    assert_page_loads(&browser, &std::fs::canonicalize(index).unwrap(), charts);
}

#[test]
fn report_loads_in_headless_chromium_with_every_chart() {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let out = tmp.join("browser-report");
    let _ = std::fs::remove_dir_all(&out);
    let folder =
        ResultsFolder::open(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sample")).unwrap();
    let written = write_report(&folder, &out, &common::models()).unwrap();
    let page = std::fs::canonicalize(&written.index).unwrap();
    let screenshot = tmp.join("report-screenshot.png");
    let dom = assert_page_loads_and_shoot(&browser, &page, written.charts, &screenshot);
    // The answer comes first: the summary precedes every chart.
    let summary = dom.find("id=\"summary\"").expect("a summary section");
    let first_chart = dom.find("class=\"chart\"").expect("charts");
    assert!(summary < first_chart);
}

#[test]
fn side_by_side_report_loads_in_headless_chromium_with_every_chart() {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-side-by-side");
    let _ = std::fs::remove_dir_all(&out);
    let folder =
        ResultsFolder::open(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/side-by-side"))
            .unwrap();
    let written = write_report(&folder, &out, &common::models()).unwrap();
    assert!(!written.context.variants.is_empty());
    let page = std::fs::canonicalize(&written.index).unwrap();
    assert_page_loads(&browser, &page, written.charts);
}

/// The 64-core sample, written afresh into `tmp/NAME`: the two tests
/// below run side by side, each with its own copy.
fn sample_64(tmp: &Path, name: &str) -> std::path::PathBuf {
    let results = tmp.join(name);
    let _ = std::fs::remove_dir_all(&results);
    common::write_sample_64(&results);
    results
}

#[test]
fn a_report_at_64_workers_and_15_workloads_stays_inside_the_window() {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let results = sample_64(tmp, "sample-64");
    let folder = ResultsFolder::open(&results).unwrap();
    let out = results.join("report");
    let written = write_report(&folder, &out, &common::models()).unwrap();
    assert_eq!(written.context.summary.len(), 15);
    let page = std::fs::canonicalize(&written.index).unwrap();
    assert_page_loads_and_shoot(
        &browser,
        &page,
        written.charts,
        &tmp.join("sample-64-report.png"),
    );
}

#[test]
fn a_comparison_at_64_workers_and_15_workloads_stays_inside_the_window() {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let results = sample_64(tmp, "sample-64-compared");
    // Compared with itself, as two configurations.
    let comparison = reports::compare::compare(
        reports::compare::configurations(vec![
            ResultsFolder::open(&results).unwrap(),
            ResultsFolder::open(&results).unwrap(),
        ]),
        reports::compare::CompareOptions {
            baseline: 0,
            noise: 0.02,
            series: common::models(),
        },
    );
    let compare_out = tmp.join("sample-64-compare");
    let _ = std::fs::remove_dir_all(&compare_out);
    let index = reports::compare::page::write_compare_report(&comparison, &compare_out).unwrap();
    let charts = common::svg_count(&compare_out);
    assert_page_loads_and_shoot(
        &browser,
        &std::fs::canonicalize(index).unwrap(),
        charts,
        &tmp.join("sample-64-compare.png"),
    );
}
