//! # reports: corebench results in, pages out
//!
//! This crate owns the result schema, the public contract of a results
//! folder, and everything computed from results. It builds without tokio or
//! rayon and reads folders written on any machine.
//!
//! - [`schema`]: [`schema::Record`] (one per trial, in `records.jsonl`) and
//!   [`schema::Host`] (`host.json`), with the schema version.
//! - [`histogram`]: the latency histogram's wire form (HdrHistogram V2 +
//!   DEFLATE, base64) and its percentile summary.
//! - [`folder`]: reading a results folder back, with clear errors.
//! - [`stats`]: medians, bootstrap intervals, Tukey outliers.
//! - [`cells`]: trials grouped into cells, with medians and speedups.
//! - [`fits`]: Amdahl, Karp–Flatt, Gustafson and USL fits.
//! - [`terminal`]: the table `corebench run` prints at the end.

pub mod cells;
pub mod fits;
pub mod folder;
pub mod histogram;
pub mod schema;
pub mod stats;
pub mod terminal;
