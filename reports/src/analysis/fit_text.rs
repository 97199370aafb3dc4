//! The fits in words, as the Fits tables of the page and of a comparison
//! print them: one ceiling and one peak per model, the chosen law's, and
//! none the reading refuses.

use super::laws::interval_text;
use super::views::{Law, ModelCurve};
use crate::format::format_rate;

impl ModelCurve {
    /// Amdahl's fraction with its interval, its counts and the ceiling the
    /// reading claims from it, or why it was not fitted.
    pub fn amdahl_text(&self) -> String {
        match (&self.amdahl.fit, &self.amdahl.reason) {
            (Some(a), _) => format!(
                "f = {} from {} worker counts; ceiling {}",
                interval_text(a.serial_fraction),
                a.fit.points,
                match (self.ceiling, self.law.as_ref().map(|c| c.law)) {
                    (Some(c), Some(Law::Amdahl)) => format!("{c:.1}x"),
                    _ => "none claimed".to_string(),
                }
            ),
            (None, reason) => reason.clone().unwrap_or_default(),
        }
    }

    /// The USL's parameters with their intervals and the peak the reading
    /// claims, or why it was not fitted.
    pub fn usl_text(&self) -> String {
        let Some(u) = &self.usl.fit else {
            return self.usl.reason.clone().unwrap_or_default();
        };
        let (sigma, kappa, lambda) = match u.intervals {
            Some(i) => (
                interval_text(i.sigma),
                i.kappa.map_or(format!("{:.6}", u.kappa), interval_text),
                format!(
                    "{}/s [{}, {}]",
                    format_rate(u.lambda),
                    format_rate(i.lambda.low),
                    format_rate(i.lambda.high)
                ),
            ),
            None => (
                format!("{:.4}", u.sigma),
                format!("{:.6}", u.kappa),
                format!("{}/s", format_rate(u.lambda)),
            ),
        };
        format!(
            "σ = {sigma}, κ = {kappa}, λ = {lambda}, peak {} ({} worker counts)",
            self.peak.map_or("none claimed".to_string(), |p| format!(
                "n* = {:.1}",
                p.workers
            )),
            u.points
        )
    }
}
