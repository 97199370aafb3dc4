//! Opening a page in headless Chromium, for the browser tests of both
//! crates (`reports/tests/browser.rs`, `harness/tests/plans.rs`): the page
//! must load from disk with no console messages, every chart image must
//! load and have a size, and nothing may be wider than the window.
//!
//! `.ci/run` installs Debian's `chromium`. Where no browser is found a test
//! is skipped, except under CI (`CI` set), where that is a failure.
//!
//! Many pages can be checked in one start of the browser
//! ([`assert_pages_load`]): a start costs about 0.85 s of CPU here, as much
//! as loading a 36-chart report, and headless Chromium opens one page per
//! start.
#![allow(dead_code)] // Each test file uses its own subset.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("COREBENCH_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser", "google-chrome"].map(|n| dir.join(n)))
        .find(|candidate| candidate.is_file())
}

/// Runs the browser headless on `page` with `extra` arguments; returns
/// (stdout, stderr).
pub fn run_browser(
    browser: &Path,
    profile: &Path,
    page: &Path,
    extra: &[String],
) -> (String, String) {
    let url = format!("file://{}", page.display());
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(&url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the browser starts");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let read_out = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let read_err = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let give_up = Instant::now() + Duration::from_secs(90);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > give_up {
            let _ = child.kill();
            panic!("the browser did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (read_out.join().unwrap(), read_err.join().unwrap())
}

pub fn attribute(dom: &str, name: &str) -> Option<usize> {
    attribute_text(dom, name)?.parse().ok()
}

/// The text of the first attribute `name` in the dumped DOM.
fn attribute_text<'a>(dom: &'a str, name: &str) -> Option<&'a str> {
    dom.split(&format!("{name}=\"")).nth(1)?.split('"').next()
}

/// What a page's own load handler (`reports/templates/chart_check.html`)
/// found.
struct Found<'a> {
    overflowing: usize,
    charts_total: usize,
    charts_loaded: usize,
    first_overflowing: &'a str,
}

impl Found<'_> {
    /// Nothing wider than the window, and every one of the
    /// `expected_charts` charts on the page and loaded.
    fn assert_ok(&self, name: &str, expected_charts: usize, log: &str) {
        assert_eq!(
            self.overflowing, 0,
            "{name}: wider than a 1400 px window: {}",
            self.first_overflowing
        );
        assert_eq!(
            self.charts_total, expected_charts,
            "{name}: every chart is on the page"
        );
        assert!(self.charts_total > 0, "{name}");
        assert_eq!(
            self.charts_loaded, self.charts_total,
            "{name}: every chart loaded; browser log:\n{log}"
        );
    }
}

/// The browser logged no console message of any page.
fn assert_no_console_message(log: &str) {
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
}

/// The browser, or `None` (and a note) where the test is skipped.
pub fn browser_or_skip() -> Option<PathBuf> {
    let browser = find_chromium();
    if browser.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "no chromium found; .ci/run installs Debian's chromium package"
        );
        eprintln!("skipped: no chromium on PATH (set COREBENCH_CHROMIUM to point at one)");
    }
    browser
}

/// Loads `page` in a 1400 px window and checks that every chart loaded,
/// nothing was logged, and nothing is wider than the window outside the
/// scroll boxes; returns the page as the browser built it.
pub fn assert_page_loads(browser: &Path, page: &Path, expected_charts: usize) -> String {
    load_page(browser, page, expected_charts, None)
}

/// The same, and in the same browser run (one start of the browser, not
/// two), saves a 1400 x 3000 px screenshot to `screenshot` for a person
/// to look at.
pub fn assert_page_loads_and_shoot(
    browser: &Path,
    page: &Path,
    expected_charts: usize,
    screenshot: &Path,
) -> String {
    let _ = std::fs::remove_file(screenshot);
    let dom = load_page(browser, page, expected_charts, Some(screenshot));
    let size = std::fs::metadata(screenshot).map(|m| m.len()).unwrap_or(0);
    assert!(size > 20_000, "screenshot is {size} bytes");
    eprintln!("screenshot: {}", screenshot.display());
    dom
}

