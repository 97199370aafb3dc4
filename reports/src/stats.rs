//! Statistics over trials: medians, bootstrap confidence intervals, and
//! Tukey-fence outlier counts.
//!
//! Trials are few (5 by default) and their distribution is skewed (a noisy
//! machine only ever makes things slower), so every centre is a median and
//! every interval a percentile bootstrap of it. Resampling is seeded, so a
//! report rendered twice from the same folder says the same thing.

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

/// A point estimate with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Estimate {
    /// The estimate from the data as it is.
    pub point: f64,
    /// 2.5th percentile of the bootstrap distribution.
    pub low: f64,
    /// 97.5th percentile of the bootstrap distribution.
    pub high: f64,
}

impl Estimate {
    /// An estimate with no spread (a single observation).
    pub fn exact(point: f64) -> Self {
        Estimate {
            point,
            low: point,
            high: point,
        }
    }
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

/// The 95% percentile interval of a bootstrap distribution around `point`.
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
    }
}

/// The median of `values` with a bootstrap 95% interval.
pub fn bootstrap_median(values: &[f64]) -> Option<Estimate> {
    let point = median(values)?;
    if values.len() == 1 {
        return Some(Estimate::exact(point));
    }
    let mut rng = resampler();
    let mut sample = Vec::with_capacity(values.len());
    let replicates = (0..BOOTSTRAP_RESAMPLES)
        .map(|_| {
            resample_into(&mut rng, values, &mut sample);
            sample.sort_by(|a, b| a.total_cmp(b));
            median_of_sorted(&sample)
        })
        .collect();
    Some(percentile_interval(point, replicates))
}

/// The ratio of medians `median(numerator) / median(denominator)` with an
/// interval from resampling both sides independently.
pub fn bootstrap_ratio_of_medians(numerator: &[f64], denominator: &[f64]) -> Option<Estimate> {
    let point = median(numerator)? / median(denominator)?;
    let mut rng = resampler();
    let (mut top, mut bottom) = (Vec::new(), Vec::new());
    let replicates = (0..BOOTSTRAP_RESAMPLES)
        .map(|_| {
            resample_into(&mut rng, numerator, &mut top);
            resample_into(&mut rng, denominator, &mut bottom);
            median(&top).unwrap_or(f64::NAN) / median(&bottom).unwrap_or(f64::NAN)
        })
        .collect();
    Some(percentile_interval(point, replicates))
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
    fn bootstrap_interval_brackets_the_median_and_is_reproducible() {
        let values = [10.0, 11.0, 9.5, 10.2, 10.8, 30.0, 9.9];
        let a = bootstrap_median(&values).unwrap();
        let b = bootstrap_median(&values).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.point, 10.2);
        assert!(a.low <= a.point && a.point <= a.high);
        assert!(a.high < 30.0, "a median interval ignores the one outlier");
    }

    #[test]
    fn ratio_interval_contains_the_true_ratio() {
        let t1 = [100.0, 101.0, 99.0, 100.5, 99.5];
        let t2 = [50.0, 50.5, 49.5, 50.2, 49.8];
        let s = bootstrap_ratio_of_medians(&t1, &t2).unwrap();
        assert!((s.point - 2.0).abs() < 1e-9);
        assert!(s.low < 2.0 && s.high > 2.0 && s.high - s.low < 0.1);
    }

    #[test]
    fn tukey_counts_mild_and_severe() {
        let values = [10.0, 10.1, 10.2, 10.3, 10.4, 10.5, 10.6, 10.7, 12.0, 20.0];
        let outliers = tukey_outliers(&values);
        assert_eq!(outliers, Outliers { mild: 1, severe: 1 });
        assert_eq!(tukey_outliers(&[1.0, 100.0]).total(), 0);
    }
}
