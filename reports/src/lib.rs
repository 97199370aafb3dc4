//! # reports: corebench results in, pages out
//!
//! This crate owns the result schema, the public contract of a results
//! folder, and everything computed from results. It builds without tokio or
//! rayon and reads folders written on any machine.
//!
//! - [`schema`]: [`schema::Record`] (one per trial, in `records.jsonl`) and
//!   [`schema::Host`] (`host.json`), with the schema version.
//! - [`error`]: the errors of reading, drawing and writing, in one
//!   low-level module.
//! - [`mod@format`]: every number, duration and rate, formatted one way for the
//!   terminal, the charts, the page and the exports.
//! - [`slug`]: file- and anchor-safe names.
//! - [`staging`]: writing a report folder whole or not at all.
//! - [`histogram`]: the latency histogram's wire form (HdrHistogram V2 +
//!   DEFLATE, base64) and its percentile summary.
//! - [`folder`]: reading a results folder back, with clear errors.
//! - [`input`]: opening files a user names: regular files only, capped
//!   reads and capped lines.
//! - [`validate`]: the schema's own rules every record is checked against
//!   on read.
//! - [`stats`]: medians, bootstrap intervals, Tukey outliers.
//! - [`analysis`]: the only place a cell's statistics are computed: per
//!   workload and model, each cell's row ([`analysis::CellRow`], in ns),
//!   speedup curves with intervals, fits and a plain reading. The page,
//!   the terminal, `--json`, the exports and comparisons all read it.
//! - [`series`]: the order and colours of the series the caller names
//!   (the harness's models), and palettes for the rest.
//! - [`cells`]: what identifies a cell.
//! - [`fits`]: Amdahl, Karp–Flatt, Gustafson and USL fits.
//! - [`charts`]: the SVG charts of a section (plotters), with
//!   `charts::time`, where the workers' time went.
//! - [`flame`]: flamegraph SVGs from the folded stacks a run sampled.
//! - [`waits`]: wait sites from the folded wall-clock stacks, and
//!   [`wait_table`], the page's table of them.
//! - [`html`]: the page's template context and rendering (minijinja).
//! - [`host_view`]: the host table, in one wording for both pages.
//! - [`export`]: one format per file behind `Exporter`: `summary.csv` and
//!   `summary.md`, and a comparison's Markdown, CSV and Bencher JSON.
//! - [`report`]: writing all of it into a report folder.
//! - [`compare`]: several folders side by side: configurations, matched
//!   cells, change detection against a baseline, and the page.
//! - [`terminal`]: the table `corebench run` prints at the end.
//! - [`variants`]: several specs of one workload (its implementations)
//!   side by side, their latency spectra on one chart.

pub mod analysis;
pub mod cells;
pub mod charts;
pub mod compare;
pub mod error;
pub mod export;
pub mod fits;
pub mod flame;
pub mod folder;
pub mod format;
pub mod histogram;
pub mod host_view;
pub mod html;
pub mod input;
pub mod report;
pub mod schema;
pub mod series;
pub mod slug;
pub mod staging;
pub mod stats;
pub mod summary;
pub mod terminal;
pub mod validate;
pub mod variants;
pub mod wait_table;
pub mod waits;