pub fn load_page(
    browser: &Path,
    page: &Path,
    expected_charts: usize,
    screenshot: Option<&Path>,
) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut args = vec!["--dump-dom".to_string()];
    match screenshot {
        // The overflow check is of the width, which both windows share.
        Some(path) => args.extend([
            format!("--screenshot={}", path.display()),
            "--window-size=1400,3000".to_string(),
        ]),
        None => args.push("--window-size=1400,1000".to_string()),
    }
    let (dom, log) = run_browser(browser, profile.path(), page, &args);
    let ran = |name| attribute(&dom, name).expect("the page's load handler ran");
    Found {
        overflowing: ran("data-overflowing"),
        charts_total: ran("data-charts-total"),
        charts_loaded: ran("data-charts-loaded"),
        first_overflowing: attribute_text(&dom, "data-overflow-first").unwrap_or(""),
    }
    .assert_ok(&page.display().to_string(), expected_charts, &log);
    assert_no_console_message(&log);
    dom
}

/// A page to check with [`assert_pages_load`]: what to call it in a
/// failure, where it is, and how many charts it has.
pub struct PageToCheck {
    pub name: String,
    pub page: PathBuf,
    pub expected_charts: usize,
}

/// Checks every page as [`assert_page_loads`] does, in one start of the
/// browser: each page is loaded in a 1400 x 1000 px frame of a page
/// written to `scratch`, which reads what each page's own load handler
/// found. The frames' documents are readable from the outer page only with
/// `--allow-file-access-from-files`; no report fetches files, so the flag
/// hides nothing a user would meet.
pub fn assert_pages_load(browser: &Path, scratch: &Path, pages: &[PageToCheck]) {
    std::fs::create_dir_all(scratch).unwrap();
    let frames: String = pages
        .iter()
        .map(|p| {
            let page = std::fs::canonicalize(&p.page).unwrap();
            format!(
                "<iframe src=\"file://{}\" style=\"width:1400px;height:1000px;border:0;display:block\"></iframe>\n",
                page.display()
            )
        })
        .collect();
    let outer = scratch.join("all-pages.html");
    std::fs::write(
        &outer,
        format!(
            r#"<!doctype html><html><head><meta charset="utf-8"></head><body style="margin:0">
{frames}<script>
window.addEventListener("load", function () {{
  var found = [];
  document.querySelectorAll("iframe").forEach(function (frame) {{
    var doc = frame.contentDocument;
    if (!doc) {{ found.push("unreadable"); return; }}
    var root = doc.documentElement;
    found.push(["data-overflowing", "data-charts-total", "data-charts-loaded", "data-overflow-first"]
      .map(function (name) {{ return root.getAttribute(name); }}).join(";"));
  }});
  document.body.setAttribute("data-found", found.join("|"));
}});
</script></body></html>"#
        ),
    )
    .unwrap();
    let profile = tempfile::tempdir().unwrap();
    let args = [
        "--dump-dom".to_string(),
        "--window-size=1400,1000".to_string(),
        "--allow-file-access-from-files".to_string(),
    ];
    let (dom, log) = run_browser(browser, profile.path(), &outer, &args);
    let found = attribute_text(&dom, "data-found").expect("the outer page's load handler ran");
    let found: Vec<&str> = found.split('|').collect();
    assert_eq!(found.len(), pages.len(), "{found:?}");
    for (page, found) in pages.iter().zip(found) {
        let name = &page.name;
        // Elements wider than the window, charts on the page, charts
        // loaded, and the first element too wide (its classes may hold
        // spaces, so it comes last).
        let fields: Vec<&str> = found.splitn(4, ';').collect();
        assert_eq!(
            fields.len(),
            4,
            "{name}: the page's load handler ran: {found}"
        );
        let number = |i: usize| -> usize {
            fields[i]
                .parse()
                .unwrap_or_else(|_| panic!("{name}: the page's load handler ran: {found}"))
        };
        Found {
            overflowing: number(0),
            charts_total: number(1),
            charts_loaded: number(2),
            first_overflowing: fields[3],
        }
        .assert_ok(name, page.expected_charts, &log);
    }
    assert_no_console_message(&log);
}
