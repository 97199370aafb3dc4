//! The page's table of where blocked workers wait: for each model and
//! worker count of a section that was wall-profiled, its top wait sites
//! with their shares, read from the analysis ([`crate::waits::CellWaits`]
//! on each cell's time split).

use serde::Serialize;

use crate::analysis::Section;
use crate::format::percent;
use crate::waits::short_name;

/// One wait site of one cell, as the page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct WaitRowView {
    /// The model.
    pub model: String,
    /// Its swatch colour.
    pub colour: String,
    /// Workers.
    pub workers: u32,
    /// The cell's sampled blocked share, on the first site's row only.
    pub blocked: String,
    /// Rank of the site in its cell, from 1.
    pub rank: usize,
    /// The function waited in, short.
    pub function: String,
    /// Its full name, for the tooltip.
    pub function_full: String,
    /// The calling frame, short ("–" for none).
    pub caller: String,
    /// Its full name.
    pub caller_full: String,
    /// The primitive.
    pub primitive: String,
    /// Its share of the cell's blocked samples.
    pub share_of_blocked: String,
    /// Its share of all the cell's samples.
    pub share_of_time: String,
    /// Whether it blocked inside an async task.
    pub in_async_task: bool,
    /// The cell's off-CPU flamegraph, relative to the page (set when the
    /// report renders it).
    pub offcpu: Option<String>,
}

/// The section's wait rows: every model, every worker count with a wall
/// profile, its sites in order; `colour` gives a model's swatch.
pub fn wait_rows(section: &Section, colour: impl Fn(&str) -> String) -> Vec<WaitRowView> {
    let mut rows = Vec::new();
    for curve in &section.models {
        for split in &curve.time_split {
            let Some(waits) = &split.waits else {
                continue;
            };
            for (rank, site) in waits.sites.iter().enumerate() {
                rows.push(WaitRowView {
                    model: curve.model.clone(),
                    colour: colour(&curve.model),
                    workers: split.n,
                    blocked: if rank == 0 {
                        percent(waits.profile.blocked_fraction)
                    } else {
                        String::new()
                    },
                    rank: rank + 1,
                    function: short_name(&site.function, 2),
                    function_full: site.function.clone(),
                    caller: site
                        .caller
                        .as_deref()
                        .map_or("–".to_string(), |c| short_name(c, 3)),
                    caller_full: site.caller.clone().unwrap_or_default(),
                    primitive: site.primitive.phrase().to_string(),
                    share_of_blocked: percent(site.share_of_blocked),
                    share_of_time: percent(site.share_of_time),
                    in_async_task: site.in_async_task,
                    offcpu: None,
                });
            }
        }
    }
    rows
}
