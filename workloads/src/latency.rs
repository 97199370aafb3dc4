//! Latency histograms that workloads keep themselves (a channel's send to
//! receipt, a stream's arrival to sink), beside the harness's op latency:
//! the same bounds as the harness's histograms, and one way to turn them
//! into counters.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

/// 1 ns to 1 h at 3 significant digits, as the harness's.
pub(crate) fn new_latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000_000, 3).expect("static bounds are valid")
}

/// Adds `NAME_p50_ns`, `NAME_p99_ns`, `NAME_p99_9_ns` and `NAME_max_ns` of
/// `histogram` to `counters`; nothing when it is empty.
pub(crate) fn add_quantile_counters(
    counters: &mut BTreeMap<String, f64>,
    name: &str,
    histogram: &Histogram<u64>,
) {
    if histogram.is_empty() {
        return;
    }
    for (quantile_name, q) in [("p50", 0.5), ("p99", 0.99), ("p99_9", 0.999)] {
        counters.insert(
            format!("{name}_{quantile_name}_ns"),
            histogram.value_at_quantile(q) as f64,
        );
    }
    counters.insert(format!("{name}_max_ns"), histogram.max() as f64);
}
