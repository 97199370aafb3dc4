//! Statistics over trials: medians with exact intervals, ratios, and
//! Tukey-fence outlier counts.
//!
//! Trials are few (5 by default) and their distribution is skewed (a noisy
//! machine only ever makes things slower), so every centre is a median.
//! With so few trials a bootstrap interval claims more than it has (for 3
//! trials a percentile bootstrap of the median is about [min, max], which
//! covers the true median 75% of the time, not 95%), so intervals here are
//! distribution-free and state the coverage they really have:
//!
//! - the median of n trials gets an order-statistic interval
//!   ([`median_interval`]): [min, max] of 5 trials covers 93.75%;
//! - the ratio of two cells gets the Hodges–Lehmann estimate on log values
//!   with the exact Mann–Whitney interval ([`ratio_interval`]): 5 against 5
//!   trials reach 96.8%, 3 against 3 reach 90%.
//!
//! Fitted fractions keep a seeded percentile bootstrap (their
//! [`Estimate::coverage`] is `None`): a report rendered twice from the same
//! folder says the same thing.

/// Bootstrap resamples per interval.
pub const BOOTSTRAP_RESAMPLES: usize = 2000;

/// A fixed seed: reports are reproducible.
pub const BOOTSTRAP_SEED: u64 = 0x00c0_4eb3_0c4c;

/// The median of `values`, or `None` when there are none. NaNs sort last.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    Some(median_of_sorted(&sorted))
}

fn median_of_sorted(sorted: &[f64]) -> f64 {
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

/// The `q` quantile (0..=1) of sorted values, linearly interpolated.
pub fn quantile_of_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let position = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let low = position.floor() as usize;
    let high = position.ceil() as usize;
    let weight = position - low as f64;
    sorted[low] * (1.0 - weight) + sorted[high] * weight
}

/// A point estimate with its interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Estimate {
    /// The estimate from the data as it is.
    pub point: f64,
    /// The interval's low end.
    pub low: f64,
    /// The interval's high end.
    pub high: f64,
    /// The probability the interval covers the true value, exact for the
    /// distribution-free intervals; `None` for a bootstrap (nominally 95%)
    /// or a single observation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<f64>,
}

impl Estimate {
    /// An estimate with no spread (a single observation).
    pub fn exact(point: f64) -> Self {
        Estimate {
            point,
            low: point,
            high: point,
            coverage: None,
        }
    }

    /// Whether its interval is trustworthy enough for a verdict.
    pub fn covers_at_least(&self, level: f64) -> bool {
        self.coverage.is_some_and(|c| c >= level - 1e-12)
    }
}

/// The coverage distribution-free intervals aim for.
pub const TARGET_COVERAGE: f64 = 0.95;

/// The coverage a verdict (faster, slower) needs.
pub const VERDICT_COVERAGE: f64 = 0.90;

