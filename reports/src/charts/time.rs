//! The "where the time went" chart of a section: for each model and worker
//! count, one stacked bar of the workers' time split into user, system,
//! waiting for a CPU and blocked, as shares of their summed wall time.

use plotters::prelude::*;

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

/// Draws the stacked bars.
pub fn time_chart(root: &Root<'_>, section: &Section) -> DrawResult {
    let bars: Vec<(String, [f64; 4])> = section
        .models
        .iter()
        .flat_map(|m| {
            m.time_split.iter().map(move |s| {
                (
                    format!("{} {}", m.model, s.n),
                    [s.user, s.system, s.runqueue, s.blocked],
                )
            })
        })
        .collect();
    let count = bars.len().max(1) as f64;
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .x_label_area_size(if bars.len() > 10 { 130 } else { 60 })
        .y_label_area_size(55)
        .build_cartesian_2d(-0.5f64..count - 0.5, 0f64..1.05f64)?;
    let labels: Vec<String> = bars.iter().map(|(label, _)| label.clone()).collect();
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .x_labels(bars.len().clamp(1, 40))
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_desc("model and workers")
        .x_label_style(if bars.len() > 10 {
            // Many bars: labels stand on end so they never overlap.
            (FONT, TEXT_PX - 2)
                .into_font()
                .transform(FontTransform::Rotate90)
                .into_text_style(root)
        } else {
            (FONT, TEXT_PX).into_font().into_text_style(root)
        })
        .y_desc("share of the workers' time")
        .y_labels(6)
        .label_style((FONT, TEXT_PX))
        .draw()?;
    let mut legend = Vec::new();
    for (part, (name, colour)) in PARTS.iter().enumerate() {
        let colour = *colour;
        chart.draw_series(bars.iter().enumerate().map(|(i, (_, shares))| {
            let below: f64 = shares[..part].iter().sum();
            let x = i as f64;
            Rectangle::new(
                [(x - 0.35, below), (x + 0.35, below + shares[part])],
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
    // Top to bottom as stacked.
    legend.reverse();
    Ok(legend)
}
