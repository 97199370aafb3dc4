//! The Universal Scalability Law, X(n) = λ n / (1 + σ (n−1) + κ n (n−1)),
//! fitted by least squares on throughput (absolute residuals), as R's
//! `usl` package (Gunther's reference implementation) fits it, with
//! intervals from the fit itself; and Amdahl's law in the same form
//! (κ = 0), so that the F-test can say whether coherency is really there.

use serde::Serialize;

use super::search::{golden_section, nelder_mead};
use super::spread::{nested_f_test, std_errors, t_interval, FIT_LEVEL};
use super::{distinct_n, Point};
use crate::stats::Estimate;

/// Distinct worker counts the USL needs before it is fitted: three
/// parameters need room to be told apart from noise.
pub const USL_MIN_POINTS: usize = 6;

/// A USL fit: the full law, or Amdahl's (κ held at 0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct UslFit {
    /// Throughput of one worker.
    pub lambda: f64,
    /// Contention (serialisation), >= 0; Amdahl's serial fraction when
    /// κ is held at 0.
    pub sigma: f64,
    /// Coherency (crosstalk), >= 0.
    pub kappa: f64,
    /// Distinct worker counts the fit rests on.
    pub points: usize,
    /// The squared residuals it leaves, in the fitted values' units.
    pub sse: f64,
    /// 95% intervals from the fit's standard errors (none without
    /// degrees of freedom, or when the law fits exactly at a bound).
    pub intervals: Option<UslIntervals>,
}

/// The 95% intervals of a USL fit's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct UslIntervals {
    /// λ.
    pub lambda: Estimate,
    /// σ.
    pub sigma: Estimate,
    /// κ; `None` when it was held at 0 (Amdahl's form).
    pub kappa: Option<Estimate>,
}

impl UslFit {
    /// Predicted throughput at `n` workers.
    pub fn throughput(&self, n: f64) -> f64 {
        self.lambda * n / (1.0 + self.sigma * (n - 1.0) + self.kappa * n * (n - 1.0))
    }

    /// The worker count of peak throughput, sqrt((1 - sigma) / kappa);
    /// `None` when kappa is 0 (throughput never falls).
    pub fn peak_workers(&self) -> Option<f64> {
        (self.kappa > 0.0 && self.sigma < 1.0).then(|| ((1.0 - self.sigma) / self.kappa).sqrt())
    }

    /// Whether κ is told apart from 0: its interval lies above 0. A peak
    /// is claimed only then.
    pub fn kappa_is_real(&self) -> bool {
        self.intervals
            .and_then(|i| i.kappa)
            .is_some_and(|k| k.low > 0.0)
    }

    /// The most throughput it allows on any number of workers: at the
    /// peak, or λ/σ as n grows when throughput never falls.
    pub fn ceiling(&self) -> Option<f64> {
        match self.peak_workers() {
            Some(n) => Some(self.throughput(n)),
            None => (self.sigma > 0.0).then(|| self.lambda / self.sigma),
        }
    }

    /// σ with its interval (exact where the fit has none).
    pub fn sigma_estimate(&self) -> Estimate {
        self.intervals
            .map_or(Estimate::exact(self.sigma), |i| i.sigma)
    }

    /// κ with its interval (exact where the fit has none).
    pub fn kappa_estimate(&self) -> Estimate {
        self.intervals
            .and_then(|i| i.kappa)
            .unwrap_or(Estimate::exact(self.kappa))
    }

    /// λ with its interval (exact where the fit has none).
    pub fn lambda_estimate(&self) -> Estimate {
        self.intervals
            .map_or(Estimate::exact(self.lambda), |i| i.lambda)
    }

    /// The same fit with throughput in other units (λ times `factor`).
    pub fn scaled(self, factor: f64) -> Self {
        let scale = |e: Estimate| Estimate {
            point: e.point * factor,
            low: e.low * factor,
            high: e.high * factor,
            ..e
        };
        UslFit {
            lambda: self.lambda * factor,
            sse: self.sse * factor * factor,
            intervals: self.intervals.map(|i| UslIntervals {
                lambda: scale(i.lambda),
                ..i
            }),
            ..self
        }
    }
}

