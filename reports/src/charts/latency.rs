//! Latency spectra: percentile on HdrHistogram's 1/(1-p) log axis against
//! latency on a log axis in human units; one line per model, spec or
//! configuration.

use plotters::prelude::*;

use super::{
    config_colour, config_marker, draw_markers, rgb, round_log_ticks, Chart, ChartError,
    DrawResult, LegendEntry, Root, Series, FONT, TEXT_PX,
};
use crate::analysis::{Section, Spectrum};
use crate::format::{duration_tick, percentile_label, workers_phrase};
use crate::variants::{VariantGroup, VariantLine};

/// The y axis of op latency spectra.
const OP_LATENCY_AXIS: &str = "latency of one op (log scale)";

/// Percentiles marked along each line (as 1/(1-p)): 50, 90, 99, 99.9.
const MARKED: [f64; 4] = [2.0, 10.0, 100.0, 1000.0];

pub(super) fn latency_chart(root: &Root<'_>, section: &Section) -> DrawResult {
    let series: Vec<Series> = section
        .spectra
        .iter()
        .map(|spectrum| {
            Series {
                label: format!(
                    "{} ({}){}",
                    spectrum.model,
                    workers_phrase(spectrum.workers),
                    if spectrum.uncorrected {
                        ", uncorrected"
                    } else {
                        ""
                    }
                ),
                // Uncorrected lines are the model's colour, washed out.
                colour: if spectrum.uncorrected {
                    let RGBColor(r, g, b) = rgb(section.colour_of(&spectrum.model));
                    let wash = |c: u8| ((u16::from(c) + 2 * 255) / 3) as u8;
                    RGBColor(wash(r), wash(g), wash(b))
                } else {
                    rgb(section.colour_of(&spectrum.model))
                },
                marker: section.marker_of(&spectrum.model),
                points: spectrum.points.clone(),
            }
        })
        .collect();
    latency_lines(root, &series, OP_LATENCY_AXIS)
}

/// Latency spectra: x is 1/(1-p), y is latency in ns, both on log axes.
/// Each line carries its marker at p50, p90, p99 and p99.9.
fn latency_lines(root: &Root<'_>, series: &[Series], y_desc: &str) -> DrawResult {
    let x_max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .fold(10.0f64, f64::max)
        .min(1e5)
        * 1.5;
    let (mut y_min, mut y_max) = (f64::INFINITY, 0.0f64);
    for point in series.iter().flat_map(|s| s.points.iter()) {
        y_min = y_min.min(point.1);
        y_max = y_max.max(point.1);
    }
    if !y_min.is_finite() {
        (y_min, y_max) = (1e3, 1e4);
    }
    let (y_min, y_max) = ((y_min * 0.8).max(1.0), (y_max * 1.25).max(y_min * 2.0));
    // 50%, then one label a decade: 90%, 99%, 99.9%, ...
    let percentiles: Vec<f64> = std::iter::once(2.0)
        .chain(std::iter::successors(Some(10.0f64), |x| Some(x * 10.0)))
        .take_while(|x| *x <= x_max)
        .collect();
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (1f64..x_max).log_scale().with_key_points(percentiles),
            (y_min..y_max)
                .log_scale()
                .with_key_points(round_log_ticks(y_min, y_max)),
        )?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .x_desc("percentile (axis is 1/(1-p), log scale)")
        .y_desc(y_desc)
        .x_label_formatter(&|x| percentile_label(*x))
        .y_label_formatter(&|y| duration_tick(*y))
        .label_style((FONT, TEXT_PX))
        .draw()?;
    let mut legend = Vec::new();
    for s in series {
        let (colour, marker) = (s.colour, s.marker);
        chart.draw_series(LineSeries::new(s.points.clone(), colour.stroke_width(2)))?;
        let marked = MARKED
            .iter()
            .filter_map(|x| s.points.iter().find(|p| p.0 >= *x * 0.999).copied());
        draw_markers(&mut chart, marked, marker, colour)?;
        legend.push(LegendEntry::series(s.label.clone(), colour, marker));
    }
    Ok(legend)
}

/// A chart of op latency spectra, as SVG.
pub fn latency_chart_svg(series: &[Series], title: &str) -> Result<String, ChartError> {
    super::draw("latency", title, |root| {
        latency_lines(root, series, OP_LATENCY_AXIS)
    })
}

/// The charts of a group of specs side by side: op latency, then each
/// latency histogram the workload kept itself, one line per spec.
pub fn variant_charts(group: &VariantGroup) -> Result<Vec<Chart>, ChartError> {
    let cell = format!("{} at {}", group.model, workers_phrase(group.workers));
    let series = |pick: &dyn Fn(&VariantLine) -> Option<&Spectrum>| -> Vec<Series> {
        group
            .lines
            .iter()
            .enumerate()
            .filter_map(|(index, line)| {
                Some(Series {
                    label: line.label.clone(),
                    colour: config_colour(index),
                    marker: config_marker(index),
                    points: pick(line)?.points.clone(),
                })
            })
            .collect()
    };
    let mut charts = vec![Chart::new(
        "latency",
        format!(
            "Op latency by percentile, one line per spec, under {cell}: {}",
            group.workload_id
        ),
        |root| latency_lines(root, &series(&|l| l.op_spectrum.as_ref()), OP_LATENCY_AXIS),
    )?];
    for name in group.histogram_names() {
        let what = name.replace('_', " ");
        charts.push(Chart::new(
            "workload-latency",
            format!(
                "{} by percentile, one line per spec, under {cell}: {}",
                capitalise(&what),
                group.workload_id
            ),
            |root| {
                latency_lines(
                    root,
                    &series(&|l| l.workload_spectra.get(&name)),
                    &format!("{what} (log scale)"),
                )
            },
        )?);
    }
    Ok(charts)
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map_or(String::new(), |c| c.to_uppercase().chain(chars).collect())
}
