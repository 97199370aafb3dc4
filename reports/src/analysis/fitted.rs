//! Every section's fitted laws per model, as data for scripts: the
//! parameters with their 95% intervals, the law the reading uses and the
//! F-test that chose it, the one ceiling, the peak with the counts it lies
//! between, and the reading's text. A report writes it as
//! `report/fits.json` ([`crate::export::FitsJson`]); `run --json` and
//! `report --json` carry the same under `fits`. The fields are documented
//! in `docs/results-folder.md`.

use serde::Serialize;

use super::views::{Law, LawChoice};
use super::{Analysis, ModelCurve, Section};
use crate::stats::Estimate;

/// The version of this file's layout.
pub const FITS_VERSION: u32 = 1;

/// The whole file.
#[derive(Debug, Clone, Serialize)]
pub struct FitsFile {
    /// [`FITS_VERSION`].
    pub fits_version: u32,
    /// One per report section, calibration left out.
    pub sections: Vec<SectionFits>,
}

/// One section's fits.
#[derive(Debug, Clone, Serialize)]
pub struct SectionFits {
    /// The section's anchor in `index.html`.
    pub section: String,
    /// Workload id.
    pub workload: String,
    /// The canonical spec.
    pub spec: String,
    /// `strong` or `weak`.
    pub scaling: String,
    /// `closed` or `open:RATE`.
    pub load: String,
    /// Placement strategy.
    pub placement: String,
    /// The largest worker count a projection reaches here.
    pub projection_max_n: u32,
    /// One per model.
    pub models: Vec<ModelFits>,
}

/// One model's fits within a section.
#[derive(Debug, Clone, Serialize)]
pub struct ModelFits {
    /// The model.
    pub model: String,
    /// The law the reading uses: `amdahl`, `usl` or `gustafson`; null
    /// when none was fitted (the reasons are in `not_fitted`).
    pub law: Option<Law>,
    /// Why that law, in words.
    pub law_why: Option<String>,
    /// The criterion that chose between Amdahl and the USL, where both
    /// were fitted.
    pub criterion: Option<Criterion>,
    /// Amdahl's law.
    pub amdahl: Option<AmdahlFits>,
    /// Gustafson's law (weak scaling).
    pub gustafson: Option<GustafsonFits>,
    /// The USL.
    pub usl: Option<UslFits>,
    /// The most speedup any number of workers gives, from the chosen law;
    /// null where the reading claims none.
    pub ceiling: Option<f64>,
    /// The worker count where throughput peaks; null where no peak is
    /// claimed (κ's interval includes 0, or Amdahl's law was chosen).
    pub peak_workers: Option<f64>,
    /// The measured counts the peak lies between; null for a peak beyond
    /// the data (a projection).
    pub peak_between: Option<[u32; 2]>,
    /// Whether the chosen law is drawn past the measured counts.
    pub projected: bool,
    /// Where the slope falls, and why: `workers` (the last count before
    /// it), `next_workers`, `slope_before` and `slope_after` (speedup per
    /// added worker), `cause` (`smt`, `socket`, `oversubscribed`,
    /// `blocked`, `shared_hardware`, `mixed` or `unknown`) and `text`.
    pub knees: Vec<super::views::Knee>,
    /// Why a law was not fitted, by law.
    pub not_fitted: Vec<NotFitted>,
    /// The reading's text, as the page prints it.
    pub reading: String,
}

/// The F-test of the USL against Amdahl's law on the same points.
#[derive(Debug, Clone, Serialize)]
pub struct Criterion {
    /// `f-test`.
    pub name: &'static str,
    /// F with 1 and points − 3 degrees of freedom.
    pub f_statistic: f64,
    /// The chance the USL fits this much better by noise alone; the USL
    /// is chosen below 0.05.
    pub p_value: f64,
}

