//! SVG charts of one report section, drawn with plotters' SVG backend.
//!
//! Per section: speedup (with the ideal line, each model's interval band
//! and its fitted Amdahl curve projected past the measured worker counts),
//! efficiency and throughput (only when some model was measured at two or
//! more worker counts), the latency spectrum (percentile on a log
//! 1/(1-p) axis, as HdrHistogram plots it), where the workers' time went,
//! and per-worker balance as bars. The rules every chart keeps:
//!
//! - each series has a colour from a colour-blind-safe palette *and* a
//!   marker shape or dash, the same in every chart ([`crate::series`]);
//! - the legend sits in a panel of its own beside the plot, in type that
//!   stays 12 px or more when the page shows the chart about 660 px wide;
//! - log axes label only 1, 2 and 5 times a power of ten (workers: powers
//!   of two; percentiles: 50%, 90%, 99%, ...), so labels never collide;
//!   durations read in µs, ms or s through [`crate::format`];
//! - every SVG carries a `<title>`, so a file opened on its own says what
//!   it shows.

pub mod balance;
pub mod compare;
pub mod latency;
pub mod time;
pub mod workers;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::analysis::Section;
pub use crate::error::ChartError;
use crate::series::{Marker, Rgb, MARKERS};
pub use latency::{latency_chart_svg, variant_charts};
pub use workers::{workers_chart, CoresMark, Series};

/// Width and height of every chart, px.
const SIZE: (u32, u32) = (760, 430);
/// Width of the legend panel at the chart's right, px.
const LEGEND_WIDTH: u32 = 200;
const FONT: &str = "sans-serif";
/// Axis and legend type, px in the SVG: shown about 660 px wide on the
/// page, 14 px reads as 12 px or more.
const TEXT_PX: u32 = 14;
/// Half the width of a marker, px.
const MARKER_PX: i32 = 4;

/// A chart's file name stem and SVG text.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Which chart: `speedup`, `efficiency`, `throughput`, `latency`,
    /// `time`, `balance`.
    pub kind: &'static str,
    /// Title, also the image's alt text and the SVG's `<title>`.
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

/// How a legend entry's sample is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stroke {
    /// A solid line.
    Solid,
    /// A dashed line (ideal lines, the core count).
    Dashed,
    /// A filled block (stacked bars).
    Block,
}

/// One entry of a chart's legend panel.
#[derive(Debug, Clone)]
pub struct LegendEntry {
    /// Its text.
    pub label: String,
    /// Its colour.
    pub colour: RGBColor,
    /// Its line or block.
    pub stroke: Stroke,
    /// Its marker, if the series has one.
    pub marker: Option<Marker>,
}

impl LegendEntry {
    /// A series drawn as a solid line with markers.
    pub fn series(label: impl Into<String>, colour: RGBColor, marker: Marker) -> Self {
        LegendEntry {
            label: label.into(),
            colour,
            stroke: Stroke::Solid,
            marker: Some(marker),
        }
    }

    /// A dashed reference line.
    pub fn dashed(label: impl Into<String>, colour: RGBColor) -> Self {
        LegendEntry {
            label: label.into(),
            colour,
            stroke: Stroke::Dashed,
            marker: None,
        }
    }
}

/// Every chart of a section.
pub fn section_charts(section: &Section, cores: u32) -> Result<Vec<Chart>, ChartError> {
    let name = &section.workload_spec;
    let mut charts = workers::scaling_charts(section, cores)?;
    if !section.spectra.is_empty() {
        let open = section.spectra.iter().any(|s| s.uncorrected);
        charts.push(Chart::new(
            "latency",
            if open {
                format!("Latency by percentile, from due times (dark) and from actual starts (pale, uncorrected), at each model's largest worker count: {name}")
            } else {
                format!("Latency by percentile at each model's largest worker count: {name}")
            },
            |root| latency::latency_chart(root, section),
        )?);
    }
    if section.models.iter().any(|m| !m.time_split.is_empty()) {
        charts.push(Chart::new(
            "time",
            format!(
                "Where the workers' time went (user, system, waiting for a CPU, blocked): {name}"
            ),
            |root| time::time_chart(root, section),
        )?);
    }
    if !section.balance.is_empty() {
        charts.push(Chart::new(
            "balance",
            format!("Ops per worker at each model's largest worker count: {name}"),
            |root| balance::balance_chart(root, section),
        )?);
    }
    Ok(charts)
}

pub(crate) type Root<'a> = DrawingArea<SVGBackend<'a>, Shift>;
pub(crate) type DrawResult = Result<Vec<LegendEntry>, Box<dyn std::error::Error + 'static>>;

