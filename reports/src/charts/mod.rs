//! SVG charts of one report section, drawn with plotters' SVG backend.
//!
//! Five charts per section: speedup (with the ideal line, each model's
//! interval band and its fitted Amdahl curve projected past the measured
//! worker counts), efficiency, throughput, the latency spectrum (percentile
//! on a log 1/(1-p) axis, as HdrHistogram plots it) and per-worker load
//! balance. Each model has one colour in every chart, and a dashed vertical
//! line marks the core count, where oversubscription starts.

pub mod time;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::analysis::{Section, Spectrum};
pub use crate::error::ChartError;
use crate::format::{percentile_label, short_number, workers_label};
use crate::schema::Rgb;
use crate::variants::{VariantGroup, VariantLine};

/// Width and height of every chart, px.
const SIZE: (u32, u32) = (760, 430);
const FONT: &str = "sans-serif";

/// A chart's file name stem and SVG text.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Which chart: `speedup`, `efficiency`, `throughput`, `latency`, `balance`.
    pub kind: &'static str,
    /// Title, also the image's alt text.
    pub title: String,
    /// The SVG document.
    pub svg: String,
}

/// `#rrggbb` of a colour, for the pages' swatches.
pub fn hex(colour: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", colour.0, colour.1, colour.2)
}

/// A plotters colour from an [`Rgb`].
pub fn rgb((r, g, b): Rgb) -> RGBColor {
    RGBColor(r, g, b)
}

/// Every chart of a section.
pub fn section_charts(section: &Section, cores: u32) -> Result<Vec<Chart>, ChartError> {
    let name = &section.workload_spec;
    let x_max = section
        .models
        .iter()
        .flat_map(|m| m.points.iter().map(|p| p.n))
        .max()
        .unwrap_or(1)
        .max(2);
    let mut charts = vec![];
    // A scaling chart of single dots says nothing the table does not.
    if !section.single_point() {
        charts.extend([
            Chart {
                kind: "speedup",
                title: format!("Speedup vs workers: {name}"),
                svg: draw("speedup", |root| speedup_chart(root, section, cores))?,
            },
            Chart {
                kind: "efficiency",
                title: format!("Efficiency vs workers: {name}"),
                svg: draw("efficiency", |root| {
                    per_model_lines(
                        root,
                        section,
                        cores,
                        x_max,
                        "efficiency (speedup / workers)",
                        |p| p.efficiency,
                    )
                })?,
            },
            Chart {
                kind: "throughput",
                title: format!("Throughput vs workers: {name}"),
                svg: draw("throughput", |root| {
                    per_model_lines(root, section, cores, x_max, "throughput (ops/s)", |p| {
                        Some(p.throughput_ops_s.point)
                    })
                })?,
            },
        ]);
    }
    if !section.spectra.is_empty() {
        let open = section.spectra.iter().any(|s| s.uncorrected);
        charts.push(Chart {
            kind: "latency",
            title: if open {
                format!("Latency by percentile, from due times (dark) and from actual starts (pale, uncorrected), at each model's largest worker count: {name}")
            } else {
                format!("Latency by percentile at each model's largest worker count: {name}")
            },
            svg: draw("latency", |root| latency_chart(root, section))?,
        });
    }
    if section.models.iter().any(|m| !m.time_split.is_empty()) {
        charts.push(Chart {
            kind: "time",
            title: format!(
                "Where the workers' time went (user, system, waiting for a CPU, blocked): {name}"
            ),
            svg: draw("time", |root| time::time_chart(root, section))?,
        });
    }
    if !section.balance.is_empty() {
        charts.push(Chart {
            kind: "balance",
            title: format!("Ops per worker at each model's largest worker count: {name}"),
            svg: draw("balance", |root| balance_chart(root, section))?,
        });
    }
    Ok(charts)
}

pub(crate) type Root<'a> = DrawingArea<SVGBackend<'a>, Shift>;
pub(crate) type DrawResult = Result<(), Box<dyn std::error::Error + 'static>>;

