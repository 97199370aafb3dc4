//! The fitted fractions of a curve with their intervals, and the reading
//! of IO-bound and open-load work (the reading of CPU-bound work, from the
//! chosen law, is [`super::laws`]).

use crate::fits::{fit_amdahl, fit_gustafson, Point};
use crate::stats::{median, percentile_interval, resample_into, resampler, Estimate};

use super::views::{AmdahlSummary, Fitted, GustafsonSummary, ModelCurve};

/// Resamples for the intervals of fitted fractions.
const FIT_RESAMPLES: usize = 500;

/// Amdahl (strong) or Gustafson (weak) with bootstrap intervals.
pub(super) fn fit_fractions(
    base: &[f64],
    trials_by_n: &[(u32, Vec<f64>)],
    weak: bool,
    model: &str,
) -> (Fitted<AmdahlSummary>, Option<Fitted<GustafsonSummary>>) {
    let skip = |reason: &str| {
        let amdahl = Fitted::skipped(reason);
        (amdahl, weak.then(|| Fitted::skipped(reason)))
    };
    if model == "seq" {
        return skip("not fitted: seq runs one worker only");
    }
    if base.is_empty() {
        return skip("not fitted: no successful trial at 1 worker to compare with");
    }
    if trials_by_n.iter().filter(|(n, _)| *n > 1).count() == 0 {
        return skip("not fitted: a single worker count (needs a successful run at more than one)");
    }
    let points_from = |base: &[f64], walls: &dyn Fn(usize) -> Vec<f64>| -> Vec<Point> {
        let t1 = median(base).unwrap_or(f64::NAN);
        trials_by_n
            .iter()
            .enumerate()
            .map(|(i, (n, _))| {
                let ratio = t1 / median(&walls(i)).unwrap_or(f64::NAN);
                Point {
                    n: f64::from(*n),
                    value: if weak { ratio * f64::from(*n) } else { ratio },
                }
            })
            .collect()
    };
    let measured = points_from(base, &|i| trials_by_n[i].1.clone());

    let mut rng = resampler();
    let mut replicate_points = Vec::with_capacity(FIT_RESAMPLES);
    let mut resampled_base = Vec::new();
    for _ in 0..FIT_RESAMPLES {
        resample_into(&mut rng, base, &mut resampled_base);
        let resampled: Vec<Vec<f64>> = trials_by_n
            .iter()
            .map(|(_, walls)| {
                let mut out = Vec::new();
                resample_into(&mut rng, walls, &mut out);
                out
            })
            .collect();
        replicate_points.push(points_from(&resampled_base, &|i| resampled[i].clone()));
    }

    if weak {
        let fitted = fit_gustafson(&measured).map(|fit| {
            let replicates = replicate_points
                .iter()
                .filter_map(|p| fit_gustafson(p).ok().map(|f| f.serial_fraction))
                .collect();
            GustafsonSummary {
                serial_fraction: widened(
                    percentile_interval(fit.serial_fraction, replicates),
                    fit.fit_interval,
                ),
                fit,
            }
        });
        (
            Fitted::skipped("not fitted: Amdahl applies to strong scaling; see Gustafson"),
            Some(Fitted::from(fitted)),
        )
    } else {
        let fitted = fit_amdahl(&measured).map(|fit| {
            let replicates = replicate_points
                .iter()
                .filter_map(|p| fit_amdahl(p).ok().map(|f| f.serial_fraction))
                .collect();
            AmdahlSummary {
                serial_fraction: widened(
                    percentile_interval(fit.serial_fraction, replicates),
                    fit.fit_interval,
                ),
                fit,
            }
        });
        (Fitted::from(fitted), None)
    }
}

/// A fraction's interval that holds both the trials' jitter (the
/// bootstrap) and how well the law fits the curve (the fit's own
/// interval), within [0, 1].
fn widened(bootstrap: Estimate, fit: Option<Estimate>) -> Estimate {
    let Some(fit) = fit else {
        return bootstrap;
    };
    Estimate {
        low: bootstrap.low.min(fit.low).max(0.0),
        high: bootstrap.high.max(fit.high).min(1.0),
        ..bootstrap
    }
}

/// The reading of IO-bound or open-load work: how throughput scaled, and
/// how many ops were in flight (Little's law: throughput x mean latency),
/// with no serial fraction and no ceiling.
pub(super) fn io_reading(
    curve: &ModelCurve,
    by_n: &std::collections::BTreeMap<u32, Vec<&crate::schema::Record>>,
) -> String {
    let (Some(first), Some(last)) = (curve.points.first(), curve.points.last()) else {
        return curve
            .amdahl
            .reason
            .clone()
            .unwrap_or_else(|| "nothing measured".to_string());
    };
    let scaled = last.throughput_ops_s.point / first.throughput_ops_s.point.max(f64::MIN_POSITIVE);
    let in_flight = by_n.get(&last.n).and_then(|trials| {
        let means: Vec<f64> = trials
            .iter()
            .filter(|r| r.status == crate::schema::Status::Ok)
            .filter_map(|r| r.latency.as_ref().map(|l| l.mean_ns))
            .collect();
        Some(last.throughput_ops_s.point * median(&means)? / 1e9)
    });
    let mut text = format!(
        "throughput {scaled:.1}x from {} to {} workers",
        first.n, last.n
    );
    if let Some(l) = in_flight {
        text.push_str(&format!(
            "; {l:.1} ops in flight at {} workers (Little's law)",
            last.n
        ));
    }
    text
}
