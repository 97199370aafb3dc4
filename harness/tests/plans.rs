//! Every plan in `plans/` runs, at its smallest (`--smoke`), from the
//! repository root as a user runs it, and its report opens in headless
//! Chromium with the experiment's question at the top and every chart
//! loaded. A binary of its own: its runs spin the CPUs. The reports are
//! opened in one start of the browser, after every run: 14 starts took
//! 22 s of CPU, most of this test's.

#[path = "../../reports/tests/browser_helpers/mod.rs"]
mod browser_helpers;
#[path = "../../reports/tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use assert_cmd::Command;
use corebench::plan::file::{Shipped, SHIPPED};

/// Plans run at once: their trials are smoke, not measurements, and a
/// plan spends much of its time starting processes and servers.
const AT_ONCE: usize = 3;

/// Runs `plan` at its smallest into `tmp/NAME` and checks its report's
/// text; returns the report for the browser to open.
fn check(plan: &Shipped, root: &Path, tmp: &Path) -> browser_helpers::PageToCheck {
    let out = tmp.join(plan.name);
    let output = Command::cargo_bin("corebench")
        .unwrap()
        .current_dir(root)
        .args(["run", plan.name, "--smoke", "-q", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "plans/{}.toml: {stderr}",
        plan.name
    );
    let title = toml::from_str::<reports::schema::PlanFile>(plan.text)
        .unwrap()
        .title
        .unwrap();
    let index = out.join("report/index.html");
    let page = std::fs::read_to_string(&index).unwrap();
    let escaped = title.replace('\'', "&#x27;");
    assert!(
        page.contains(&format!("The experiment: {escaped}")),
        "plans/{}.toml: the report opens with its experiment",
        plan.name
    );
    browser_helpers::PageToCheck {
        name: format!("plans/{}.toml", plan.name),
        expected_charts: common::svg_count(&out.join("report")),
        page: index,
    }
}

#[test]
fn every_shipped_plan_runs_at_its_smallest_and_its_report_opens() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR")).join("shipped-plans");
    let _ = std::fs::remove_dir_all(&tmp);
    let browser = browser_helpers::browser_or_skip();
    let next = AtomicUsize::new(0);
    let reports = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..AT_ONCE {
            scope.spawn(|| {
                while let Some(plan) = SHIPPED.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let report = check(plan, &root, &tmp);
                    reports.lock().unwrap().push(report);
                }
            });
        }
    });
    let reports = reports.into_inner().unwrap();
    assert_eq!(reports.len(), SHIPPED.len());
    if let Some(browser) = browser {
        browser_helpers::assert_pages_load(&browser, &tmp, &reports);
    }
}