impl Chart {
    /// Draws a chart: `body` draws the plot and returns its legend, which
    /// goes into the panel at the right.
    pub fn new(
        kind: &'static str,
        title: String,
        body: impl FnOnce(&Root<'_>) -> DrawResult,
    ) -> Result<Chart, ChartError> {
        Ok(Chart {
            kind,
            svg: draw(kind, &title, body)?,
            title,
        })
    }
}

/// The SVG of one chart, `<title>` included.
pub(crate) fn draw(
    chart: &'static str,
    title: &str,
    body: impl FnOnce(&Root<'_>) -> DrawResult,
) -> Result<String, ChartError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        let (plot, panel) = root.split_horizontally(SIZE.0 - LEGEND_WIDTH);
        let result = root
            .fill(&WHITE)
            .map_err(|e| e.to_string())
            .and_then(|_| body(&plot).map_err(|e| e.to_string()))
            .and_then(|entries| legend_panel(&panel, &entries).map_err(|e| e.to_string()))
            .and_then(|_| root.present().map_err(|e| e.to_string()));
        result.map_err(|message| ChartError { chart, message })?;
    }
    Ok(with_title(&svg, title))
}

/// `svg` with a `<title>` as the first child of its root element.
fn with_title(svg: &str, title: &str) -> String {
    let escaped = title
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    match svg
        .find("<svg")
        .and_then(|start| svg[start..].find('>').map(|end| start + end + 1))
    {
        Some(at) => format!("{}\n<title>{escaped}</title>{}", &svg[..at], &svg[at..]),
        None => svg.to_string(),
    }
}

/// Draws the legend entries down the panel, each label wrapped to fit.
fn legend_panel(
    panel: &Root<'_>,
    entries: &[LegendEntry],
) -> Result<(), Box<dyn std::error::Error + 'static>> {
    let text = (FONT, TEXT_PX).into_font().color(&BLACK.mix(0.85));
    let line_px = TEXT_PX as i32 + 4;
    let mut y = 24;
    for entry in entries {
        let (x0, x1, mid) = (6, 30, y + line_px / 2 - 2);
        match entry.stroke {
            Stroke::Solid => {
                panel.draw(&PathElement::new(
                    vec![(x0, mid), (x1, mid)],
                    entry.colour.stroke_width(2),
                ))?;
            }
            Stroke::Dashed => {
                for start in (x0..x1).step_by(8) {
                    panel.draw(&PathElement::new(
                        vec![(start, mid), ((start + 5).min(x1), mid)],
                        entry.colour.stroke_width(2),
                    ))?;
                }
            }
            Stroke::Block => {
                panel.draw(&Rectangle::new(
                    [(x0 + 4, mid - 6), (x1 - 4, mid + 6)],
                    entry.colour.filled(),
                ))?;
            }
        }
        if let Some(marker) = entry.marker {
            with_marker!(marker, ((x0 + x1) / 2, mid), entry.colour, |element| {
                panel.draw(&element)?;
            });
        }
        for line in wrap(&entry.label, 20) {
            panel.draw(&Text::new(line, (x1 + 6, y), text.clone()))?;
            y += line_px;
        }
        y += 6;
    }
    Ok(())
}

/// `text` in lines of about `width` characters, broken at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// Runs `$draw` on a marker element of shape `$marker` at `$at`: each
/// shape is its own element type (a boxed one would have to be
/// `'static`, which a backend borrowing its string is not), so this is a
/// macro for a chart's points and the legend alike.
macro_rules! with_marker {
    ($marker:expr, $at:expr, $colour:expr, |$element:ident| $draw:expr) => {{
        let r = $crate::charts::MARKER_PX;
        let filled = $colour.filled();
        let line = $colour.stroke_width(2);
        let at = $at;
        match $marker {
            $crate::series::Marker::Circle => {
                let $element = EmptyElement::at(at) + Circle::new((0, 0), r, filled);
                $draw
            }
            $crate::series::Marker::Ring => {
                let $element = EmptyElement::at(at) + Circle::new((0, 0), r, line);
                $draw
            }
            $crate::series::Marker::Square => {
                let $element = EmptyElement::at(at) + Rectangle::new([(-r, -r), (r, r)], filled);
                $draw
            }
            $crate::series::Marker::Frame => {
                let $element = EmptyElement::at(at) + Rectangle::new([(-r, -r), (r, r)], line);
                $draw
            }
            $crate::series::Marker::Triangle => {
                let $element = EmptyElement::at(at)
                    + Polygon::new(vec![(0, -r - 1), (r + 1, r), (-r - 1, r)], filled);
                $draw
            }
            $crate::series::Marker::Diamond => {
                let $element = EmptyElement::at(at)
                    + Polygon::new(
                        vec![(0, -r - 1), (r + 1, 0), (0, r + 1), (-r - 1, 0)],
                        filled,
                    );
                $draw
            }
            $crate::series::Marker::Cross => {
                let $element = EmptyElement::at(at)
                    + PathElement::new(vec![(-r, -r), (r, r)], line)
                    + PathElement::new(vec![(-r, r), (r, -r)], line);
                $draw
            }
            $crate::series::Marker::Plus => {
                let $element = EmptyElement::at(at)
                    + PathElement::new(vec![(-r, 0), (r, 0)], line)
                    + PathElement::new(vec![(0, -r), (0, r)], line);
                $draw
            }
        }
    }};
}
pub(crate) use with_marker;

