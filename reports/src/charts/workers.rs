//! Charts against the worker count (log axis): speedup with the ideal
//! line, interval bands and projected fits; efficiency; throughput; and
//! the same lines for a comparison's configurations.

use plotters::coord::combinators::{LogCoord, WithKeyPoints};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::{
    draw_markers, log_steps, rgb, worker_ticks, Chart, ChartError, DrawResult, LegendEntry, Root,
    FONT, TEXT_PX,
};
use crate::analysis::{CurvePoint, ModelCurve, Section};
use crate::format::{short_number, workers_label};
use crate::series::Marker;

/// One line of a chart: a label, a colour, a marker, its points.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// Line colour.
    pub colour: RGBColor,
    /// Point marker.
    pub marker: Marker,
    /// (x, y) points, ascending x.
    pub points: Vec<(f64, f64)>,
}

/// A dashed vertical line at a core count: oversubscription starts there.
#[derive(Debug, Clone)]
pub struct CoresMark {
    /// Whose cores (empty on a report, a configuration on a comparison).
    pub owner: String,
    /// The core count.
    pub cores: u32,
    /// Line colour.
    pub colour: RGBColor,
}

impl CoresMark {
    /// The report's one mark, in red.
    pub fn of_run(cores: u32) -> Vec<CoresMark> {
        vec![CoresMark {
            owner: String::new(),
            cores,
            colour: RGBColor(180, 40, 40),
        }]
    }
}

/// Speedup, efficiency and throughput of a section; none when no model
/// was measured at two or more worker counts (single dots say nothing the
/// table does not).
pub(super) fn scaling_charts(section: &Section, cores: u32) -> Result<Vec<Chart>, ChartError> {
    if section.single_point() {
        return Ok(Vec::new());
    }
    let name = &section.workload_spec;
    let marks = CoresMark::of_run(cores);
    Ok(vec![
        Chart::new("speedup", format!("Speedup vs workers: {name}"), |root| {
            speedup_chart(root, section, cores)
        })?,
        Chart::new(
            "efficiency",
            format!("Efficiency vs workers: {name}"),
            |root| {
                workers_lines(
                    root,
                    &model_series(section, |p| p.efficiency),
                    &[],
                    &marks,
                    "efficiency (speedup / workers)",
                )
            },
        )?,
        Chart::new(
            "throughput",
            format!("Throughput vs workers: {name}"),
            |root| {
                workers_lines(
                    root,
                    &model_series(section, |p| Some(p.throughput_ops_s.point)),
                    &law_throughputs(section),
                    &marks,
                    "throughput (ops/s)",
                )
            },
        )?,
    ])
}

impl Series {
    /// The line of `value` at each of a curve's worker counts.
    pub fn of_curve(
        label: String,
        colour: RGBColor,
        marker: Marker,
        points: &[CurvePoint],
        value: impl Fn(&CurvePoint) -> Option<f64>,
    ) -> Series {
        Series {
            label,
            colour,
            marker,
            points: points
                .iter()
                .filter_map(|p| value(p).map(|v| (f64::from(p.n), v)))
                .collect(),
        }
    }
}

/// A plot with workers on a log x axis up to `x_max` (labelled at powers
/// of two and the `measured` counts) and `y_desc` from 0 to `y_max`.
fn workers_axes<'a, 'b>(
    root: &'a Root<'b>,
    x_max: f64,
    measured: impl Iterator<Item = f64>,
    marks: &[CoresMark],
    y_max: f64,
    y_desc: &str,
    y_label: &dyn Fn(&f64) -> String,
) -> Result<WorkersChart<'a, 'b>, Box<dyn std::error::Error + 'static>> {
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (1f64..x_max).log_scale().with_key_points(worker_ticks(
                x_max,
                measured,
                &marks.iter().map(|m| f64::from(m.cores)).collect::<Vec<_>>(),
            )),
            0f64..y_max,
        )?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .y_labels(8)
        .x_desc("workers (log scale)")
        .y_desc(y_desc)
        .x_label_formatter(&|x| workers_label(x))
        .y_label_formatter(y_label)
        .label_style((FONT, TEXT_PX))
        .draw()?;
    Ok(chart)
}

