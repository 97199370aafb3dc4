//! How far a fitted parameter could be from the truth, from the fit
//! itself: standard errors from the residuals and the Jacobian
//! (s² (JᵀJ)⁻¹, as R's `nls` and the `usl` package report them), turned
//! into 95% intervals with Student's t, and the extra-sum-of-squares F-test
//! that tells two nested laws apart.

use statrs::distribution::{ContinuousCDF, FisherSnedecor, StudentsT};

use crate::stats::Estimate;

/// The level of the fits' intervals and the F-test.
pub const FIT_LEVEL: f64 = 0.95;

/// The two-sided t quantile for `df` degrees of freedom at [`FIT_LEVEL`].
fn t_quantile(df: usize) -> Option<f64> {
    let t = StudentsT::new(0.0, 1.0, df as f64).ok()?;
    Some(t.inverse_cdf(0.5 + FIT_LEVEL / 2.0))
}

/// `point` ± t·`std_error` with `df` degrees of freedom; `None` without
/// any (as many parameters as points).
pub(super) fn t_interval(point: f64, std_error: f64, df: usize) -> Option<Estimate> {
    if df == 0 || !std_error.is_finite() {
        return None;
    }
    let half = t_quantile(df)? * std_error;
    Some(Estimate {
        point,
        low: point - half,
        high: point + half,
        coverage: None,
    })
}

/// The standard errors of a least-squares fit's parameters: the square
/// roots of the diagonal of s² (JᵀJ)⁻¹, where `jacobian` holds one row of
/// derivatives of the model per point and s² = `sse` / (points −
/// parameters). `None` when JᵀJ is singular or there are no degrees of
/// freedom.
pub(super) fn std_errors<const P: usize>(jacobian: &[[f64; P]], sse: f64) -> Option<[f64; P]> {
    let df = jacobian.len().checked_sub(P).filter(|df| *df > 0)?;
    let mut normal = [[0.0; P]; P];
    for row in jacobian {
        for i in 0..P {
            for j in 0..P {
                normal[i][j] += row[i] * row[j];
            }
        }
    }
    let inverse = invert(normal)?;
    let variance = sse / df as f64;
    let mut errors = [0.0; P];
    for i in 0..P {
        errors[i] = (variance * inverse[i][i]).max(0.0).sqrt();
    }
    Some(errors)
}

/// The inverse of a small symmetric positive matrix by Gauss–Jordan
/// elimination with partial pivoting; `None` when it is singular.
fn invert<const P: usize>(mut m: [[f64; P]; P]) -> Option<[[f64; P]; P]> {
    let scale = m
        .iter()
        .flatten()
        .fold(0.0f64, |acc, v| acc.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    let mut inv = [[0.0; P]; P];
    for (i, row) in inv.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    for col in 0..P {
        let pivot = (col..P).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))?;
        if m[pivot][col].abs() <= 1e-13 * scale {
            return None;
        }
        m.swap(col, pivot);
        inv.swap(col, pivot);
        let p = m[col][col];
        for j in 0..P {
            m[col][j] /= p;
            inv[col][j] /= p;
        }
        for row in 0..P {
            if row != col {
                let factor = m[row][col];
                for j in 0..P {
                    m[row][j] -= factor * m[col][j];
                    inv[row][j] -= factor * inv[col][j];
                }
            }
        }
    }
    Some(inv)
}

/// The extra-sum-of-squares F-test of a law with one parameter more than
/// a nested one: the F statistic and its p-value, the chance that the
/// larger law fits this much better by noise alone. `None` without the
/// degrees of freedom to judge.
pub(super) fn nested_f_test(
    sse_smaller: f64,
    sse_larger: f64,
    df_larger: usize,
) -> Option<(f64, f64)> {
    if df_larger == 0 || !sse_smaller.is_finite() || !sse_larger.is_finite() {
        return None;
    }
    let gained = (sse_smaller - sse_larger).max(0.0);
    // An exact fit by the larger law: any gain is infinitely significant.
    let floor = 1e-12 * sse_smaller.max(f64::MIN_POSITIVE);
    if sse_larger <= floor {
        return Some(if gained > floor {
            (f64::INFINITY, 0.0)
        } else {
            (0.0, 1.0)
        });
    }
    let f = gained / (sse_larger / df_larger as f64);
    let dist = FisherSnedecor::new(1.0, df_larger as f64).ok()?;
    Some((f, 1.0 - dist.cdf(f)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_tables() {
        // Student's t, two-sided 95%: 12.706 (1), 2.306 (8), 1.960 (inf).
        assert!((t_quantile(1).unwrap() - 12.706).abs() < 1e-3);
        assert!((t_quantile(8).unwrap() - 2.306).abs() < 1e-3);
        assert!((t_quantile(100_000).unwrap() - 1.960).abs() < 1e-3);
        assert_eq!(t_interval(1.0, 0.1, 0), None);
    }

    #[test]
    fn a_straight_line_has_the_textbook_standard_errors() {
        // y = a + b x at x = 0..4, y = 1, 3, 2, 5, 4: b = 0.8, residuals
        // 0.4, 0.6, -1.2, 1.0, -0.8 (SSE 3.6); se(b) = sqrt(1.2 / 10).
        let xs = [0.0, 1.0, 2.0, 3.0, 4.0];
        let jacobian: Vec<[f64; 2]> = xs.iter().map(|&x| [1.0, x]).collect();
        let errors = std_errors(&jacobian, 3.6).unwrap();
        assert!((errors[1] - (1.2f64 / 10.0).sqrt()).abs() < 1e-12);
        // se(a) = sqrt(s² (1/n + mean² / Sxx)) = sqrt(1.2 (0.2 + 0.4)).
        assert!((errors[0] - (1.2f64 * 0.6).sqrt()).abs() < 1e-12);
        assert_eq!(
            std_errors(&jacobian[..2], 0.0),
            None,
            "no degrees of freedom"
        );
        assert_eq!(
            std_errors(&[[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]], 1.0),
            None,
            "singular"
        );
    }

    #[test]
    fn the_f_test_tells_a_real_gain_from_noise() {
        // F(1, 8) at 5.32 is the 95% point.
        let (f, p) = nested_f_test(1.0 + 5.32 * 0.125, 1.0, 8).unwrap();
        assert!(
            (f - 5.32).abs() < 1e-9 && (p - 0.05).abs() < 1e-3,
            "{f} {p}"
        );
        assert_eq!(nested_f_test(1.0, 1.0, 8).unwrap().1, 1.0);
        assert_eq!(nested_f_test(1.0, 0.0, 3).unwrap(), (f64::INFINITY, 0.0));
        assert_eq!(nested_f_test(1.0, 0.5, 0), None);
    }
}