pub(crate) fn draw(
    chart: &'static str,
    body: impl FnOnce(&Root<'_>) -> DrawResult,
) -> Result<String, ChartError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        let result = root
            .fill(&WHITE)
            .map_err(|e| e.to_string())
            .and_then(|_| body(&root).map_err(|e| e.to_string()))
            .and_then(|_| root.present().map_err(|e| e.to_string()));
        result.map_err(|message| ChartError { chart, message })?;
    }
    Ok(svg)
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
    // Room for the measurements and a view of where the fits head, without
    // letting a near-zero serial fraction's projection to 64x flatten them.
    let measured_max = section
        .models
        .iter()
        .flat_map(|m| m.points.iter().filter_map(|p| p.speedup.map(|s| s.high)))
        .fold(1.0f64, f64::max);
    let y_max = measured_max.max(f64::from(cores.max(1))).max(2.0) * 2.0;
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d((1f64..x_max).log_scale(), 0f64..y_max)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .x_desc("workers (log scale)")
        .y_desc("speedup T(1)/T(n)")
        .x_label_formatter(&workers_label)
        .label_style((FONT, 13))
        .draw()?;

    // Ideal: linear speedup up to the core count and flat after it for
    // CPU-bound work; waiting work keeps scaling past the cores.
    let io = !section.cpu_bound;
    let ideal: Vec<(f64, f64)> = log_steps(1.0, x_max)
        .map(|n| {
            (
                n,
                if io {
                    n
                } else {
                    n.min(f64::from(cores.max(1)))
                },
            )
        })
        .collect();
    chart
        .draw_series(DashedLineSeries::new(
            ideal,
            6,
            4,
            BLACK.mix(0.5).stroke_width(1),
        ))?
        .label(if io {
            "ideal (linear)"
        } else {
            "ideal (linear up to the cores)"
        })
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.5)));
    cores_marker(&mut chart, cores, y_max)?;

    for curve in &section.models {
        let colour = rgb(section.colour_of(&curve.model));
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
        chart
            .draw_series(LineSeries::new(
                measured.iter().map(|m| (m.0, m.1)),
                colour.stroke_width(2),
            ))?
            .label(curve.model.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
        chart.draw_series(
            measured
                .iter()
                .map(|m| Circle::new((m.0, m.1), 3, colour.filled())),
        )?;
        if let Some(amdahl) = curve.amdahl.fit.filter(|_| curve.projectable) {
            let projected: Vec<(f64, f64)> = log_steps(1.0, x_max)
                .map(|n| (n, amdahl.fit.speedup(n)))
                .take_while(|(_, s)| *s <= y_max)
                .collect();
            chart.draw_series(DashedLineSeries::new(
                projected,
                3,
                3,
                colour.mix(0.8).stroke_width(1),
            ))?;
        }
    }
    legend(&mut chart)
}

/// One line of a chart: a label, a colour, its points.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// Line colour.
    pub colour: RGBColor,
    /// (x, y) points, ascending x.
    pub points: Vec<(f64, f64)>,
}

fn per_model_lines(
    root: &Root<'_>,
    section: &Section,
    cores: u32,
    x_max: u32,
    y_desc: &str,
    value: impl Fn(&crate::analysis::CurvePoint) -> Option<f64>,
) -> DrawResult {
    let series: Vec<Series> = section
        .models
        .iter()
        .map(|curve| Series {
            label: curve.model.clone(),
            colour: rgb(section.colour_of(&curve.model)),
            points: curve
                .points
                .iter()
                .filter_map(|p| value(p).map(|v| (f64::from(p.n), v)))
                .collect(),
        })
        .collect();
    workers_lines(root, &series, cores, f64::from(x_max), y_desc)
}

