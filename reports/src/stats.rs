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

/// The smallest and largest of `values`; `None` when there are none.
pub fn range(values: &[f64]) -> Option<(f64, f64)> {
    let low = values.iter().copied().reduce(f64::min)?;
    let high = values.iter().copied().reduce(f64::max)?;
    Some((low, high))
}

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
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

/// The chances of 0..=n heads in n fair coin tosses, summed from the left:
/// `cdf[i] = P(X <= i)` for X ~ Binomial(n, 1/2). Built in log space, so
/// thousands of trials neither overflow nor cost more than O(n).
fn binomial_half_cdf(n: usize) -> Vec<f64> {
    let mut log_pmf = -(n as f64) * std::f64::consts::LN_2;
    let mut total = 0.0;
    let mut cdf = Vec::with_capacity(n + 1);
    for i in 0..=n {
        if i > 0 {
            log_pmf += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        total += log_pmf.exp();
        cdf.push(total.min(1.0));
    }
    cdf
}

/// The coverage of `[x_(j), x_(n+1-j)]` (1-based order statistics) for
/// the median of n values: the chance that between j and n-j of them fall
/// below it, `sum_{i=j}^{n-j} C(n, i) / 2^n`.
pub fn median_interval_coverage(n: usize, j: usize) -> f64 {
    if j == 0 || 2 * j > n {
        return 0.0;
    }
    let cdf = binomial_half_cdf(n);
    (cdf[n - j] - cdf[j - 1]).max(0.0)
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
    let cdf = binomial_half_cdf(n);
    let coverage = |j: usize| (cdf[n - j] - cdf[j - 1]).max(0.0);
    let j = (1..=n / 2)
        .rev()
        .find(|&j| coverage(j) >= TARGET_COVERAGE)
        .unwrap_or(1);
    Some(Estimate {
        point,
        low: sorted[j - 1],
        high: sorted[n - j],
        coverage: Some(coverage(j)),
    })
}

/// Up to this many pairs (m n), the Mann–Whitney null distribution is
/// counted exactly; beyond it, its normal approximation is used, which is
/// within a fraction of a percent there and costs nothing. The exact count
/// takes O(m n (m n)) time and O(n m n) memory: at 1000 against 1000 trials
/// that would be hours and gigabytes.
pub const EXACT_MANN_WHITNEY_PAIRS: usize = 2500;

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

/// The widest-coverage cut `c` whose interval `[d_(c+1), d_(mn-c)]` still
/// covers at least [`TARGET_COVERAGE`], with that coverage
/// (`1 - 2 P(U <= c)`); `c = 0` (every pair) with its coverage when none
/// does.
fn mann_whitney_cut(m: usize, n: usize) -> (usize, f64) {
    let pairs = m * n;
    if pairs > EXACT_MANN_WHITNEY_PAIRS {
        // U ~ N(mn/2, mn(m+n+1)/12), with a continuity correction.
        let mean = pairs as f64 / 2.0;
        let sd = (pairs as f64 * (m + n + 1) as f64 / 12.0).sqrt();
        let at_most = |c: usize| 0.5 * libm::erfc(-((c as f64 + 0.5 - mean) / sd) / 2f64.sqrt());
        let z = 1.959_963_984_540_054;
        let mut c = (mean - 0.5 - z * sd).floor().max(0.0) as usize;
        while c > 0 && 1.0 - 2.0 * at_most(c) < TARGET_COVERAGE {
            c -= 1;
        }
        while 1.0 - 2.0 * at_most(c + 1) >= TARGET_COVERAGE {
            c += 1;
        }
        return (c, 1.0 - 2.0 * at_most(c));
    }
    let counts = mann_whitney_counts(m, n);
    let total: f64 = counts.iter().sum();
    let mut below = 0.0;
    let mut best = (0, 1.0 - 2.0 * counts[0] / total);
    for (c, count) in counts.iter().enumerate().take(pairs.div_ceil(2)) {
        below += count;
        let coverage = 1.0 - 2.0 * below / total;
        if coverage >= TARGET_COVERAGE {
            best = (c, coverage);
        } else {
            break;
        }
    }
    best
}

/// The k-th smallest (1-based) of all differences `a_i - b_j` of two
/// ascending samples, without listing the m n of them: a bisection over
/// the floats in order, each step counting the differences at or below a
/// value in O(m + n). About 64 steps: exact, and linear in memory.
fn kth_difference(a: &[f64], b: &[f64], k: usize) -> f64 {
    // Count of a_i - b_j <= t. For fixed i the pairs that satisfy it are a
    // suffix of b, and that suffix only shrinks as a_i grows.
    let at_most = |t: f64| {
        let mut j = 0;
        let mut count = 0;
        for &x in a {
            while j < b.len() && x - b[j] > t {
                j += 1;
            }
            count += b.len() - j;
        }
        count
    };
    // Floats in order as unsigned integers (sign-magnitude to offset).
    let key = |x: f64| {
        let bits = x.to_bits();
        if bits >> 63 == 1 {
            !bits
        } else {
            bits | 1 << 63
        }
    };
    let value = |k: u64| {
        if k >> 63 == 1 {
            f64::from_bits(k & !(1 << 63))
        } else {
            f64::from_bits(!k)
        }
    };
    let (mut low, mut high) = (key(a[0] - b[b.len() - 1]), key(a[a.len() - 1] - b[0]));
    while low < high {
        let middle = low + (high - low) / 2;
        if at_most(value(middle)) >= k {
            high = middle;
        } else {
            low = middle + 1;
        }
    }
    value(low)
}

/// The ratio `numerator / denominator` of two sets of positive trials:
/// the Hodges–Lehmann estimate (the median of all pairwise ratios, taken
/// on logs) with the exact Mann–Whitney interval of the widest coverage
/// at least [`TARGET_COVERAGE`], or of all pairwise ratios with the
/// coverage it has when no narrower one reaches it. Beyond
/// [`EXACT_MANN_WHITNEY_PAIRS`] the coverage comes from the normal
/// approximation; the estimate and the ends are always exact order
/// statistics.
pub fn ratio_interval(numerator: &[f64], denominator: &[f64]) -> Option<Estimate> {
    let (m, n) = (numerator.len(), denominator.len());
    if m == 0 || n == 0 || numerator.iter().chain(denominator).any(|x| *x <= 0.0) {
        return None;
    }
    let sorted_logs = |values: &[f64]| {
        let mut logs: Vec<f64> = values.iter().map(|x| x.ln()).collect();
        logs.sort_by(|a, b| a.total_cmp(b));
        logs
    };
    let (a, b) = (sorted_logs(numerator), sorted_logs(denominator));
    let pairs = m * n;
    let kth = |k: usize| kth_difference(&a, &b, k);
    let point = if pairs % 2 == 1 {
        kth(pairs.div_ceil(2))
    } else {
        (kth(pairs / 2) + kth(pairs / 2 + 1)) / 2.0
    }
    .exp();
    if pairs == 1 {
        return Some(Estimate::exact(point));
    }
    let (c, coverage) = mann_whitney_cut(m, n);
    Some(Estimate {
        point,
        low: kth(c + 1).exp(),
        high: kth(pairs - c).exp(),
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
    fn the_kth_difference_is_the_kth_of_all_pairs_listed() {
        let mut rng = fastrand::Rng::with_seed(3);
        for _ in 0..200 {
            let draw = |rng: &mut fastrand::Rng, len: usize| {
                let mut v: Vec<f64> = (0..len)
                    .map(|_| (rng.u8(0..6) as f64 - 2.5) * rng.f64().max(0.5))
                    .collect();
                v.sort_by(|x, y| x.total_cmp(y));
                v
            };
            let (m, n) = (rng.usize(1..12), rng.usize(1..12));
            let (a, b) = (draw(&mut rng, m), draw(&mut rng, n));
            let mut all: Vec<f64> = a
                .iter()
                .flat_map(|x| b.iter().map(move |y| x - y))
                .collect();
            all.sort_by(|x, y| x.total_cmp(y));
            for k in 1..=all.len() {
                assert_eq!(kth_difference(&a, &b, k), all[k - 1], "{a:?} {b:?} k={k}");
            }
        }
    }

    #[test]
    fn thousands_of_trials_get_exact_order_statistics_in_linear_memory() {
        // A folder of many repeated runs puts thousands of trials in one
        // cell: every pairwise ratio, or the exact null distribution, would
        // take gigabytes. The estimate and its ends must still be the exact
        // order statistics of the pairwise log ratios.
        let mut rng = fastrand::Rng::with_seed(11);
        let a: Vec<f64> = (0..3000).map(|_| 100.0 + rng.f64() * 10.0).collect();
        let b: Vec<f64> = (0..2500).map(|_| 50.0 + rng.f64() * 5.0).collect();
        let e = ratio_interval(&a, &b).unwrap();
        // Brute force on a thinned copy is too coarse; check instead that
        // the ends bracket the point and that the stated counts hold.
        let below = |t: f64| {
            a.iter()
                .flat_map(|x| b.iter().map(move |y| x.ln() - y.ln()))
                .filter(|d| *d < t.ln())
                .count()
        };
        let pairs = a.len() * b.len();
        assert!(e.low < e.point && e.point < e.high, "{e:?}");
        let (at_low, at_point) = (below(e.low), below(e.point));
        assert!(
            at_point <= pairs / 2 && pairs / 2 - at_point <= 1,
            "{at_point}"
        );
        let coverage = e.coverage.unwrap();
        assert!((0.95..0.951).contains(&coverage), "{coverage}");
        // The normal approximation of U's null: P(U <= c) about 2.5%.
        let expected_c = pairs as f64 / 2.0
            - 1.959964 * (pairs as f64 * (a.len() + b.len() + 1) as f64 / 12.0).sqrt();
        assert!(
            (at_low as f64 - expected_c).abs() < 2.0,
            "{at_low} vs {expected_c}"
        );

        let many: Vec<f64> = (0..5000).map(f64::from).collect();
        let m = median_interval(&many).unwrap();
        assert!(m.coverage.unwrap() >= TARGET_COVERAGE, "{m:?}");
        assert!(m.high - m.low < 200.0, "{m:?}");
        assert!((median_interval_coverage(5000, 2431) - 0.95).abs() < 0.01);
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
