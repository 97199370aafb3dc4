//! Every number, duration and rate the reports print, in one place: the
//! terminal table, the charts' axes, the HTML page and the exports all
//! format through here, so they agree on units.

use crate::stats::Estimate;

/// The longest error text pages, exports and the terminal show; the
/// record keeps it whole.
pub const MAX_SHOWN_ERROR_CHARS: usize = 2000;

/// `text` cut to `max_chars` characters, saying how much was left out.
pub fn clip(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!(
            "{}… ({} more characters in the record)",
            &text[..cut],
            text[cut..].chars().count()
        ),
        None => text.to_string(),
    }
}

/// A record's error as reports show it: clipped.
pub fn shown_error(error: &Option<String>) -> Option<String> {
    error.as_deref().map(|e| clip(e, MAX_SHOWN_ERROR_CHARS))
}

/// `1234567.0` -> `1.23M`.
pub fn format_rate(ops_s: f64) -> String {
    if ops_s >= 1e9 {
        format!("{:.2}G", ops_s / 1e9)
    } else if ops_s >= 1e6 {
        format!("{:.2}M", ops_s / 1e6)
    } else if ops_s >= 1e3 {
        format!("{:.1}k", ops_s / 1e3)
    } else {
        format!("{ops_s:.1}")
    }
}

/// Nanoseconds with a readable unit: `1500.0` -> `1.50 µs`.
pub fn format_ns(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// A percentile axis label from HdrHistogram's 1/(1-p) axis value:
/// `2.0` -> `50%`, `1000.0` -> `99.9%`.
pub fn percentile_label(x: f64) -> String {
    let p = 100.0 * (1.0 - 1.0 / x);
    if p < 99.0 {
        format!("{p:.0}%")
    } else {
        let digits = (-(1.0 - p / 100.0).log10()).round() as usize - 2;
        format!("{p:.digits$}%")
    }
}

/// A short axis number: `70000.0` -> `70.0k`, `0.5` -> `0.50`.
pub fn short_number(y: f64) -> String {
    let a = y.abs();
    if a >= 1e9 {
        format!("{:.1}G", y / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", y / 1e6)
    } else if a >= 1e3 {
        format!("{:.1}k", y / 1e3)
    } else if a >= 10.0 || a == 0.0 {
        format!("{y:.0}")
    } else if a >= 1.0 {
        format!("{y:.1}")
    } else {
        format!("{y:.2}")
    }
}

/// A share as a percentage with one decimal: `0.384` is `38.4%`.
pub fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// `1 worker`, `2 workers`.
pub fn workers_phrase(n: u32) -> String {
    if n == 1 {
        "1 worker".to_string()
    } else {
        format!("{n} workers")
    }
}

/// Whether `v` is 1, 2 or 5 times a power of ten: the only values a log
/// axis labels, so its labels never crowd each other.
pub fn is_round_log_tick(v: f64) -> bool {
    if !(v.is_finite() && v > 0.0) {
        return false;
    }
    let decade = 10f64.powf(v.log10().floor());
    let mantissa = v / decade;
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .any(|m| (mantissa - m).abs() < 1e-6 * m)
}

/// A duration axis label, `ns` given: `70000000.0` -> `70 ms`.
pub fn duration_tick(ns: f64) -> String {
    let (value, unit) = if ns >= 1e9 {
        (ns / 1e9, "s")
    } else if ns >= 1e6 {
        (ns / 1e6, "ms")
    } else if ns >= 1e3 {
        (ns / 1e3, "µs")
    } else {
        (ns, "ns")
    };
    let digits = if value >= 10.0 || value.fract().abs() < 1e-9 {
        0
    } else {
        1
    };
    format!("{value:.digits$} {unit}")
}

/// CPUs in the kernel's list format, runs collapsed: `0-3,8,10-11`.
pub fn cpu_list(cpus: &[u32]) -> String {
    let mut sorted = cpus.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j + 1 < sorted.len() && sorted[j + 1] == sorted[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            sorted[i].to_string()
        } else {
            format!("{}-{}", sorted[i], sorted[j])
        });
        i = j + 1;
    }
    parts.join(",")
}

/// A worker-count axis label.
pub fn workers_label(x: &f64) -> String {
    format!("{}", x.round() as u64)
}

/// A value with its interval, `point [low, high; coverage]`, each through
/// `format`; `–` when there is none. The coverage is the interval's real
/// one (it is left out for a bootstrap interval or a single trial).
pub fn with_interval(e: Option<Estimate>, format: impl Fn(f64) -> String) -> String {
    e.map_or("–".to_string(), |e| {
        format!(
            "{} [{}, {}{}]",
            format(e.point),
            format(e.low),
            format(e.high),
            coverage_suffix(e)
        )
    })
}

/// A speedup with its interval, `1.97x [1.93x, 2.01x; 93.8%]`: how the
/// terminal, the page and the exports all print one.
pub fn speedup_text(speedup: Option<Estimate>) -> String {
    with_interval(speedup, |s| format!("{s:.2}x"))
}

/// `; 93.8%` for an interval of known coverage.
pub fn coverage_suffix(e: Estimate) -> String {
    e.coverage
        .map_or(String::new(), |c| format!("; {:.1}%", c * 100.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_clipped_and_says_so() {
        assert_eq!(clip("short", 10), "short");
        let long = "é".repeat(30);
        assert_eq!(
            clip(&long, 10),
            format!("{}… (20 more characters in the record)", "é".repeat(10))
        );
    }

    #[test]
    fn formats_units() {
        assert_eq!(format_rate(1_234_567.0), "1.23M");
        assert_eq!(format_rate(950.0), "950.0");
        assert_eq!(format_ns(1500.0), "1.50 µs");
        assert_eq!(duration_tick(7e7), "70 ms");
        assert_eq!(duration_tick(1500.0), "1.5 µs");
        assert_eq!(workers_phrase(1), "1 worker");
        assert_eq!(cpu_list(&[8, 0, 1, 2, 3, 10, 11]), "0-3,8,10-11");
        assert!(is_round_log_tick(200.0) && is_round_log_tick(0.05));
        assert!(!is_round_log_tick(9000.0) && !is_round_log_tick(3.0));
        assert_eq!(format_ns(2.5e6), "2.50 ms");
    }

    #[test]
    fn percentile_labels_read_as_percentiles() {
        assert_eq!(percentile_label(1.0), "0%");
        assert_eq!(percentile_label(2.0), "50%");
        assert_eq!(percentile_label(10.0), "90%");
        assert_eq!(percentile_label(100.0), "99%");
        assert_eq!(percentile_label(1000.0), "99.9%");
        assert_eq!(percentile_label(10000.0), "99.99%");
    }
}
