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

/// One plain sentence: what the fits say.
pub(super) fn reading(curve: &ModelCurve) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(a) = &curve.amdahl.fit {
        let f = a.serial_fraction;
        let ceiling = if f.point >= 0.01 {
            format!("at most {:.1}x on any number of cores", 1.0 / f.point)
        } else {
            "no measurable serial part at these worker counts".to_string()
        };
        parts.push(format!(
            "serial fraction {:.2} [{:.2}, {:.2}] from {} worker counts: {ceiling}",
            f.point, f.low, f.high, a.fit.points
        ));
    }
    if let Some(Some(g)) = curve.gustafson.as_ref().map(|g| g.fit.as_ref()) {
        let f = g.serial_fraction;
        parts.push(format!(
            "scaled serial fraction {:.2} [{:.2}, {:.2}]: 64 workers would do {:.1}x the work of one in the same time",
            f.point,
            f.low,
            f.high,
            g.fit.speedup(64.0)
        ));
    }
    if let Some(u) = &curve.usl.fit {
        let peak = u
            .peak_workers()
            .map_or("throughput never falls".to_string(), |n| {
                format!("throughput peaks near {n:.0} workers")
            });
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