/// Amdahl's law.
#[derive(Debug, Clone, Serialize)]
pub struct AmdahlFits {
    /// f with its 95% interval.
    pub serial_fraction: Estimate,
    /// Distinct worker counts it rests on.
    pub points: usize,
}

/// Gustafson's law.
#[derive(Debug, Clone, Serialize)]
pub struct GustafsonFits {
    /// f with its 95% interval.
    pub serial_fraction: Estimate,
    /// Distinct worker counts it rests on.
    pub points: usize,
}

/// The USL.
#[derive(Debug, Clone, Serialize)]
pub struct UslFits {
    /// Contention σ with its 95% interval.
    pub sigma: Estimate,
    /// Coherency κ with its 95% interval.
    pub kappa: Estimate,
    /// One worker's throughput λ, ops/s, with its 95% interval.
    pub lambda: Estimate,
    /// Distinct worker counts it rests on.
    pub points: usize,
    /// The peak its parameters give, claimed or not: sqrt((1 − σ)/κ).
    pub peak_workers_fitted: Option<f64>,
}

/// A law that was not fitted, and why.
#[derive(Debug, Clone, Serialize)]
pub struct NotFitted {
    /// `amdahl`, `gustafson` or `usl`.
    pub law: Law,
    /// Why.
    pub reason: String,
}

impl FitsFile {
    /// The fits of every section of `analysis`.
    pub fn of(analysis: &Analysis) -> FitsFile {
        FitsFile {
            fits_version: FITS_VERSION,
            sections: analysis
                .sections
                .iter()
                .filter(|s| !s.is_calibration())
                .map(section_fits)
                .collect(),
        }
    }
}

fn section_fits(section: &Section) -> SectionFits {
    SectionFits {
        section: section.id.clone(),
        workload: section.workload_id.clone(),
        spec: section.workload_spec.clone(),
        scaling: section.scaling.clone(),
        load: section.load.clone(),
        placement: section.placement.clone(),
        projection_max_n: section.projection_max_n,
        models: section.models.iter().map(model_fits).collect(),
    }
}

fn model_fits(curve: &ModelCurve) -> ModelFits {
    let mut not_fitted = Vec::new();
    let mut reason = |law: Law, reason: &Option<String>| {
        if let Some(reason) = reason {
            not_fitted.push(NotFitted {
                law,
                reason: reason.clone(),
            });
        }
    };
    reason(Law::Amdahl, &curve.amdahl.reason);
    reason(Law::Usl, &curve.usl.reason);
    if let Some(g) = &curve.gustafson {
        reason(Law::Gustafson, &g.reason);
    }
    let choice: Option<&LawChoice> = curve.law.as_ref();
    ModelFits {
        model: curve.model.clone(),
        law: choice.map(|c| c.law),
        law_why: choice.map(|c| c.why.clone()),
        criterion: choice.and_then(|c| c.criterion).map(|t| Criterion {
            name: "f-test",
            f_statistic: t.f_statistic,
            p_value: t.p_value,
        }),
        amdahl: curve.amdahl.fit.map(|a| AmdahlFits {
            serial_fraction: a.serial_fraction,
            points: a.fit.points,
        }),
        gustafson: curve
            .gustafson
            .as_ref()
            .and_then(|g| g.fit)
            .map(|g| GustafsonFits {
                serial_fraction: g.serial_fraction,
                points: g.fit.points,
            }),
        usl: curve.usl.fit.map(|u| UslFits {
            sigma: u.sigma_estimate(),
            kappa: u.kappa_estimate(),
            lambda: u.lambda_estimate(),
            points: u.points,
            peak_workers_fitted: u.peak_workers(),
        }),
        ceiling: curve.ceiling,
        peak_workers: curve.peak.map(|p| p.workers),
        peak_between: curve.peak.and_then(|p| p.between).map(|(a, b)| [a, b]),
        projected: curve.projectable,
        knees: curve.knees.clone(),
        not_fitted,
        reading: curve.reading.clone(),
    }
}