/// Draws `marker` at each of `points` on `chart`.
pub(crate) fn draw_markers<'a, 'b, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, Cartesian2d<X, Y>>,
    points: impl IntoIterator<Item = (f64, f64)>,
    marker: Marker,
    colour: RGBColor,
) -> Result<(), Box<dyn std::error::Error + 'static>>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for point in points {
        with_marker!(marker, point, colour, |element| {
            chart.draw_series(std::iter::once(element))?;
        });
    }
    Ok(())
}

/// A distinct colour per configuration or spec, in order: the Okabe-Ito
/// colours (black last), then Tol's muted ones.
pub fn config_colour(index: usize) -> RGBColor {
    let order = crate::series::OKABE_ITO
        .iter()
        .chain(crate::series::OTHER_COLOURS.iter())
        .copied()
        .collect::<Vec<_>>();
    rgb(order[index % order.len()])
}

/// The marker of the `index`-th configuration or spec.
pub fn config_marker(index: usize) -> Marker {
    MARKERS[(index + 1) % MARKERS.len()]
}

/// The labelled values of a log value axis from `low` to `high`: 1, 2
/// and 5 times each power of ten.
pub(crate) fn round_log_ticks(low: f64, high: f64) -> Vec<f64> {
    let mut ticks = Vec::new();
    let mut decade = 10f64.powf(low.max(f64::MIN_POSITIVE).log10().floor());
    while decade <= high {
        for m in [1.0, 2.0, 5.0] {
            let v = decade * m;
            if v >= low && v <= high {
                ticks.push(v);
            }
        }
        decade *= 10.0;
    }
    // A narrow range may hold none: label its ends instead.
    if ticks.len() < 2 {
        ticks = vec![low, high];
    }
    ticks
}

/// The labelled worker counts up to `max`: the powers of two and the
/// counts measured, skipping any closer than 1.3x to the one before; the
/// `always` counts (the core counts, where the red lines stand) are kept,
/// and their crowding neighbours go instead.
pub(crate) fn worker_ticks(
    max: f64,
    measured: impl IntoIterator<Item = f64>,
    always: &[f64],
) -> Vec<f64> {
    let always: Vec<f64> = always
        .iter()
        .copied()
        .filter(|n| *n >= 1.0 && *n <= max)
        .collect();
    let crowds = |a: f64, b: f64| a.max(b) < a.min(b) * 1.3;
    let mut all: Vec<f64> = std::iter::successors(Some(1.0f64), |n| Some(n * 2.0))
        .take_while(|n| *n <= max)
        .chain(measured)
        .filter(|n| *n >= 1.0 && *n <= max)
        .filter(|n| !always.iter().any(|a| crowds(*a, *n)))
        .collect();
    all.sort_by(f64::total_cmp);
    let mut kept: Vec<f64> = Vec::new();
    for n in all {
        if kept.last().is_none_or(|last| !crowds(*last, n)) {
            kept.push(n);
        }
    }
    kept.extend(always);
    kept.sort_by(f64::total_cmp);
    kept.dedup();
    kept
}

/// About 40 points per decade from `from` to `to`, for smooth curves on
/// a log axis.
pub(crate) fn log_steps(from: f64, to: f64) -> impl Iterator<Item = f64> {
    let steps = ((to / from).log10() * 40.0).ceil().max(1.0) as usize;
    (0..=steps).map(move |i| from * (to / from).powf(i as f64 / steps as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_svg_gets_a_title() {
        let svg = with_title("<svg width=\"1\">\n<rect/></svg>", "a < b & c");
        assert!(svg.starts_with("<svg width=\"1\">\n<title>a &lt; b &amp; c</title>"));
    }

    #[test]
    fn labels_wrap_at_spaces() {
        assert_eq!(
            wrap("ideal (linear up to the cores)", 20),
            vec!["ideal (linear up to", "the cores)"]
        );
    }

    #[test]
    fn ticks_never_crowd() {
        assert_eq!(
            worker_ticks(64.0, [3.0, 48.0], &[]),
            [1.0, 2.0, 3.0, 4.0, 8.0, 16.0, 32.0, 48.0, 64.0]
        );
        assert_eq!(worker_ticks(6.0, [5.0, 6.0], &[]), [1.0, 2.0, 4.0, 6.0]);
        // The core count is labelled where its red line stands, even when
        // a measured count or a power of two crowds it.
        assert_eq!(
            worker_ticks(32.0, [1.0, 2.0, 4.0, 6.0, 8.0, 10.0], &[10.0]),
            [1.0, 2.0, 4.0, 6.0, 10.0, 16.0, 32.0]
        );
        assert_eq!(
            round_log_ticks(15.0, 1200.0),
            [20.0, 50.0, 100.0, 200.0, 500.0, 1000.0]
        );
        assert!(round_log_ticks(15.0, 1200.0)
            .iter()
            .all(|v| crate::format::is_round_log_tick(*v)));
    }
}
