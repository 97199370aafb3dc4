//! The "where the time went" chart of a section: for each model and worker
//! count, one stacked bar of the workers' time split into user, system,
//! waiting for a CPU and blocked, as shares of their summed wall time.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{DrawResult, LegendEntry, Root, Stroke, FONT, TEXT_PX};
use crate::analysis::Section;

/// The four parts, bottom to top, with colours colour-blind readers can
/// tell apart (Okabe-Ito).
const PARTS: [(&str, RGBColor); 4] = [
    ("user", RGBColor(0, 114, 178)),
    ("system", RGBColor(230, 159, 0)),
    ("waiting for a CPU", RGBColor(213, 94, 0)),
    (
        "blocked (lock, barrier, IO, timer)",
        RGBColor(160, 160, 160),
    ),
];

/// Space between two models' groups of bars, in bar widths.
const GROUP_GAP: f64 = 0.6;

/// Draws the stacked bars: one group per model, one bar per worker count
/// (labelled with the count), the model's name over its group.
pub fn time_chart(root: &Root<'_>, section: &Section) -> DrawResult {
    // (x, workers, shares) per bar; (centre, model) per group.
    let mut bars: Vec<(f64, u32, [f64; 4])> = Vec::new();
    let mut groups: Vec<(f64, String)> = Vec::new();
    let mut x = 0.0;
    for model in section.models.iter().filter(|m| !m.time_split.is_empty()) {
        let first = x;
        for split in &model.time_split {
            bars.push((
                x,
                split.n,
                [split.user, split.system, split.runqueue, split.blocked],
            ));
            x += 1.0;
        }
        groups.push(((first + x - 1.0) / 2.0, model.model.clone()));
        x += GROUP_GAP;
    }
    let x_max = (x - GROUP_GAP).max(1.0);
    // A few bars stay bar-shaped: the axis is at least 6 bars wide.
    let pad = ((6.0 - x_max) / 2.0).max(0.0);
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(55)
        .build_cartesian_2d(-0.6 - pad..x_max - 0.4 + pad, -0.08f64..1.12f64)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .disable_x_mesh()
        .x_labels(0)
        .x_desc("workers, grouped by model")
        .y_desc("share of the workers' time")
        .y_labels(6)
        .y_label_formatter(&|y| {
            if (-1e-9..=1.0 + 1e-9).contains(y) {
                format!("{y:.1}")
            } else {
                String::new()
            }
        })
        .label_style((FONT, TEXT_PX))
        .draw()?;
    let mut legend = Vec::new();
    for (part, (name, colour)) in PARTS.iter().enumerate() {
        let colour = *colour;
        chart.draw_series(bars.iter().map(|(x, _, shares)| {
            let below: f64 = shares[..part].iter().sum();
            Rectangle::new(
                [(x - 0.4, below), (x + 0.4, below + shares[part])],
                colour.filled(),
            )
        }))?;
        legend.push(LegendEntry {
            label: name.to_string(),
            colour,
            stroke: Stroke::Block,
            marker: None,
        });
    }
    let name_style = (FONT, TEXT_PX - 2)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Center));
    chart.draw_series(
        groups
            .iter()
            .map(|(centre, model)| Text::new(model.clone(), (*centre, 1.06), name_style.clone())),
    )?;
    // Each bar's worker count under it, inside the plot (the axis's own
    // labels fall between bars).
    chart.draw_series(
        bars.iter()
            .map(|(x, n, _)| Text::new(n.to_string(), (*x, -0.04), name_style.clone())),
    )?;
    // Top to bottom as stacked.
    legend.reverse();
    Ok(legend)
}
