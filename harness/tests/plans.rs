//! Every plan in `plans/` runs, at its smallest (`--smoke`), from the
//! repository root as a user runs it, and its report opens in headless
//! Chromium with the experiment's question at the top and every chart
//! loaded. A binary of its own: its runs spin the CPUs.

#[path = "../../reports/tests/browser_helpers/mod.rs"]
mod browser_helpers;
#[path = "../../reports/tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_cmd::Command;
use corebench::plan::file::{Shipped, SHIPPED};

/// Plans run at once: their trials are smoke, not measurements, and a
/// plan spends much of its time starting processes and servers.
const AT_ONCE: usize = 3;

/// Runs `plan` at its smallest into `tmp/NAME` and checks its report.
fn check(plan: &Shipped, root: &Path, tmp: &Path, browser: Option<&Path>) {
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
    if let Some(browser) = browser {
        let charts = common::svg_count(&out.join("report"));
        let index = std::fs::canonicalize(&index).unwrap();
        browser_helpers::assert_page_loads(browser, &index, charts);
    }
}

#[test]
fn every_shipped_plan_runs_at_its_smallest_and_its_report_opens() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR")).join("shipped-plans");
    let _ = std::fs::remove_dir_all(&tmp);
    let browser = browser_helpers::browser_or_skip();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..AT_ONCE {
            scope.spawn(|| {
                while let Some(plan) = SHIPPED.get(next.fetch_add(1, Ordering::Relaxed)) {
                    check(plan, &root, &tmp, browser.as_deref());
                }
            });
        }
    });
}