type WorkersChart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<WithKeyPoints<LogCoord<f64>>, RangedCoordf64>>;

/// One series per model of `value` at each measured worker count.
fn model_series(section: &Section, value: impl Fn(&CurvePoint) -> Option<f64>) -> Vec<Series> {
    section
        .models
        .iter()
        .map(|curve| {
            Series::of_curve(
                curve.model.clone(),
                rgb(section.colour_of(&curve.model)),
                section.marker_of(&curve.model),
                &curve.points,
                &value,
            )
        })
        .collect()
}

fn speedup_chart(root: &Root<'_>, section: &Section, cores: u32) -> DrawResult {
    // The axis ends near the largest measured count, or where a projection
    // is drawn to.
    let measured_n = section
        .models
        .iter()
        .flat_map(|m| m.points.iter().map(|p| p.n))
        .max()
        .unwrap_or(1);
    let projecting = section.models.iter().any(|m| m.projectable);
    let x_max = f64::from(
        if projecting {
            section.projection_max_n
        } else {
            measured_n
        }
        .max(2),
    );
    // Ideal: linear up to the core count and flat after it for CPU-bound
    // work; waiting work keeps scaling past the cores.
    let io = !section.cpu_bound;
    let ideal_at = |n: f64| {
        if io {
            n
        } else {
            n.min(f64::from(cores.max(1)))
        }
    };
    // The axis ends near the data: the highest interval end. An ideal
    // line or a projection heading higher is cut at the top, which shows
    // how far above the data they are without flattening it.
    let y_max = (section
        .models
        .iter()
        .flat_map(|m| m.points.iter().filter_map(|p| p.speedup.map(|s| s.high)))
        .fold(1.0f64, f64::max)
        * 1.25)
        .max(2.0);
    let mut chart = workers_axes(
        root,
        x_max,
        section
            .models
            .iter()
            .flat_map(|m| m.points.iter().map(|p| f64::from(p.n))),
        &CoresMark::of_run(cores),
        y_max,
        "speedup T(1)/T(n)",
        &|y| format!("{y:.1}"),
    )?;

    let grey = RGBColor(120, 120, 120);
    chart.draw_series(DashedLineSeries::new(
        log_steps(1.0, x_max)
            .map(|n| (n, ideal_at(n)))
            .take_while(|(_, s)| *s <= y_max)
            .collect::<Vec<_>>(),
        6,
        4,
        grey.stroke_width(1),
    ))?;
    let mut legend = vec![LegendEntry::dashed(
        if io {
            "ideal (linear)"
        } else {
            "ideal (linear up to the cores)"
        },
        grey,
    )];
    legend.extend(cores_marks(&mut chart, &CoresMark::of_run(cores), y_max)?);

    for curve in &section.models {
        let colour = rgb(section.colour_of(&curve.model));
        let marker = section.marker_of(&curve.model);
        let measured: Vec<(f64, f64, f64, f64)> = curve
            .points
            .iter()
            .filter_map(|p| p.speedup.map(|s| (f64::from(p.n), s.point, s.low, s.high)))
            .collect();
        if measured.is_empty() {
            continue;
        }
        if measured.len() > 1 {
            let mut band: Vec<(f64, f64)> = measured.iter().map(|m| (m.0, m.3)).collect();
            band.extend(measured.iter().rev().map(|m| (m.0, m.2)));
            chart.draw_series(std::iter::once(Polygon::new(band, colour.mix(0.15))))?;
        }
        chart.draw_series(LineSeries::new(
            measured.iter().map(|m| (m.0, m.1)),
            colour.stroke_width(2),
        ))?;
        draw_markers(
            &mut chart,
            measured.iter().map(|m| (m.0, m.1)),
            marker,
            colour,
        )?;
        legend.push(LegendEntry::series(curve.model.clone(), colour, marker));
        if let Some(projected) = projected_speedups(curve, x_max, y_max) {
            chart.draw_series(DashedLineSeries::new(
                projected,
                3,
                3,
                colour.mix(0.8).stroke_width(1),
            ))?;
        }
    }
    Ok(legend)
}