/// The throughputs a fit may use, and how many distinct counts they hold.
fn usable(points: &[Point]) -> Vec<Point> {
    points
        .iter()
        .copied()
        .filter(|p| p.n >= 1.0 && p.value.is_finite() && p.value > 0.0)
        .collect()
}

/// Fits the USL to throughputs. For fixed (σ, κ) the best λ is
/// closed-form, so only the two shape parameters are searched: a coarse
/// log grid, then Nelder–Mead on their square roots (which keeps both
/// non-negative).
pub fn fit_usl(points: &[Point]) -> Result<UslFit, String> {
    let usable = usable(points);
    let distinct = distinct_n(&usable);
    if distinct < USL_MIN_POINTS {
        return Err(format!(
            "not fitted: the USL needs {USL_MIN_POINTS} or more distinct worker counts within the cores, this has {distinct}"
        ));
    }
    let sse = |sigma: f64, kappa: f64| best_lambda(&usable, sigma, kappa).1;
    let grid = log_grid();
    let mut best = (f64::INFINITY, 0.0, 0.0);
    for &sigma in &grid {
        for &kappa in &grid {
            let err = sse(sigma, kappa);
            if err < best.0 {
                best = (err, sigma, kappa);
            }
        }
    }
    let refined = nelder_mead(
        |v| sse(v[0] * v[0], v[1] * v[1]),
        [best.1.sqrt(), best.2.sqrt()],
        0.05,
        600,
    );
    let (sigma, kappa) = (refined[0] * refined[0], refined[1] * refined[1]);
    Ok(finish(&usable, sigma, kappa, false))
}

/// Fits Amdahl's law in the USL's form, X(n) = λ n / (1 + σ (n−1)): the
/// USL with κ held at 0, with λ free as the USL's is. Needs two distinct
/// worker counts.
pub fn fit_amdahl_form(points: &[Point]) -> Result<UslFit, String> {
    let usable = usable(points);
    if distinct_n(&usable) < 2 {
        return Err("not fitted: needs two or more distinct worker counts".to_string());
    }
    let sse = |sigma: f64| best_lambda(&usable, sigma, 0.0).1;
    let grid = log_grid();
    let at = (0..grid.len())
        .min_by(|&a, &b| sse(grid[a]).total_cmp(&sse(grid[b])))
        .unwrap_or(0);
    let low = grid[at.saturating_sub(1)].sqrt();
    let high = grid[(at + 1).min(grid.len() - 1)].sqrt();
    let root = golden_section(|r| sse(r * r), low, high);
    Ok(finish(&usable, root * root, 0.0, true))
}

/// Whether the USL's coherency term earns its parameter over Amdahl's
/// law on the same points: the extra-sum-of-squares F-test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CoherencyTest {
    /// The F statistic, 1 and points − 3 degrees of freedom.
    pub f_statistic: f64,
    /// The chance that κ fits this much better by noise alone.
    pub p_value: f64,
}

impl CoherencyTest {
    /// Whether the USL is the better law, at the fits' 95% level.
    pub fn favours_usl(&self) -> bool {
        self.p_value < 1.0 - FIT_LEVEL
    }
}

/// The F-test of `usl` against `amdahl` (its κ = 0 form) on the same
/// points; `None` without the degrees of freedom.
pub fn coherency_test(amdahl: &UslFit, usl: &UslFit) -> Option<CoherencyTest> {
    let df = usl.points.checked_sub(3)?;
    let (f_statistic, p_value) = nested_f_test(amdahl.sse, usl.sse, df)?;
    Some(CoherencyTest {
        f_statistic,
        p_value,
    })
}

