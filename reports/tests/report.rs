//! The report of a checked-in sample results folder (a real run on the
//! 2-core development machine: six worker counts, a failing workload, an
//! unsupported cell, and a weak-scaling section), pinned by snapshots of
//! the exports and of the page's template context.

mod common;

use std::path::{Path, PathBuf};

use reports::folder::ResultsFolder;
use reports::report::write_report;

fn sample() -> ResultsFolder {
    ResultsFolder::open(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sample"))
        .expect("sample folder reads")
}

fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn exports_match_their_snapshots() {
    let out = out_dir("report-exports");
    write_report(&sample(), &out, &common::models()).unwrap();
    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    insta::assert_snapshot!("summary_csv", csv);
    let markdown = std::fs::read_to_string(out.join("summary.md")).unwrap();
    insta::assert_snapshot!("summary_md", markdown);
}

#[test]
fn template_context_matches_its_snapshot() {
    let out = out_dir("report-context");
    let written = write_report(&sample(), &out, &common::models()).unwrap();
    insta::assert_json_snapshot!("html_context", written.context);
}

#[test]
fn every_chart_is_written_and_drawn() {
    let out = out_dir("report-charts");
    let written = write_report(&sample(), &out, &common::models()).unwrap();
    let html = std::fs::read_to_string(&written.index).unwrap();
    let mut charts = 0;
    for section in &written.context.sections {
        // One worker count draws no scaling charts; the page says so.
        let scaling = section
            .charts
            .iter()
            .any(|c| c.file.ends_with("-speedup.svg"));
        assert_eq!(scaling, !section.single_point, "{}", section.id);
        if !section.single_point {
            assert!(section.charts.len() >= 3, "{}", section.id);
        }
        for chart in &section.charts {
            let svg = std::fs::read_to_string(out.join(&chart.file)).unwrap();
            assert!(svg.starts_with("<svg"), "{}", chart.file);
            assert!(
                svg.contains("<polyline") || svg.contains("<path"),
                "{} draws nothing",
                chart.file
            );
            assert!(html.contains(&chart.file), "{} not on the page", chart.file);
            charts += 1;
        }
    }
    assert_eq!(charts, written.charts);
    assert!(html.contains("summary.csv") && html.contains("summary.md"));
    // The report sits outside the results folder, so the raw data is copied.
    assert!(out.join("data/records.jsonl").exists());
    let links: Vec<&str> = written
        .context
        .raw_links
        .iter()
        .map(|(_, href)| href.as_str())
        .collect();
    assert!(links.contains(&"data/records.jsonl"), "{links:?}");
}

#[test]
fn strings_from_the_data_are_escaped() {
    let mut folder = sample();
    folder.host.label = Some("<script>alert('x')</script>".to_string());
    folder.records[0].error = Some("<img src=x onerror=alert(1)>".to_string());
    folder.records[0].status = reports::schema::Status::Failed;
    let out = out_dir("report-escaping");
    let written = write_report(&folder, &out, &common::models()).unwrap();
    let html = std::fs::read_to_string(written.index).unwrap();
    assert!(!html.contains("<script>alert"), "label must render as text");
    assert!(html.contains("&lt;script&gt;alert("));
    assert!(!html.contains("<img src=x"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    // The sample's own label has markup too.
    assert!(!html.contains("<b>config</b>"));
}

#[test]
fn sections_fit_what_their_data_allows() {
    let written = write_report(&sample(), &out_dir("report-fits"), &common::models()).unwrap();
    let sections = &written.context.sections;
    let amdahl = sections
        .iter()
        .find(|s| s.id.starts_with("synthetic-amdahl"))
        .unwrap();
    let threads = amdahl.fits.iter().find(|f| f.model == "threads").unwrap();
    assert!(threads.amdahl.starts_with("f = "), "{}", threads.amdahl);
    // Six worker counts, but only two within this machine's two cores.
    assert!(
        threads.usl.contains("within the cores, this has 2"),
        "{}",
        threads.usl
    );
    assert!(
        threads
            .reading
            .contains("4 oversubscribed counts are shown but not fitted"),
        "{}",
        threads.reading
    );
    let process = amdahl.rows.iter().find(|r| r.model == "process").unwrap();
    assert!(process.status.starts_with("unsupported"));

    let weak = sections.iter().find(|s| s.scaling == "weak").unwrap();
    let weak_threads = weak.fits.iter().find(|f| f.model == "threads").unwrap();
    assert!(
        weak_threads.gustafson.starts_with("f = "),
        "{}",
        weak_threads.gustafson
    );
    assert!(
        weak_threads.usl.contains("not fitted"),
        "three worker counts: {}",
        weak_threads.usl
    );

    let faulty = sections
        .iter()
        .find(|s| s.id.starts_with("synthetic-faulty"))
        .unwrap();
    assert!(faulty.fits.iter().all(|f| f.amdahl.contains("not fitted")));
}

/// A real run with several specs of two workloads: the channel crates of
/// `comm/channel` and the three `stream/pipeline` implementations, under
/// threads and tokio at 1 and 2 workers.
fn side_by_side() -> ResultsFolder {
    ResultsFolder::open(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/side-by-side"))
        .expect("side-by-side folder reads")
}

#[test]
fn implementations_share_one_chart_per_latency() {
    let out = out_dir("report-side-by-side");
    let written = write_report(&side_by_side(), &out, &common::models()).unwrap();
    insta::assert_json_snapshot!("side_by_side_context", written.context.variants);
    let html = std::fs::read_to_string(&written.index).unwrap();
    let ids: Vec<&str> = written
        .context
        .variants
        .iter()
        .map(|v| v.id.as_str())
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    for variant in &written.context.variants {
        assert!(html.contains(&format!("id=\"{}\"", variant.id)));
        assert_eq!(variant.rows.len(), 3, "{}", variant.id);
        // Op latency, and the workload's own latency.
        assert_eq!(variant.charts.len(), 2, "{}", variant.id);
        for chart in &variant.charts {
            let svg = std::fs::read_to_string(out.join(&chart.file)).unwrap();
            // One line per spec, in the colour its row shows.
            for row in &variant.rows {
                let stroke = format!("stroke=\"{}\"", row.colour.to_uppercase());
                assert!(svg.contains(&stroke), "{} lacks {}", chart.file, row.label);
            }
        }
    }
    let pipeline = &written.context.variants[1];
    assert_eq!(pipeline.own_latencies, ["event latency"]);
    let labels: Vec<&str> = pipeline.rows.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["impl=rayon", "impl=threads", "impl=tokio"]);
}

#[test]
fn no_reading_contradicts_a_measured_point_in_any_sample_folder() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    for name in ["sample", "side-by-side", "golden/v1"] {
        let folder = ResultsFolder::open(&root.join(name)).unwrap();
        let analysis = reports::analysis::analyse(&folder.host, &folder.records, &common::models());
        for section in &analysis.sections {
            let largest = section
                .models
                .iter()
                .flat_map(|m| m.points.iter().map(|p| p.n))
                .max()
                .unwrap_or(1);
            assert!(section.projection_max_n <= 4 * largest.max(1), "{name}");
            for curve in &section.models {
                let what = format!("{name} {} {}", section.workload_spec, curve.model);
                if let Some(ceiling) = curve.ceiling {
                    for point in &curve.points {
                        let s = point.speedup.unwrap().point;
                        assert!(s <= ceiling, "{what}: {s} above the ceiling {ceiling}");
                    }
                }
                if curve.projectable {
                    let within = curve
                        .points
                        .iter()
                        .filter(|p| p.n <= analysis.logical_cores)
                        .count();
                    assert!(within >= 3, "{what}: projected from {within} counts");
                }
                if !section.cpu_bound {
                    assert!(
                        curve.amdahl.fit.is_none() && curve.usl.fit.is_none(),
                        "{what}"
                    );
                    assert!(!curve.reading.contains("serial fraction"), "{what}");
                }
                assert!(
                    !curve.reading.contains("at most") || curve.ceiling.is_some(),
                    "{what}"
                );
            }
        }
    }
}