/// The chosen law's speedups from 1 to `x_max` workers, cut where they
/// leave the chart; `None` when its reading projects nothing.
fn projected_speedups(curve: &ModelCurve, x_max: f64, y_max: f64) -> Option<Vec<(f64, f64)>> {
    let projected: Vec<(f64, f64)> = log_steps(1.0, x_max)
        .map_while(|n| Some((n, curve.law_speedup(n)?)))
        .take_while(|(_, s)| *s <= y_max)
        .collect();
    (!projected.is_empty()).then_some(projected)
}

/// Each model's chosen law as throughput over the measured counts, in its
/// colour: the fitted curve beside the measured one.
fn law_throughputs(section: &Section) -> Vec<(RGBColor, Vec<(f64, f64)>)> {
    let x_max = f64::from(
        section
            .models
            .iter()
            .flat_map(|m| m.points.iter().map(|p| p.n))
            .max()
            .unwrap_or(1),
    );
    section
        .models
        .iter()
        .filter_map(|curve| {
            let base = curve.base_throughput_ops_s()?;
            let line: Vec<(f64, f64)> = log_steps(1.0, x_max.max(2.0))
                .map_while(|n| Some((n, curve.law_speedup(n)? * base)))
                .collect();
            (!line.is_empty()).then(|| (rgb(section.colour_of(&curve.model)), line))
        })
        .collect()
}

/// Lines against workers on a log axis, with the core counts marked and
/// `laws` (fitted curves) thin and dashed.
fn workers_lines(
    root: &Root<'_>,
    series: &[Series],
    laws: &[(RGBColor, Vec<(f64, f64)>)],
    marks: &[CoresMark],
    y_desc: &str,
) -> DrawResult {
    let x_max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .fold(2.0f64, f64::max);
    let y_max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0f64, f64::max)
        .max(1e-9)
        * 1.15;
    let mut chart = workers_axes(
        root,
        x_max,
        series.iter().flat_map(|s| s.points.iter().map(|p| p.0)),
        marks,
        y_max,
        y_desc,
        &|y| short_number(*y),
    )?;
    let mut legend = cores_marks(&mut chart, marks, y_max)?;
    for s in series.iter().filter(|s| !s.points.is_empty()) {
        let (colour, marker) = (s.colour, s.marker);
        chart.draw_series(LineSeries::new(s.points.clone(), colour.stroke_width(2)))?;
        draw_markers(&mut chart, s.points.iter().copied(), marker, colour)?;
        legend.push(LegendEntry::series(s.label.clone(), colour, marker));
    }
    for (colour, line) in laws {
        chart.draw_series(DashedLineSeries::new(
            line.iter().copied().filter(|(_, y)| *y <= y_max),
            3,
            3,
            colour.mix(0.8).stroke_width(1),
        ))?;
    }
    if !laws.is_empty() {
        legend.push(LegendEntry::dashed(
            "each model's chosen law, fitted",
            RGBColor(120, 120, 120),
        ));
    }
    Ok(legend)
}

/// A chart of lines against workers (log axis), as SVG, with a core-count
/// mark per configuration.
pub fn workers_chart(
    series: &[Series],
    marks: &[CoresMark],
    y_desc: &str,
    title: &str,
) -> Result<String, ChartError> {
    super::draw("workers", title, |root| {
        workers_lines(root, series, &[], marks, y_desc)
    })
}

/// Dashed vertical lines at each distinct core count; one legend entry
/// per mark.
fn cores_marks<'a, 'b, X: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, Cartesian2d<X, RangedCoordf64>>,
    marks: &[CoresMark],
    y_max: f64,
) -> Result<Vec<LegendEntry>, Box<dyn std::error::Error + 'static>> {
    let mut legend = Vec::new();
    for mark in marks {
        let x = f64::from(mark.cores.max(1));
        chart.draw_series(DashedLineSeries::new(
            vec![(x, 0.0), (x, y_max)],
            4,
            4,
            mark.colour.stroke_width(1),
        ))?;
        let cores = if mark.cores == 1 {
            "1 core".to_string()
        } else {
            format!("{} cores", mark.cores)
        };
        legend.push(LegendEntry::dashed(
            if mark.owner.is_empty() {
                format!("{cores}: oversubscribed to the right")
            } else {
                format!("{}: {cores}", mark.owner)
            },
            mark.colour,
        ));
    }
    Ok(legend)
}