/// σ and κ candidates for the coarse search: 0, then 1e-6 to 1.
fn log_grid() -> Vec<f64> {
    std::iter::once(0.0)
        .chain((0..=24).map(|i| 10f64.powf(-6.0 + i as f64 * 0.25)))
        .collect()
}

/// The fit at (σ, κ): its λ, its residuals and the intervals from its
/// Jacobian.
fn finish(points: &[Point], sigma: f64, kappa: f64, amdahl: bool) -> UslFit {
    let (lambda, sse) = best_lambda(points, sigma, kappa);
    let denominator = |n: f64| 1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0);
    // d model / d (λ, σ, κ) at each point.
    let rows: Vec<[f64; 3]> = points
        .iter()
        .map(|p| {
            let d = denominator(p.n);
            let g = p.n / d;
            let dg = -lambda * p.n * (p.n - 1.0) / (d * d);
            [g, dg, dg * p.n]
        })
        .collect();
    let intervals = if amdahl {
        let rows: Vec<[f64; 2]> = rows.iter().map(|r| [r[0], r[1]]).collect();
        std_errors(&rows, sse).and_then(|se| {
            let df = points.len() - 2;
            Some(UslIntervals {
                lambda: t_interval(lambda, se[0], df)?,
                sigma: t_interval(sigma, se[1], df)?,
                kappa: None,
            })
        })
    } else {
        std_errors(&rows, sse).and_then(|se| {
            let df = points.len() - 3;
            Some(UslIntervals {
                lambda: t_interval(lambda, se[0], df)?,
                sigma: t_interval(sigma, se[1], df)?,
                kappa: Some(t_interval(kappa, se[2], df)?),
            })
        })
    };
    UslFit {
        lambda,
        sigma,
        kappa,
        points: distinct_n(points),
        sse,
        intervals,
    }
}

