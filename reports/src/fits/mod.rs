//! Scaling laws fitted to measured speedups and throughputs.
//!
//! - [`fit_amdahl`]: 1/S = f + (1-f)/n, least squares in f on x = 1/n,
//!   clamped to [0, 1].
//! - [`karp_flatt`]: the experimentally determined serial fraction
//!   e(n) = (1/S - 1/n) / (1 - 1/n); rising e(n) means overhead that grows
//!   with n rather than a fixed serial part.
//! - [`fit_gustafson`]: scaled speedup S = n - f (n - 1), least squares in f.
//! - [`fit_usl`]: X(n) = lambda n / (1 + sigma (n-1) + kappa n (n-1)) with
//!   sigma, kappa >= 0, by non-linear least squares on throughput; only
//!   with [`USL_MIN_POINTS`] or more distinct n. [`fit_amdahl_form`] is the
//!   same law with kappa held at 0, and [`coherency_test`] says whether
//!   kappa earns its place.
//!
//! Every fit says how many distinct worker counts it rests on and, where
//! it has degrees of freedom left, how far its parameters could be off
//! (95% intervals from its own residuals, [`spread`]); a fit that cannot
//! be made returns the reason as text for the report.

mod search;
pub mod spread;
mod usl;

pub use usl::{
    coherency_test, fit_amdahl_form, fit_usl, CoherencyTest, UslFit, UslIntervals, USL_MIN_POINTS,
};

use crate::stats::Estimate;

/// One measured point: `n` workers, speedup or throughput `value`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Workers.
    pub n: f64,
    /// Speedup (Amdahl, Gustafson) or throughput (USL).
    pub value: f64,
}

/// Amdahl's serial fraction, fitted.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct AmdahlFit {
    /// Serial fraction f in [0, 1].
    pub serial_fraction: f64,
    /// Distinct worker counts the fit rests on.
    pub points: usize,
    /// f's 95% interval from the fit's residuals: how well the law
    /// describes the curve (none from a single point beyond 1 worker).
    pub fit_interval: Option<Estimate>,
    /// The speedup the fit gives one worker: 1 when fitted to speedups
    /// (S(1) = 1 by definition), the fitted λ in the USL's form
    /// ([`fit_amdahl_form`]), where one worker's throughput is measured
    /// with noise like any other.
    pub scale: f64,
}

impl AmdahlFit {
    /// Predicted speedup at `n` workers.
    pub fn speedup(&self, n: f64) -> f64 {
        self.scale / (self.serial_fraction + (1.0 - self.serial_fraction) / n)
    }

    /// The speedup no number of workers can beat: scale/f.
    pub fn ceiling(&self) -> f64 {
        self.scale / self.serial_fraction
    }
}

/// Fits Amdahl's law. Needs a point with n > 1 (and n = 1 is implied:
/// S(1) = 1 by definition of speedup).
pub fn fit_amdahl(points: &[Point]) -> Result<AmdahlFit, String> {
    let usable: Vec<&Point> = points
        .iter()
        .filter(|p| p.n > 1.0 && p.value.is_finite() && p.value > 0.0)
        .collect();
    if usable.is_empty() {
        return Err("not fitted: needs a measured speedup at more than one worker".to_string());
    }
    // 1/S - 1/n = f (1 - 1/n): linear in f through the origin.
    let xy: Vec<(f64, f64)> = usable
        .iter()
        .map(|p| (1.0 - 1.0 / p.n, 1.0 / p.value - 1.0 / p.n))
        .collect();
    let (f, fit_interval) = through_origin(&xy);
    Ok(AmdahlFit {
        serial_fraction: f.clamp(0.0, 1.0),
        points: distinct_n(points),
        fit_interval,
        scale: 1.0,
    })
}

/// The least-squares slope of y = b x through the origin over `xy`, and
/// its 95% interval from the residuals when there are two points or more.
fn through_origin(xy: &[(f64, f64)]) -> (f64, Option<Estimate>) {
    let sxx: f64 = xy.iter().map(|(x, _)| x * x).sum();
    let slope = xy.iter().map(|(x, y)| x * y).sum::<f64>() / sxx;
    let sse: f64 = xy.iter().map(|(x, y)| (y - slope * x).powi(2)).sum();
    let jacobian: Vec<[f64; 1]> = xy.iter().map(|(x, _)| [*x]).collect();
    let interval = spread::std_errors(&jacobian, sse)
        .and_then(|se| spread::t_interval(slope, se[0], xy.len() - 1));
    (slope, interval)
}

