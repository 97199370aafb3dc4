//! The charts of a comparison: each model's speedup and throughput
//! curves, one line per configuration in its own colour, and their latency
//! spectra at the largest worker count they all measured.

use super::{config_colour, config_marker, latency_chart_svg, workers_chart, CoresMark, Series};
use crate::compare::{CompareModel, Comparison};
use crate::error::ChartError;

/// The charts of one model across configurations.
pub fn comparison_charts(
    comparison: &Comparison,
    model: &CompareModel,
) -> Result<Vec<(&'static str, String, String)>, ChartError> {
    // Each configuration's own core count, in its own colour.
    let marks: Vec<CoresMark> = comparison
        .configs
        .iter()
        .enumerate()
        .filter(|(c, _)| model.curves.get(*c).is_some_and(Option::is_some))
        .map(|(c, config)| CoresMark {
            owner: config.name.clone(),
            cores: config.host.available_cores.len() as u32,
            colour: config_colour(c),
        })
        .collect();
    let series = |value: &dyn Fn(&crate::analysis::CurvePoint) -> Option<f64>| -> Vec<Series> {
        model
            .curves
            .iter()
            .enumerate()
            .filter_map(|(c, curve)| {
                let curve = curve.as_ref()?;
                Some(Series::of_curve(
                    comparison.configs[c].name.clone(),
                    config_colour(c),
                    config_marker(c),
                    &curve.points,
                    value,
                ))
            })
            .collect()
    };
    let speedup_title = format!("Speedup vs workers, {}", model.model);
    let throughput_title = format!("Throughput vs workers, {}", model.model);
    // Charts only where they compare something: two or more
    // configurations, each at two or more worker counts.
    let scaling = model
        .curves
        .iter()
        .flatten()
        .filter(|curve| curve.points.len() >= 2)
        .count()
        >= 2;
    let mut charts = vec![];
    if scaling {
        charts.extend([
            (
                "speedup",
                speedup_title.clone(),
                workers_chart(
                    &series(&|p| p.speedup.map(|s| s.point)),
                    &marks,
                    "speedup T(1)/T(n)",
                    &speedup_title,
                )?,
            ),
            (
                "throughput",
                throughput_title.clone(),
                workers_chart(
                    &series(&|p| Some(p.throughput_ops_s.point)),
                    &marks,
                    "throughput (ops/s)",
                    &throughput_title,
                )?,
            ),
        ]);
    }
    if let Some(n) = model.matched_workers {
        let spectra: Vec<Series> = model
            .spectra
            .iter()
            .enumerate()
            .filter_map(|(c, s)| {
                let s = s.as_ref()?;
                Some(Series {
                    label: comparison.configs[c].name.clone(),
                    colour: config_colour(c),
                    marker: config_marker(c),
                    points: s.points.clone(),
                })
            })
            .collect();
        if spectra.len() >= 2 {
            let title = format!(
                "Latency by percentile at {}, {}",
                crate::format::workers_phrase(n),
                model.model
            );
            charts.push((
                "latency",
                title.clone(),
                latency_chart_svg(&spectra, &title)?,
            ));
        }
    }
    Ok(charts)
}
