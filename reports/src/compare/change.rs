//! Change detection: a throughput ratio against the baseline counts as
//! faster or slower only when its interval covers 90% or more and lies
//! wholly beyond the noise threshold.
//!
//! criterion asks less: the interval excludes 1 and the point estimate
//! passes the threshold. But an interval from one run's trials leaves out
//! how much whole runs differ, which on a shared machine is the larger
//! part: identical runs minutes apart moved `cpu/mandelbrot` by 6-7%,
//! every trial of the second run alike. The threshold is the allowance
//! for that, and a change counts only when even the end of the interval
//! nearest "no change" is beyond it. With `--noise 0` this is criterion's
//! rule again.

use serde::Serialize;

use crate::stats::{Estimate, VERDICT_COVERAGE};

/// Faster, slower or unchanged against the baseline, or why no verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// The interval (covering 90% or more) lies wholly above 1 + noise.
    Faster,
    /// The interval (covering 90% or more) lies wholly below 1 - noise.
    Slower,
    /// Neither.
    Unchanged,
    /// The trials on either side are too few for an interval covering
    /// 90%: no verdict either way.
    TooFewTrials,
    /// Fewer than [`crate::analysis::MIN_CLEAN_TRIALS`] clean trials on
    /// a side that had disturbed ones: never faster or slower.
    NotComparable,
}

impl Change {
    /// Decides a change from a throughput ratio and its interval.
    pub fn of(ratio: Estimate, noise: f64) -> Change {
        if !ratio.covers_at_least(VERDICT_COVERAGE) {
            Change::TooFewTrials
        } else if ratio.low > 1.0 + noise {
            Change::Faster
        } else if ratio.high < 1.0 - noise {
            Change::Slower
        } else {
            Change::Unchanged
        }
    }

    /// The words shown in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Faster => "faster",
            Change::Slower => "slower",
            Change::Unchanged => "unchanged",
            Change::TooFewTrials => "too few trials to tell",
            Change::NotComparable => "not comparable",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ratio with an interval covering 95%.
    fn e(point: f64, low: f64, high: f64) -> Estimate {
        Estimate {
            point,
            low,
            high,
            coverage: Some(0.95),
        }
    }

    #[test]
    fn a_change_needs_both_the_interval_and_the_threshold() {
        assert_eq!(Change::of(e(1.25, 1.2, 1.3), 0.02), Change::Faster);
        assert_eq!(Change::of(e(0.8, 0.75, 0.85), 0.02), Change::Slower);
        // Interval includes 1.
        assert_eq!(Change::of(e(1.25, 0.95, 1.5), 0.02), Change::Unchanged);
        // Significant but within the noise threshold.
        assert_eq!(Change::of(e(1.01, 1.005, 1.015), 0.02), Change::Unchanged);
    }

    #[test]
    fn a_change_the_interval_allows_to_be_within_the_noise_is_not_one() {
        // An A/A cell on a shared VM: the point is past 5%, but the
        // interval allows a change of 0.3%.
        assert_eq!(Change::of(e(1.076, 1.003, 1.111), 0.05), Change::Unchanged);
        assert_eq!(Change::of(e(0.93, 0.9, 0.98), 0.05), Change::Unchanged);
        // The whole interval past the threshold.
        assert_eq!(Change::of(e(1.1, 1.06, 1.15), 0.05), Change::Faster);
        assert_eq!(Change::of(e(0.9, 0.85, 0.94), 0.05), Change::Slower);
        // With no threshold, excluding 1 is enough.
        assert_eq!(Change::of(e(1.076, 1.003, 1.111), 0.0), Change::Faster);
    }
}
