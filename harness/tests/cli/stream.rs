//! CLI tests of `stream/pipeline`: the real binary on tiny plans, every
//! implementation under every model, closed and open load.

use crate::common;

use common::{assert_consistent, counter, implementation_and_what, run_ok};
use reports::schema::{Record, Status};

/// The end-to-end latency histogram the record carries.
fn event_latency(record: &Record) -> hdrhistogram::Histogram<u64> {
    let encoded = record
        .workload_histograms
        .get("event_latency")
        .unwrap_or_else(|| panic!("{} lacks event_latency", record.model));
    reports::histogram::decode(encoded).expect("event_latency decodes")
}

#[test]
fn the_sink_sees_every_quote_that_passed_the_filter_under_every_model() {
    let (_dir, folder) = run_ok(&[
        "--workloads",
        "stream/pipeline:impl=threads,stages=5,map_steps=200,stream/pipeline:impl=tokio,bound=2,map_steps=200,stream/pipeline:impl=rayon,stages=6,pass_percent=30,map_steps=200",
        "--models",
        "all",
        "--workers",
        "1,2",
    ]);
    let mut ran = std::collections::BTreeSet::new();
    for record in &folder.records {
        let (implementation, what) = implementation_and_what(record);
        if record.model == "process" {
            assert_eq!(record.status, Status::Unsupported, "{what}");
            assert!(
                record.error.as_deref().unwrap().contains("stages"),
                "{what}"
            );
            continue;
        }
        assert_eq!(record.status, Status::Ok, "{what}: {:?}", record.error);
        assert_consistent(record);
        assert_eq!(counter(record, "events"), record.ops as f64, "{what}");
        assert_eq!(
            counter(record, "source_events"),
            record.ops as f64,
            "{what}"
        );
        assert_eq!(
            counter(record, "filter_events"),
            record.ops as f64,
            "{what}"
        );
        let passed = counter(record, "events_passed_filter");
        assert!(
            passed > 0.0 && passed < record.ops as f64,
            "{what}: {passed}"
        );
        assert_eq!(counter(record, "events_at_sink"), passed, "{what}");
        assert_eq!(counter(record, "events_lost"), 0.0, "{what}");
        assert_eq!(counter(record, "events_duplicated"), 0.0, "{what}");
        assert_eq!(counter(record, "drained"), 1.0, "{what}");
        assert_eq!(event_latency(record).len() as f64, passed, "{what}");
        assert!(counter(record, "sink_throughput_events_s") > 0.0, "{what}");
        assert!(counter(record, "filter_queue_depth_mean") >= 1.0, "{what}");
        let map_stage = if implementation == "rayon" {
            "map"
        } else {
            "map1"
        };
        assert!(
            counter(record, &format!("{map_stage}_busy_ratio")) > 0.0,
            "{what}"
        );
        // The tokio pipeline's sources await under the async models; the
        // others block (on threads the stages own, so nothing starves).
        let awaits = implementation == "tokio" && record.model.starts_with("tokio");
        assert_eq!(record.async_op, awaits, "{what}");
        ran.insert((implementation, record.model.clone()));
    }
    assert_eq!(
        ran.len(),
        3 * 6,
        "every implementation under every model but process"
    );
}

#[test]
fn under_open_load_end_to_end_latency_counts_from_due_times() {
    // 20,000 quotes/s asked of a pipeline whose map stage takes about
    // 100 µs a quote: the sources fall behind their schedule, and every
    // quote's latency must include how late its source started it.
    let (_dir, folder) = run_ok(&[
        "--workloads",
        "stream/pipeline:impl=threads,map_steps=100000,pass_percent=100,bound=4,stream/pipeline:impl=tokio,map_steps=100000,pass_percent=100,bound=4",
        "--models",
        "threads,pool,tokio",
        "--workers",
        "2",
        "--load",
        "open:20000",
    ]);
    assert!(!folder.records.is_empty());
    for record in &folder.records {
        let what = format!("{} under {}", record.workload.spec, record.model);
        assert_eq!(record.status, Status::Ok, "{what}: {:?}", record.error);
        assert!(record.open_loop.is_some(), "{what}");
        assert_eq!(
            counter(record, "events_at_sink"),
            record.ops as f64,
            "{what}"
        );
        // Each quote reaches the sink after its source's send ended, and
        // the send's latency already counts from the due time.
        let op_max_ns = record.latency.as_ref().unwrap().max_ns;
        assert!(
            event_latency(record).max() >= op_max_ns,
            "{what}: end-to-end max {} < op max {op_max_ns}",
            event_latency(record).max()
        );
        assert!(counter(record, "source_blocked_on_full_ns") > 0.0, "{what}");
    }
}
