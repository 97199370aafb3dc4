//! The fitted laws of a curve, with bootstrap intervals, and the one plain
//! sentence they add up to.

use crate::fits::{fit_amdahl, fit_gustafson, Point};
use crate::stats::{median, percentile_interval, resample_into, resampler};

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
                serial_fraction: percentile_interval(fit.serial_fraction, replicates),
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
                serial_fraction: percentile_interval(fit.serial_fraction, replicates),
                fit,
            }
        });
        (Fitted::from(fitted), None)
    }
}

/// One plain sentence: what the fits say, and never more than the data
/// allow. A ceiling ("at most Nx on any number of cores") needs Amdahl
/// fitted from `min_counts` or more worker counts within the cores and no
/// measured point above it; projections stop at `projection_max_n`.
pub(super) fn reading(curve: &mut ModelCurve, counts: usize, projection_max_n: u32) -> String {
    let measured_max = curve
        .points
        .iter()
        .filter_map(|p| p.speedup.map(|s| s.point))
        .fold(0.0f64, f64::max);
    let largest_n = curve.points.iter().map(|p| p.n).max().unwrap_or(1);
    let mut parts: Vec<String> = Vec::new();
    if let Some(a) = &curve.amdahl.fit {
        let f = a.serial_fraction;
        let ceiling = (f.point > 0.0).then(|| 1.0 / f.point);
        let claim = if counts < MIN_PROJECTION_COUNTS {
            format!("too few worker counts within the cores ({counts}; {MIN_PROJECTION_COUNTS} needed) to project")
        } else if f.point < 0.01 {
            curve.projectable = true;
            "no measurable serial part at these worker counts".to_string()
        } else if ceiling.is_some_and(|c| measured_max > c) {
            "a measured point exceeds the fit's ceiling: Amdahl's law does not describe this curve"
                .to_string()
        } else {
            curve.projectable = true;
            curve.ceiling = ceiling;
            let at_projection = a.fit.speedup(f64::from(projection_max_n));
            format!(
                "at most {:.1}x on any number of cores ({at_projection:.1}x at {projection_max_n} workers)",
                ceiling.unwrap_or(f64::INFINITY)
            )
        };
        parts.push(format!(
            "serial fraction {:.2} [{:.2}, {:.2}] from {} worker counts: {claim}",
            f.point, f.low, f.high, a.fit.points
        ));
    }
    if let Some(Some(g)) = curve.gustafson.as_ref().map(|g| g.fit.as_ref()) {
        let f = g.serial_fraction;
        let n = f64::from(
            largest_n
                .saturating_mul(4)
                .min(projection_max_n)
                .max(largest_n),
        );
        parts.push(format!(
            "scaled serial fraction {:.2} [{:.2}, {:.2}]: {n:.0} workers would do {:.1}x the work of one in the same time",
            f.point,
            f.low,
            f.high,
            g.fit.speedup(n)
        ));
    }
    if let Some(u) = &curve.usl.fit {
        // A peak is a projection past the data: said only between the
        // largest measured count and the projection's end.
        let peak = match u.peak_workers() {
            None => "throughput never falls".to_string(),
            Some(n) if n >= f64::from(largest_n) && n <= f64::from(projection_max_n) => {
                format!("throughput peaks near {n:.0} workers")
            }
            Some(_) => "no peak within the projection".to_string(),
        };
        parts.push(format!(
            "USL contention {:.3}, coherency {:.5} from {} worker counts: {peak}",
            u.sigma, u.kappa, u.points
        ));
    }
    if parts.is_empty() {
        return curve
            .amdahl
            .reason
            .clone()
            .unwrap_or_else(|| "nothing to fit".to_string());
    }
    parts.join("; ")
}

/// Worker counts within the cores a projection needs.
pub const MIN_PROJECTION_COUNTS: usize = 3;

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