/// The best λ for (σ, κ), and the squared error it leaves: minimises
/// sum (λ g_i − X_i)², so λ = sum g X / sum g².
fn best_lambda(points: &[Point], sigma: f64, kappa: f64) -> (f64, f64) {
    let shape = |n: f64| n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0));
    let (mut num, mut den) = (0.0, 0.0);
    for p in points {
        let g = shape(p.n);
        num += g * p.value;
        den += g * g;
    }
    let lambda = if den > 0.0 { num / den } else { 0.0 };
    let sse = points
        .iter()
        .map(|p| {
            let r = lambda * shape(p.n) - p.value;
            r * r
        })
        .sum();
    (lambda, sse)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(ns: &[f64], xs: &[f64]) -> Vec<Point> {
        ns.iter()
            .zip(xs)
            .map(|(&n, &value)| Point { n, value })
            .collect()
    }

    /// Gunther's `raytracer` data (Guerrilla Capacity Planning), as the
    /// R `usl` package ships it, with the values R's `usl()` and
    /// `confint()` give for it: σ = 0.0578 [0.0337, 0.0819], κ = 0
    /// [−0.000214, 0.000214], λ = 21.85 [17.87, 25.83]. R's intervals are
    /// its standard errors times qt(0.95, n − 1) = 1.812 (a one-sided 95%
    /// quantile); ours are two-sided 95% with n − 3 degrees of freedom
    /// (2.306), so the standard errors are what must agree.
    #[test]
    fn raytracer_matches_the_r_usl_package() {
        let data = points(
            &[1., 4., 8., 12., 16., 20., 24., 28., 32., 48., 64.],
            &[
                20., 78., 130., 170., 190., 200., 210., 230., 260., 280., 310.,
            ],
        );
        let usl = fit_usl(&data).unwrap();
        let i = usl.intervals.unwrap();
        let r_std_error = |half_width: f64| half_width / 1.8125;
        let std_error = |e: Estimate| (e.high - e.low) / 2.0 / 2.306;
        assert!((usl.sigma - 0.0578).abs() < 0.0005, "{usl:?}");
        assert!((usl.lambda - 21.85).abs() < 0.05, "{usl:?}");
        assert!(usl.kappa < 1e-5, "{usl:?}");
        let kappa = i.kappa.unwrap();
        for (ours, r) in [
            (std_error(i.sigma), r_std_error(0.0241)),
            (std_error(kappa), r_std_error(0.000214)),
            (std_error(i.lambda), r_std_error(3.98)),
        ] {
            assert!(
                (ours - r).abs() / r < 0.02,
                "standard error {ours} against R's {r}"
            );
        }
        assert!(kappa.low < 0.0 && kappa.high > 0.0, "{kappa:?}");
        assert!(!usl.kappa_is_real());
        // κ is 0, so the USL is Amdahl's law here and the test says so.
        let amdahl = fit_amdahl_form(&data).unwrap();
        assert!((amdahl.sigma - usl.sigma).abs() < 0.001, "{amdahl:?}");
        let test = coherency_test(&amdahl, &usl).unwrap();
        assert!(!test.favours_usl(), "{test:?}");
        // One ceiling, λ/σ: 378 ops/s, 18.9x the 20 of one processor.
        assert!((amdahl.ceiling().unwrap() / 20.0 - 18.9).abs() < 0.2);
    }

    /// The `usl` package's `coef` test: an exact USL curve with σ = κ =
    /// 0.02, peaking at 7 workers.
    #[test]
    fn the_exact_curve_of_the_coef_test_is_recovered_and_chosen() {
        let data = points(
            &[1., 2., 4., 6., 8., 10.],
            &[1., 1.8868, 3.0769, 3.5294, 3.5398, 3.3557],
        );
        let usl = fit_usl(&data).unwrap();
        assert!(
            (usl.sigma - 0.02).abs() < 0.001 && (usl.kappa - 0.02).abs() < 0.001,
            "{usl:?}"
        );
        assert!((usl.peak_workers().unwrap() - 7.0).abs() < 0.1);
        assert!(usl.kappa_is_real(), "{usl:?}");
        let amdahl = fit_amdahl_form(&data).unwrap();
        assert!(coherency_test(&amdahl, &usl).unwrap().favours_usl());
    }

    #[test]
    fn noisy_usl_data_recovers_sigma_and_kappa_within_ten_percent() {
        // A 128-core machine's curve, peaking near n* = 21.
        let truth = UslFit {
            lambda: 1000.0,
            sigma: 0.1,
            kappa: 0.002,
            points: 8,
            sse: 0.0,
            intervals: None,
        };
        let ns = [1.0, 4.0, 8.0, 16.0, 32.0, 64.0, 96.0, 128.0];
        for seed in 1..=5u64 {
            let mut rng = fastrand::Rng::with_seed(seed);
            let data: Vec<Point> = ns
                .iter()
                .map(|&n| Point {
                    n,
                    // Uniform noise of +-2% around the truth.
                    value: truth.throughput(n) * (1.0 + 0.02 * (2.0 * rng.f64() - 1.0)),
                })
                .collect();
            let fit = fit_usl(&data).unwrap();
            assert_eq!(fit.points, 8);
            let i = fit.intervals.unwrap();
            assert!((fit.sigma - 0.1).abs() / 0.1 < 0.10, "seed {seed}: {fit:?}");
            assert!(
                (fit.kappa - 0.002).abs() / 0.002 < 0.10,
                "seed {seed}: {fit:?}"
            );
            assert!(
                i.sigma.low <= 0.1 && 0.1 <= i.sigma.high,
                "seed {seed}: {i:?}"
            );
            assert!(fit.kappa_is_real(), "seed {seed}: {i:?}");
            let peak = fit.peak_workers().unwrap();
            assert!((peak - truth.peak_workers().unwrap()).abs() < 2.0);
        }
    }

    #[test]
    fn usl_says_why_with_too_few_points() {
        let data = points(&[1.0, 2.0, 4.0], &[1.0, 2.0, 4.0]);
        let err = fit_usl(&data).unwrap_err();
        assert!(err.contains("6 or more") && err.contains("has 3"), "{err}");
    }
}