/// Lines against workers on a log axis, with the core count marked.
fn workers_lines(
    root: &Root<'_>,
    series: &[Series],
    cores: u32,
    x_max: f64,
    y_desc: &str,
) -> DrawResult {
    let y_max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0f64, f64::max)
        .max(1e-9)
        * 1.15;
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d((1f64..x_max.max(2.0)).log_scale(), 0f64..y_max)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .x_desc("workers (log scale)")
        .y_desc(y_desc)
        .x_label_formatter(&workers_label)
        .y_label_formatter(&|y| short_number(*y))
        .label_style((FONT, 13))
        .draw()?;
    cores_marker(&mut chart, cores, y_max)?;
    for s in series.iter().filter(|s| !s.points.is_empty()) {
        let colour = s.colour;
        chart
            .draw_series(LineSeries::new(s.points.clone(), colour.stroke_width(2)))?
            .label(s.label.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
        chart.draw_series(s.points.iter().map(|p| Circle::new(*p, 3, colour.filled())))?;
    }
    legend(&mut chart)
}

fn latency_chart(root: &Root<'_>, section: &Section) -> DrawResult {
    let series: Vec<Series> = section
        .spectra
        .iter()
        .map(|spectrum| Series {
            label: format!(
                "{} ({} workers){}",
                spectrum.model,
                spectrum.workers,
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
            points: spectrum.points.clone(),
        })
        .collect();
    latency_lines(root, &series, OP_LATENCY_AXIS)
}

/// Latency spectra: x is 1/(1-p), y is latency in ns (drawn in µs), both
/// on log axes.
fn latency_lines(root: &Root<'_>, series: &[Series], y_desc: &str) -> DrawResult {
    let x_max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .fold(10.0f64, f64::max)
        .min(1e5)
        * 1.5;
    let (mut y_min, mut y_max) = (f64::INFINITY, 0.0f64);
    for point in series.iter().flat_map(|s| s.points.iter()) {
        y_min = y_min.min(point.1 / 1e3);
        y_max = y_max.max(point.1 / 1e3);
    }
    if !y_min.is_finite() {
        (y_min, y_max) = (1.0, 10.0);
    }
    let (y_min, y_max) = ((y_min * 0.8).max(1e-3), (y_max * 1.25).max(y_min * 2.0));
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d((1f64..x_max).log_scale(), (y_min..y_max).log_scale())?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .x_desc("percentile (axis is 1/(1-p), log scale)")
        .y_desc(y_desc)
        .x_label_formatter(&|x| percentile_label(*x))
        .y_label_formatter(&|y| short_number(*y))
        .label_style((FONT, 13))
        .draw()?;
    for s in series {
        let colour = s.colour;
        let line: Vec<(f64, f64)> = s.points.iter().map(|(x, ns)| (*x, ns / 1e3)).collect();
        chart
            .draw_series(LineSeries::new(line, colour.stroke_width(2)))?
            .label(s.label.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
    }
    legend(&mut chart)
}

/// A chart of lines against workers (log axis), as SVG.
pub fn workers_chart(series: &[Series], cores: u32, y_desc: &str) -> Result<String, ChartError> {
    let x_max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .fold(2.0f64, f64::max);
    draw("workers", |root| {
        workers_lines(root, series, cores, x_max, y_desc)
    })
}

/// The y axis of op latency spectra.
const OP_LATENCY_AXIS: &str = "latency of one op (us, log scale)";

/// A chart of op latency spectra, as SVG.
pub fn latency_chart_svg(series: &[Series]) -> Result<String, ChartError> {
    draw("latency", |root| {
        latency_lines(root, series, OP_LATENCY_AXIS)
    })
}

/// The charts of a group of specs side by side: op latency, then each
/// latency histogram the workload kept itself, one line per spec.
pub fn variant_charts(group: &VariantGroup) -> Result<Vec<Chart>, ChartError> {
    let cell = format!(
        "{} at {} worker{}",
        group.model,
        group.workers,
        if group.workers == 1 { "" } else { "s" }
    );
    let series = |pick: &dyn Fn(&VariantLine) -> Option<&Spectrum>| -> Vec<Series> {
        group
            .lines
            .iter()
            .enumerate()
            .filter_map(|(index, line)| {
                Some(Series {
                    label: line.label.clone(),
                    colour: config_colour(index),
                    points: pick(line)?.points.clone(),
                })
            })
            .collect()
    };
    let mut charts = vec![Chart {
        kind: "latency",
        title: format!(
            "Op latency by percentile, one line per spec, under {cell}: {}",
            group.workload_id
        ),
        svg: draw("latency", |root| {
            latency_lines(root, &series(&|l| l.op_spectrum.as_ref()), OP_LATENCY_AXIS)
        })?,
    }];
    for name in group.histogram_names() {
        let what = name.replace('_', " ");
        charts.push(Chart {
            kind: "workload-latency",
            title: format!(
                "{} by percentile, one line per spec, under {cell}: {}",
                capitalise(&what),
                group.workload_id
            ),
            svg: draw("workload-latency", |root| {
                latency_lines(
                    root,
                    &series(&|l| l.workload_spectra.get(&name)),
                    &format!("{what} (us, log scale)"),
                )
            })?,
        });
    }
    Ok(charts)
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map_or(String::new(), |c| c.to_uppercase().chain(chars).collect())
}

/// A distinct colour per configuration, in order.
pub fn config_colour(index: usize) -> RGBColor {
    const PALETTE: [RGBColor; 10] = [
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(255, 127, 14),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
    ];
    PALETTE[index % PALETTE.len()]
}

fn balance_chart(root: &Root<'_>, section: &Section) -> DrawResult {
    let x_max = section
        .balance
        .iter()
        .map(|b| b.ops.len())
        .max()
        .unwrap_or(1) as f64;
    let shares: Vec<(&crate::analysis::Balance, Vec<f64>)> = section
        .balance
        .iter()
        .map(|b| {
            let mean = b.ops.iter().sum::<u64>() as f64 / b.ops.len().max(1) as f64;
            let share = b
                .ops
                .iter()
                .map(|&o| if mean > 0.0 { o as f64 / mean } else { 0.0 })
                .collect();
            (b, share)
        })
        .collect();
    let y_max = shares
        .iter()
        .flat_map(|(_, s)| s.iter().copied())
        .fold(1.5f64, f64::max)
        * 1.1;
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(-0.5f64..(x_max - 0.5).max(0.5), 0f64..y_max)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .x_labels((x_max as usize).clamp(2, 16))
        .x_desc("worker index")
        .y_desc("ops / mean ops per worker")
        .x_label_formatter(&|x| {
            if (x - x.round()).abs() < 1e-6 {
                format!("{}", x.round() as i64)
            } else {
                String::new()
            }
        })
        .label_style((FONT, 13))
        .draw()?;
    chart.draw_series(DashedLineSeries::new(
        vec![(-0.5, 1.0), ((x_max - 0.5).max(0.5), 1.0)],
        6,
        4,
        BLACK.mix(0.4).stroke_width(1),
    ))?;
    for (balance, share) in &shares {
        let colour = rgb(section.colour_of(&balance.model));
        let points: Vec<(f64, f64)> = share
            .iter()
            .enumerate()
            .map(|(i, s)| (i as f64, *s))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?
            .label(format!(
                "{} ({} workers, Jain {:.3})",
                balance.model, balance.workers, balance.jain_index
            ))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
        chart.draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 3, colour.filled())),
        )?;
    }
    legend(&mut chart)
}

fn cores_marker<'a, X: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, RangedCoordf64>>,
    cores: u32,
    y_max: f64,
) -> DrawResult {
    let x = f64::from(cores.max(1));
    chart
        .draw_series(DashedLineSeries::new(
            vec![(x, 0.0), (x, y_max)],
            4,
            4,
            RED.mix(0.6).stroke_width(1),
        ))?
        .label(format!("{cores} cores: oversubscribed to the right"))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.mix(0.6)));
    Ok(())
}

pub(crate) fn legend<'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
) -> DrawResult {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font((FONT, 12))
        .draw()?;
    Ok(())
}

/// About 40 points per decade from `from` to `to`, for smooth curves on
/// a log axis.
fn log_steps(from: f64, to: f64) -> impl Iterator<Item = f64> {
    let steps = ((to / from).log10() * 40.0).ceil().max(1.0) as usize;
    (0..=steps).map(move |i| from * (to / from).powf(i as f64 / steps as f64))
}
