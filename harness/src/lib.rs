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
//! - [`models`]: the execution models, one file each, behind one trait,
//!   with what they share (trial types, the worker lifecycle, the start
//!   gate, both sides of the `process` child protocol, a mock model).
//! - [`sampler`]: in-process CPU sampling of a cell's trials for its
//!   flamegraph.
//! - [`record`]: a trial's outcome turned into a schema record.
//! - [`failure`]: typed failures (failed, timeout, deadlocked,
//!   unsupported), never strings to match.
//! - [`placement`]: placements, pinning, and reading affinity back.
//! - [`recorder`]: per-worker histograms, op scheduling, the shared op loop.
//! - [`os`]: everything read from or set in the kernel: topology,
//!   affinity, clocks, resource usage.
//! - [`pacing`]: open-loop load: the arrival schedule and keeping to it.
//! - [`services`]: the loopback HTTP server a run starts for its IO
//!   workloads, or the `--target` it checks instead.
//! - [`host`]: what `host.json` says about the machine.
//! - [`results`]: writing a results folder crash-safely.
//! - [`error`]: the usage error that exits with code 2.

pub mod cli;
pub mod disturbance;
pub mod error;
pub mod failure;
pub mod host;
pub mod interrupt;
pub mod models;
pub mod os;
pub mod pacing;
pub mod placement;
pub mod plan;
pub mod record;
pub mod recorder;
pub mod results;
pub mod runner;
pub mod sampler;
pub mod services;
pub mod supervisor;
