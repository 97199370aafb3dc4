//! Per-worker balance as bars: for each model at its largest worker
//! count, one bar per worker of its ops over the mean, side by side in the
//! model's group. Lines across worker indices would cross for no reason
//! (worker 0 and worker 1 are not neighbours in any sense).

use plotters::prelude::*;

use super::{rgb, DrawResult, LegendEntry, Root, FONT, TEXT_PX};
use crate::analysis::Section;
use crate::format::workers_phrase;

pub(super) fn balance_chart(root: &Root<'_>, section: &Section) -> DrawResult {
    let groups: Vec<(&crate::analysis::Balance, Vec<f64>)> = section
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
    let count = groups.len().max(1) as f64;
    let y_max = groups
        .iter()
        .flat_map(|(_, s)| s.iter().copied())
        .fold(1.2f64, f64::max)
        * 1.1;
    let labels: Vec<String> = groups.iter().map(|(b, _)| b.model.clone()).collect();
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d(-0.5f64..count - 0.5, 0f64..y_max)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .disable_x_mesh()
        .x_labels(groups.len().clamp(1, 16))
        .y_labels(8)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_desc("model (one bar per worker, in worker order)")
        .y_desc("ops / mean ops per worker")
        .label_style((FONT, TEXT_PX))
        .draw()?;
    let grey = RGBColor(120, 120, 120);
    chart.draw_series(DashedLineSeries::new(
        vec![(-0.5, 1.0), (count - 0.5, 1.0)],
        6,
        4,
        grey.stroke_width(1),
    ))?;
    let mut legend = vec![LegendEntry::dashed("even share (1.0)", grey)];
    for (group, (balance, share)) in groups.iter().enumerate() {
        let colour = rgb(section.colour_of(&balance.model));
        let width = 0.8 / share.len().max(1) as f64;
        let left = group as f64 - 0.4;
        chart.draw_series(share.iter().enumerate().map(|(i, s)| {
            let x = left + i as f64 * width;
            // A hairline gap keeps neighbouring bars apart when wide enough.
            let gap = if width > 0.02 { width * 0.1 } else { 0.0 };
            Rectangle::new([(x + gap, 0.0), (x + width - gap, *s)], colour.filled())
        }))?;
        legend.push(LegendEntry::series(
            format!(
                "{} ({}, Jain {:.3})",
                balance.model,
                workers_phrase(balance.workers),
                balance.jain_index
            ),
            colour,
            section.marker_of(&balance.model),
        ));
    }
    Ok(legend)
}
