//! # harness: how corebench runs and measures work
//!
//! The `corebench` binary and everything it needs to run a plan: it drives
//! the workloads of the `workloads` crate under every execution model and
//! writes results in the schema the `reports` crate owns.
//!
//! - [`cli`]: the command line, dispatching to the rest.
//! - [`plan`]: building and validating a plan (workloads x models x workers
//!   x placements) from the command line and a profile.
//! - [`runner`]: running a plan cell by cell: calibration, dispatch floors,
//!   warm-up, supervised trials, one record per trial.
//! - [`models`]: the execution models, one file each, behind one trait.
//! - [`worker`]: the child side of the `process` model and its wire format.
//! - [`placement`]: placements, pinning, and reading affinity back.
//! - [`recorder`]: per-worker histograms, the shared op loop, OS clocks.
//! - [`pacing`]: open-loop load: the arrival schedule and keeping to it.
//! - [`services`]: the loopback HTTP server a run starts for its IO
//!   workloads, or the `--target` it checks instead.
//! - [`host`]: what `host.json` says about the machine.
//! - [`results`]: writing a results folder crash-safely.
//! - [`error`]: the usage error that exits with code 2.

pub mod cli;
pub mod error;
pub mod host;
pub mod models;
pub mod pacing;
pub mod placement;
pub mod plan;
pub mod recorder;
pub mod results;
pub mod runner;
pub mod services;
pub mod worker;