/// `n choose k` as a float (exact for the small n of trials).
fn choose(n: usize, k: usize) -> f64 {
    (0..k.min(n - k.min(n))).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

/// The coverage of `[x_(j), x_(n+1-j)]` (1-based order statistics) for
/// the median of n values: the chance that between j and n-j of them fall
/// below it, `sum_{i=j}^{n-j} C(n, i) / 2^n`.
pub fn median_interval_coverage(n: usize, j: usize) -> f64 {
    if j == 0 || 2 * j > n {
        return 0.0;
    }
    (j..=n - j).map(|i| choose(n, i)).sum::<f64>() / 2f64.powi(n as i32)
}

/// The median of `values` with the narrowest symmetric order-statistic
/// interval that covers it with [`TARGET_COVERAGE`], or [min, max] with the
/// coverage it has when no narrower one does.
pub fn median_interval(values: &[f64]) -> Option<Estimate> {
    let point = median(values)?;
    let n = values.len();
    if n == 1 {
        return Some(Estimate::exact(point));
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let j = (1..=n / 2)
        .rev()
        .find(|&j| median_interval_coverage(n, j) >= TARGET_COVERAGE)
        .unwrap_or(1);
    Some(Estimate {
        point,
        low: sorted[j - 1],
        high: sorted[n - j],
        coverage: Some(median_interval_coverage(n, j)),
    })
}

/// How many arrangements of m values against n give each Mann–Whitney U
/// from 0 to m n (the exact null distribution, by recursion on the
/// largest value).
fn mann_whitney_counts(m: usize, n: usize) -> Vec<f64> {
    // counts[a][b][u] for a <= m, b <= n, kept one `a` row at a time.
    let mut previous: Vec<Vec<f64>> = (0..=n).map(|_| vec![1.0]).collect();
    for a in 1..=m {
        let mut row: Vec<Vec<f64>> = vec![vec![1.0]];
        for b in 1..=n {
            let mut counts = vec![0.0; a * b + 1];
            // The largest value is from the first sample: it beats all b.
            for (u, c) in previous[b].iter().enumerate() {
                counts[u + b] += c;
            }
            // Or from the second: it beats none.
            for (u, c) in row[b - 1].iter().enumerate() {
                counts[u] += c;
            }
            row.push(counts);
        }
        previous = row;
    }
    previous.swap_remove(n)
}

/// The ratio `numerator / denominator` of two sets of positive trials:
/// the Hodges–Lehmann estimate (the median of all pairwise ratios, taken
/// on logs) with the exact Mann–Whitney interval of the widest coverage
/// at least [`TARGET_COVERAGE`], or of all pairwise ratios with the
/// coverage it has when no narrower one reaches it.
pub fn ratio_interval(numerator: &[f64], denominator: &[f64]) -> Option<Estimate> {
    let (m, n) = (numerator.len(), denominator.len());
    if m == 0 || n == 0 || numerator.iter().chain(denominator).any(|x| *x <= 0.0) {
        return None;
    }
    let mut logs: Vec<f64> = numerator
        .iter()
        .flat_map(|a| denominator.iter().map(move |b| a.ln() - b.ln()))
        .collect();
    logs.sort_by(|a, b| a.total_cmp(b));
    let point = median_of_sorted(&logs).exp();
    if m * n == 1 {
        return Some(Estimate::exact(point));
    }
    let counts = mann_whitney_counts(m, n);
    let total: f64 = counts.iter().sum();
    // coverage of [d_(c+1), d_(mn-c)] is 1 - 2 P(U <= c).
    let mut below = 0.0;
    let mut best = (0, 1.0 - 2.0 * counts[0] / total);
    for (c, count) in counts.iter().enumerate().take((m * n).div_ceil(2)) {
        below += count;
        let coverage = 1.0 - 2.0 * below / total;
        if coverage >= TARGET_COVERAGE {
            best = (c, coverage);
        } else {
            break;
        }
    }
    let (c, coverage) = best;
    Some(Estimate {
        point,
        low: logs[c].exp(),
        high: logs[m * n - 1 - c].exp(),
        coverage: Some(coverage),
    })
}

/// A seeded random source for resampling.
pub fn resampler() -> fastrand::Rng {
    fastrand::Rng::with_seed(BOOTSTRAP_SEED)
}

/// Draws a resample (with replacement) of `values` into `out`.
pub fn resample_into(rng: &mut fastrand::Rng, values: &[f64], out: &mut Vec<f64>) {
    out.clear();
    out.extend((0..values.len()).map(|_| values[rng.usize(..values.len())]));
}

/// The 95% percentile interval of a bootstrap distribution around `point`
/// (for fitted fractions; its coverage is nominal, so it claims none).
pub fn percentile_interval(point: f64, mut replicates: Vec<f64>) -> Estimate {
    replicates.retain(|x| x.is_finite());
    if replicates.is_empty() {
        return Estimate::exact(point);
    }
    replicates.sort_by(|a, b| a.total_cmp(b));
    Estimate {
        point,
        low: quantile_of_sorted(&replicates, 0.025),
        high: quantile_of_sorted(&replicates, 0.975),
        coverage: None,
    }
}

/// Outliers by Tukey's fences: mild beyond 1.5 IQR from the quartiles,
/// severe beyond 3 IQR. Counted, never dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Outliers {
    /// Between 1.5 and 3 IQR outside the quartiles.
    pub mild: usize,
    /// More than 3 IQR outside the quartiles.
    pub severe: usize,
}

impl Outliers {
    /// Both kinds.
    pub fn total(self) -> usize {
        self.mild + self.severe
    }
}

/// Classifies `values` by Tukey's fences. Fewer than 4 values have no
/// meaningful quartiles and count no outliers.
pub fn tukey_outliers(values: &[f64]) -> Outliers {
    if values.len() < 4 {
        return Outliers::default();
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let q1 = quantile_of_sorted(&sorted, 0.25);
    let q3 = quantile_of_sorted(&sorted, 0.75);
    let iqr = q3 - q1;
    let mut outliers = Outliers::default();
    for &v in &sorted {
        let distance = if v < q1 { q1 - v } else { v - q3 };
        if v < q1 || v > q3 {
            if distance > 3.0 * iqr {
                outliers.severe += 1;
            } else if distance > 1.5 * iqr {
                outliers.mild += 1;
            }
        }
    }
    outliers
}

/// Jain's fairness index of `values`.
pub fn jain_index(values: &[f64]) -> f64 {
    let sum: f64 = values.iter().sum();
    let squares: f64 = values.iter().map(|x| x * x).sum();
    if squares == 0.0 {
        1.0
    } else {
        sum * sum / (values.len() as f64 * squares)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jain_index_of_even_and_skewed_loads() {
        assert!((jain_index(&[5.0, 5.0, 5.0, 5.0]) - 1.0).abs() < 1e-12);
        assert!((jain_index(&[10.0, 0.0, 0.0, 0.0]) - 0.25).abs() < 1e-12);
    }

    #[test]
    fn medians_of_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn median_intervals_state_their_exact_binomial_coverage() {
        // [min, max] of n values covers the median 1 - 2 / 2^n of the time.
        for n in 2..12 {
            let exact = 1.0 - 2.0 / 2f64.powi(n as i32);
            assert!(
                (median_interval_coverage(n, 1) - exact).abs() < 1e-12,
                "n={n}"
            );
        }
        assert!((median_interval_coverage(5, 1) - 0.9375).abs() < 1e-12);
        assert!((median_interval_coverage(3, 1) - 0.75).abs() < 1e-12);
        let values = [10.0, 11.0, 9.5, 10.2, 10.8, 30.0, 9.9];
        let e = median_interval(&values).unwrap();
        assert_eq!(e.point, 10.2);
        // 7 values: [x(1), x(7)] covers 98.4%, [x(2), x(6)] 87.5%: the
        // narrowest reaching 95% is the whole range.
        assert_eq!((e.low, e.high), (9.5, 30.0));
        assert!((e.coverage.unwrap() - 126.0 / 128.0).abs() < 1e-12);
        let many: Vec<f64> = (0..20).map(f64::from).collect();
        let e = median_interval(&many).unwrap();
        assert!(e.coverage.unwrap() >= TARGET_COVERAGE && e.high - e.low < 19.0);
        assert_eq!(median_interval(&[3.0]).unwrap().coverage, None);
    }

    /// Simulates the coverage of an interval procedure on known data.
    fn simulated_coverage(trials: usize, hits: impl Fn(&mut fastrand::Rng) -> bool) -> f64 {
        let mut rng = fastrand::Rng::with_seed(7);
        (0..trials).filter(|_| hits(&mut rng)).count() as f64 / trials as f64
    }

    #[test]
    fn the_stated_coverage_is_the_real_one() {
        // Medians of 5 draws from a skewed (exponential) distribution,
        // whose median is ln 2.
        let stated = median_interval(&[1.0, 2.0, 3.0, 4.0, 5.0])
            .unwrap()
            .coverage
            .unwrap();
        let real = simulated_coverage(20_000, |rng| {
            let draws: Vec<f64> = (0..5).map(|_| -(rng.f64().max(1e-12)).ln()).collect();
            let e = median_interval(&draws).unwrap();
            e.low <= 2f64.ln() && e.high >= 2f64.ln()
        });
        assert!((real - stated).abs() < 0.01, "stated {stated}, real {real}");
    }

    #[test]
    fn ratio_intervals_are_exact_mann_whitney_intervals() {
        let t1 = [100.0, 101.0, 99.0, 100.5, 99.5];
        let t2 = [50.0, 50.5, 49.5, 50.2, 49.8];
        let s = ratio_interval(&t1, &t2).unwrap();
        assert!((s.point - 2.0).abs() < 0.01, "{s:?}");
        assert!(s.low < 2.0 && s.high > 2.0 && s.high - s.low < 0.1);
        // 5 against 5: P(U <= 2) = 4/252, so [d(3), d(23)] covers 96.8%.
        assert!((s.coverage.unwrap() - (1.0 - 8.0 / 252.0)).abs() < 1e-12);
        // 3 against 3: only the whole range reaches 90%.
        let s = ratio_interval(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]).unwrap();
        assert!((s.coverage.unwrap() - 0.9).abs() < 1e-12);
        assert!((s.low - 1.0 / 3.0).abs() < 1e-12 && (s.high - 3.0).abs() < 1e-12);
        let counts = mann_whitney_counts(5, 5);
        assert_eq!(counts.iter().sum::<f64>(), 252.0);
        assert_eq!(&counts[..5], &[1.0, 1.0, 2.0, 3.0, 5.0]);
    }

    #[test]
    fn an_a_a_ratio_interval_covers_one_as_often_as_it_says() {
        let stated = ratio_interval(&[1.0; 5], &[2.0; 5])
            .unwrap()
            .coverage
            .unwrap();
        let real = simulated_coverage(20_000, |rng| {
            let draw = |rng: &mut fastrand::Rng| 1.0 + rng.f64() * rng.f64();
            let a: Vec<f64> = (0..5).map(|_| draw(rng)).collect();
            let b: Vec<f64> = (0..5).map(|_| draw(rng)).collect();
            let e = ratio_interval(&a, &b).unwrap();
            e.low <= 1.0 && e.high >= 1.0
        });
        assert!(real >= stated - 0.01, "stated {stated}, real {real}");
    }

    #[test]
    fn tukey_counts_mild_and_severe() {
        let values = [10.0, 10.1, 10.2, 10.3, 10.4, 10.5, 10.6, 10.7, 12.0, 20.0];
        let outliers = tukey_outliers(&values);
        assert_eq!(outliers, Outliers { mild: 1, severe: 1 });
        assert_eq!(tukey_outliers(&[1.0, 100.0]).total(), 0);
    }
}
