//! One law per model, chosen on evidence, and the plain sentence it
//! gives: Amdahl's law, or the USL where its coherency term earns its
//! parameter (the F-test of [`crate::fits::coherency_test`]), or
//! Gustafson's for weak scaling. The chosen law alone sets the ceiling,
//! the peak and the projection, and nothing it says contradicts a
//! measured point or slope.

use crate::fits::{coherency_test, fit_amdahl_form, AmdahlFit, CoherencyTest, UslFit};
use crate::stats::Estimate;

use super::views::{AmdahlSummary, ModelCurve};
pub use super::views::{Law, LawChoice, Peak};

/// Worker counts within the cores a projection needs.
pub const MIN_PROJECTION_COUNTS: usize = 3;

/// Puts Amdahl's law in the USL's form in place of the speedup fit, where
/// the USL was fitted too (six counts or more): both laws then rest on the
/// same points and the same least squares, so the F-test compares like
/// with like and the model has one serial fraction and one ceiling.
pub(super) fn amdahl_beside_usl(
    curve: &mut ModelCurve,
    capacity: &[crate::fits::Point],
    usl: &UslFit,
) -> Option<CoherencyTest> {
    let form = fit_amdahl_form(capacity).ok()?;
    let interval = form.intervals.map(|i| i.sigma);
    curve.amdahl.fit = Some(AmdahlSummary {
        serial_fraction: interval.map_or(Estimate::exact(form.sigma), |i| Estimate {
            low: i.low.max(0.0),
            high: i.high.min(1.0),
            ..i
        }),
        fit: AmdahlFit {
            serial_fraction: form.sigma,
            points: form.points,
            fit_interval: interval,
            scale: form.lambda,
        },
    });
    curve.amdahl.reason = None;
    coherency_test(&form, usl)
}

/// Chooses the model's law: the USL only where the F-test says its
/// coherency term is real, else Amdahl's (or Gustafson's for weak
/// scaling), the law with fewer parameters.
pub(super) fn choose(curve: &ModelCurve, test: Option<CoherencyTest>) -> Option<LawChoice> {
    if curve.gustafson.as_ref().is_some_and(|g| g.fit.is_some()) {
        return Some(LawChoice {
            law: Law::Gustafson,
            why: "weak scaling: the work grows with the workers".to_string(),
            criterion: None,
        });
    }
    curve.amdahl.fit.as_ref()?;
    let usl = curve.usl.fit;
    let (law, why) = match (test, usl) {
        (Some(t), Some(u)) if t.favours_usl() && u.kappa_is_real() => (
            Law::Usl,
            format!(
                "the USL fits better than Amdahl's law (F-test {}): coherency κ = {} makes throughput fall past a peak",
                p_text(t.p_value),
                interval_text(u.kappa_estimate())
            ),
        ),
        (Some(t), Some(u)) if t.favours_usl() => (
            Law::Amdahl,
            format!(
                "the F-test favours the USL ({}), but its coherency κ = {} is not told apart from 0, so the law with fewer parameters",
                p_text(t.p_value),
                interval_text(u.kappa_estimate())
            ),
        ),
        (Some(t), Some(u)) if u.kappa_is_real() => (
            Law::Amdahl,
            format!(
                "the USL does not fit significantly better (F-test {}, coherency κ = {}), so the law with fewer parameters",
                p_text(t.p_value),
                interval_text(u.kappa_estimate())
            ),
        ),
        (Some(t), Some(u)) => (
            Law::Amdahl,
            format!(
                "the USL's coherency κ = {} is not told apart from 0 (F-test {}), so the law with fewer parameters",
                interval_text(u.kappa_estimate()),
                p_text(t.p_value)
            ),
        ),
        _ => (
            Law::Amdahl,
            format!(
                "the only law fitted (the USL needs {} or more worker counts)",
                crate::fits::USL_MIN_POINTS
            ),
        ),
    };
    Some(LawChoice {
        law,
        why,
        criterion: test,
    })
}

fn p_text(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".to_string()
    } else {
        format!("p = {p:.3}")
    }
}

/// An estimate with its interval, to the digits its width allows: two
/// significant digits of the interval's half-width.
pub fn interval_text(e: Estimate) -> String {
    const MAX_DECIMALS: i32 = 6;
    let half = (e.high - e.low).abs() / 2.0;
    // No more digits than four significant ones of the point, either.
    let of_point = 3 - e.point.abs().max(1e-12).log10().floor() as i32;
    let decimals = if half > 0.0 && half.is_finite() {
        (1 - half.log10().floor() as i32).min(of_point.max(3))
    } else {
        of_point - 1
    }
    .clamp(0, MAX_DECIMALS) as usize;
    let number = |v: f64| {
        let text = format!("{v:.decimals$}");
        // A value that rounds to zero is not negative.
        match text.strip_prefix('-') {
            Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
            _ => text,
        }
    };
    if half > 0.0 && number(e.low) != number(e.high) {
        format!(
            "{} [{}, {}]",
            number(e.point),
            number(e.low),
            number(e.high)
        )
    } else {
        number(e.point)
    }
}

/// The measured speedups, ascending n, as (n, point, low, high).
fn measured(curve: &ModelCurve, cores: u32) -> Vec<(u32, f64, f64, f64)> {
    curve
        .points
        .iter()
        .filter(|p| p.n <= cores)
        .filter_map(|p| p.speedup.map(|s| (p.n, s.point, s.low, s.high)))
        .collect()
}

