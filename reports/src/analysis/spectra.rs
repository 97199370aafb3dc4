//! Latency spectra (each op's latency by percentile, from the trials'
//! merged histograms) and the balance of work over workers.

use crate::schema::{Record, Status};

use super::views::{Balance, Spectrum};

/// Merges the ok trials' histograms into one spectrum.
pub fn spectrum(model: &str, n: u32, trials: &[&Record]) -> Option<Spectrum> {
    merged_spectrum(model, n, trials, |r| r.histogram.as_ref(), false)
}

/// Under open load, the spectrum from each op's actual start.
pub fn uncorrected_spectrum(model: &str, n: u32, trials: &[&Record]) -> Option<Spectrum> {
    merged_spectrum(
        model,
        n,
        trials,
        |r| r.open_loop.as_ref()?.uncorrected_histogram.as_ref(),
        true,
    )
}

fn merged_spectrum(
    model: &str,
    n: u32,
    trials: &[&Record],
    histogram_of: impl Fn(&Record) -> Option<&String>,
    uncorrected: bool,
) -> Option<Spectrum> {
    let merged = merged_histogram(trials, histogram_of)?;
    Some(spectrum_of(model, n, &merged, uncorrected))
}

/// The ok trials' histograms (the one `histogram_of` picks) merged; `None`
/// when none has a value.
pub fn merged_histogram(
    trials: &[&Record],
    histogram_of: impl Fn(&Record) -> Option<&String>,
) -> Option<hdrhistogram::Histogram<u64>> {
    let mut merged: Option<hdrhistogram::Histogram<u64>> = None;
    for record in trials.iter().filter(|r| r.status == Status::Ok) {
        let Some(encoded) = histogram_of(record) else {
            continue;
        };
        let Ok(histogram) = crate::histogram::decode(encoded) else {
            continue;
        };
        match &mut merged {
            Some(m) => {
                let _ = m.add(&histogram);
            }
            None => merged = Some(histogram),
        }
    }
    merged.filter(|h| !h.is_empty())
}

/// The spectrum of one histogram: (1/(1-p), latency ns) points.
pub fn spectrum_of(
    model: &str,
    n: u32,
    merged: &hdrhistogram::Histogram<u64>,
    uncorrected: bool,
) -> Spectrum {
    let points = merged
        .iter_quantiles(4)
        .map(|v| (v.quantile_iterated_to(), v.value_iterated_to() as f64))
        .filter(|(q, _)| *q < 0.99999)
        .map(|(q, value)| (1.0 / (1.0 - q), value.max(1.0)))
        .collect();
    Spectrum {
        model: model.to_string(),
        workers: n,
        points,
        uncorrected,
    }
}

/// Per-worker ops of the trial with the median wall time; `None` when
/// the record does not count its workers' ops one by one (a program run
/// by `corebench exec` is one process, whatever its worker count).
pub(super) fn balance_of(model: &str, n: u32, trials: &[&Record]) -> Option<Balance> {
    let mut ok: Vec<&Record> = trials
        .iter()
        .copied()
        .filter(|r| r.status == Status::Ok)
        .collect();
    ok.sort_by_key(|r| r.wall_ns);
    let middle = ok.get(ok.len() / 2)?;
    if n < 2 || middle.per_worker.len() != n as usize {
        return None;
    }
    let mut workers = middle.per_worker.clone();
    workers.sort_by_key(|w| w.index);
    let ops: Vec<u64> = workers.iter().map(|w| w.ops).collect();
    Some(Balance {
        model: model.to_string(),
        workers: n,
        // The record's own, computed when the trial was recorded (older
        // records did not keep it).
        jain_index: middle
            .fairness
            .clone()
            .or_else(|| crate::schema::Fairness::of_worker_ops(&ops))?
            .jain_index,
        ops,
    })
}