/// Karp–Flatt e(n) for one measured speedup; `None` at n = 1.
pub fn karp_flatt(n: f64, speedup: f64) -> Option<f64> {
    (n > 1.0 && speedup > 0.0).then(|| (1.0 / speedup - 1.0 / n) / (1.0 - 1.0 / n))
}

/// Gustafson's serial fraction, fitted to scaled speedups.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct GustafsonFit {
    /// Serial fraction f in [0, 1].
    pub serial_fraction: f64,
    /// Distinct worker counts the fit rests on.
    pub points: usize,
    /// f's 95% interval from the fit's residuals.
    pub fit_interval: Option<Estimate>,
}

impl GustafsonFit {
    /// Predicted scaled speedup at `n` workers.
    pub fn speedup(&self, n: f64) -> f64 {
        n - self.serial_fraction * (n - 1.0)
    }
}

/// Fits Gustafson's law S = n - f (n - 1) to scaled speedups.
pub fn fit_gustafson(points: &[Point]) -> Result<GustafsonFit, String> {
    // n - S = f (n - 1): linear in f through the origin.
    let xy: Vec<(f64, f64)> = points
        .iter()
        .filter(|p| p.n > 1.0 && p.value.is_finite())
        .map(|p| (p.n - 1.0, p.n - p.value))
        .collect();
    if xy.is_empty() {
        return Err(
            "not fitted: needs a measured scaled speedup at more than one worker".to_string(),
        );
    }
    let (f, fit_interval) = through_origin(&xy);
    Ok(GustafsonFit {
        serial_fraction: f.clamp(0.0, 1.0),
        points: distinct_n(points),
        fit_interval,
    })
}

fn distinct_n(points: &[Point]) -> usize {
    let mut ns: Vec<u64> = points.iter().map(|p| p.n.round() as u64).collect();
    ns.sort_unstable();
    ns.dedup();
    ns.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amdahl_points(f: f64, ns: &[f64]) -> Vec<Point> {
        ns.iter()
            .map(|&n| Point {
                n,
                value: 1.0 / (f + (1.0 - f) / n),
            })
            .collect()
    }

    #[test]
    fn exact_amdahl_data_recovers_f() {
        for f in [0.0, 0.05, 0.25, 0.5, 0.9, 1.0] {
            let fit = fit_amdahl(&amdahl_points(f, &[1.0, 2.0, 4.0, 8.0, 16.0])).unwrap();
            assert!((fit.serial_fraction - f).abs() < 0.005, "f={f}: {fit:?}");
            assert_eq!(fit.points, 5);
        }
        let two = fit_amdahl(&amdahl_points(0.25, &[1.0, 2.0])).unwrap();
        assert!((two.serial_fraction - 0.25).abs() < 1e-12);
        assert!((two.ceiling() - 4.0).abs() < 1e-9);
    }

    #[test]
    fn amdahl_needs_more_than_one_worker() {
        let err = fit_amdahl(&[Point { n: 1.0, value: 1.0 }]).unwrap_err();
        assert!(err.contains("not fitted"), "{err}");
    }

    #[test]
    fn karp_flatt_matches_hand_computed_values() {
        // S(2) = 1.6: (1/1.6 - 1/2) / (1 - 1/2) = (0.625 - 0.5) / 0.5 = 0.25
        assert!((karp_flatt(2.0, 1.6).unwrap() - 0.25).abs() < 1e-12);
        // S(4) = 2.5: (0.4 - 0.25) / 0.75 = 0.2
        assert!((karp_flatt(4.0, 2.5).unwrap() - 0.2).abs() < 1e-12);
        // Perfect scaling has no serial fraction.
        assert!(karp_flatt(8.0, 8.0).unwrap().abs() < 1e-12);
        assert_eq!(karp_flatt(1.0, 1.0), None);
    }

    #[test]
    fn gustafson_recovers_f() {
        let points: Vec<Point> = [1.0, 2.0, 4.0, 8.0]
            .iter()
            .map(|&n| Point {
                n,
                value: n - 0.3 * (n - 1.0),
            })
            .collect();
        let fit = fit_gustafson(&points).unwrap();
        assert!((fit.serial_fraction - 0.3).abs() < 1e-9);
        assert!((fit.speedup(8.0) - (8.0 - 0.3 * 7.0)).abs() < 1e-9);
    }
}