/// The count after which the measured curve clearly falls: its highest
/// point, when a later point's interval lies wholly below that point's
/// (or, without intervals, a later point is lower by more than 1%).
fn measured_fall(points: &[(u32, f64, f64, f64)]) -> Option<u32> {
    let (top, &(n_top, s_top, low_top, _)) = points
        .iter()
        .enumerate()
        .max_by(|a, b| a.1 .1.total_cmp(&b.1 .1))?;
    let falls = points[top + 1..].iter().any(|&(_, s, _, high)| {
        if high > s || low_top < s_top {
            high < low_top
        } else {
            s < 0.99 * s_top
        }
    });
    falls.then_some(n_top)
}

/// The model's reading of CPU-bound work: what the chosen law says, and
/// never more than the data allow. Sets the curve's ceiling, peak and
/// whether its chosen law may be projected (up to `projection_max_n`
/// workers).
pub(super) fn reading(
    curve: &mut ModelCurve,
    counts: usize,
    cores: u32,
    projection_max_n: u32,
) -> String {
    let points = measured(curve, cores);
    let largest_n = curve.points.iter().map(|p| p.n).max().unwrap_or(1);
    let falls_after = measured_fall(&points);
    let mut parts: Vec<String> = Vec::new();
    let law = curve.law.as_ref().map(|c| c.law);
    match (law, &curve.amdahl.fit, curve.usl.fit) {
        (Some(Law::Usl), _, Some(u)) => {
            parts.push(usl_sentence(curve, &u, &points, projection_max_n));
        }
        (Some(Law::Amdahl), Some(a), _) => {
            let f = a.serial_fraction;
            let claim = if counts < MIN_PROJECTION_COUNTS {
                format!("too few worker counts within the cores ({counts}; {MIN_PROJECTION_COUNTS} needed) to project")
            } else if let Some(n) = falls_after {
                format!("but the measured speedup falls after {n} workers, and Amdahl's law never falls: it does not describe this curve, and nothing is projected")
            } else if let Some(knee) = curve.knees.first() {
                format!(
                    "but the curve bends at {} workers, which Amdahl's law does not describe, so nothing is projected past the data",
                    knee.workers
                )
            } else if f.point < 0.01 {
                curve.projectable = true;
                "no measurable serial part at these worker counts".to_string()
            } else if points.iter().any(|p| p.1 > a.fit.ceiling()) {
                "a measured point exceeds the fit's ceiling: Amdahl's law does not describe this curve".to_string()
            } else {
                curve.projectable = true;
                curve.ceiling = Some(a.fit.ceiling());
                format!(
                    "at most {:.1}x on any number of cores ({:.1}x at {projection_max_n} workers)",
                    a.fit.ceiling(),
                    a.fit.speedup(f64::from(projection_max_n))
                )
            };
            parts.push(format!(
                "Amdahl: serial fraction {} from {} worker counts: {claim}",
                interval_text(f),
                a.fit.points
            ));
        }
        _ => {}
    }
    if let Some(Some(g)) = curve.gustafson.as_ref().map(|g| g.fit.as_ref()) {
        let n = f64::from(
            largest_n
                .saturating_mul(4)
                .min(projection_max_n)
                .max(largest_n),
        );
        parts.push(format!(
            "scaled serial fraction {}: {n:.0} workers would do {:.1}x the work of one in the same time",
            interval_text(g.serial_fraction),
            g.fit.speedup(n)
        ));
    }
    // Where there was a choice to make, the reading says how it was made.
    if let Some(choice) = curve.law.as_ref().filter(|c| c.criterion.is_some()) {
        parts.push(format!("{} chosen: {}", choice.law.name(), choice.why));
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

/// The USL's sentence: its parameters, and the peak inside the data, a
/// peak beyond it (a projection), or none.
fn usl_sentence(
    curve: &mut ModelCurve,
    u: &UslFit,
    points: &[(u32, f64, f64, f64)],
    projection_max_n: u32,
) -> String {
    let sigma = u.sigma_estimate();
    let mut text = format!(
        "USL: contention σ = {}, coherency κ = {} from {} worker counts",
        interval_text(sigma),
        interval_text(u.kappa_estimate()),
        u.points
    );
    let Some((n_star, peak_speedup)) = u
        .peak_workers()
        .and_then(|n| Some((n, curve.usl_speedup(n)?)))
    else {
        return text;
    };
    let largest = points.last().map_or(1, |p| p.0);
    curve.ceiling = Some(peak_speedup);
    curve.projectable = true;
    if n_star <= f64::from(largest) {
        let below = points.iter().rev().find(|p| f64::from(p.0) <= n_star);
        let above = points.iter().find(|p| f64::from(p.0) >= n_star);
        let between = below.zip(above).map(|(b, a)| (b.0, a.0));
        curve.peak = Some(Peak {
            workers: n_star,
            between,
        });
        let last = points.last().map_or(peak_speedup, |p| p.1);
        let top = points.iter().map(|p| p.1).fold(0.0f64, f64::max);
        let fall = 100.0 * (1.0 - last / top.max(peak_speedup));
        let where_ = match between {
            Some((b, a)) if b != a => format!("between {b} and {a} workers"),
            _ => format!("at {n_star:.0} workers"),
        };
        text.push_str(&format!(
            ": throughput peaks {where_}, n* ≈ {n_star:.1} ({peak_speedup:.2}x), and falls {fall:.0}% by {largest}"
        ));
    } else if n_star <= f64::from(projection_max_n) {
        curve.peak = Some(Peak {
            workers: n_star,
            between: None,
        });
        text.push_str(&format!(
            ": projected to peak near {n_star:.0} workers at {peak_speedup:.1}x, beyond the {largest} measured (a projection)"
        ));
    } else {
        text.push_str(&format!(
            ": no peak within {projection_max_n} workers; at most {peak_speedup:.1}x at its projected peak near {n_star:.0}"
        ));
    }
    text
}
