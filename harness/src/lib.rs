//! # corebench: how work scales on this machine, and why
//!
//! The `corebench` binary, and a library to run your own code under it.
//! corebench runs a workload under every execution model (the calling
//! thread, OS threads, a thread pool, rayon, child processes, tokio),
//! sweeps worker counts and placements, records every op's latency, says
//! where each worker's time went, and writes a results folder and an
//! offline report.
//!
//! ## Benchmark your own code
//!
//! Register your workloads in a [`Suite`] and hand it the command line:
//! your binary then *is* corebench, with `run`, `list`, `report`,
//! `compare` and `profile`, over your workloads.
//!
//! ```no_run
//! use corebench::{Custom, Suite};
//!
//! fn main() -> std::process::ExitCode {
//!     Suite::new()
//!         // Workers that share nothing: a set-up per worker, then the op.
//!         .custom(Custom::from_fn("mine/sum", "sum a vector", |_worker| {
//!             let data: Vec<u64> = (0..10_000).collect();
//!             move |_op: u64| {
//!                 std::hint::black_box(data.iter().sum::<u64>());
//!                 Ok::<(), String>(())
//!             }
//!         }))
//!         .main()
//! }
//! ```
//!
//! `cargo run --release -- run --models all --workers 1,2` then runs it
//! under all seven models, `process` included (the children re-execute
//! your binary), and writes the usual results folder and report. A
//! `harness = false` bench target with the same `main` makes
//! `cargo bench` do the same. Workloads with shared state use
//! [`Custom::from_fn_shared`]; async ones [`Custom::from_async_fn`];
//! workloads with parameters implement [`workloads::Workload`] and are
//! added by their info with [`Suite::workload`]. One more line,
//! `#[global_allocator] static ALLOC: corebench::oom::ContainedAlloc =
//! corebench::oom::ContainedAlloc;`, makes an op whose allocation fails
//! fail its trial instead of aborting the run (see [`oom`]).
//!
//! The suite runs as written here; this example is checked by
//! `cargo test --doc`:
//!
//! ```
//! use corebench::{Custom, Suite};
//!
//! let suite = Suite::new().custom(Custom::from_fn("mine/parse", "parse a number", |_| {
//!     |op: u64| op.to_string().parse::<u64>().map(|_| ())
//! }));
//! assert_eq!(suite.run_args(["corebench", "list"]), 0);
//! ```
//!
//! ## The parts
//!
//! - [`suite`]: [`Suite`], your workloads under the whole command line.
//! - [`exec`]: `corebench exec`, any program measured like a workload.
//! - [`cli`]: the command line, dispatching to the rest.
//! - [`plan`]: building and validating a plan (workloads x models x workers
//!   x placements) from the command line and a profile.
//! - [`runner`]: running a plan cell by cell: calibration, dispatch floors,
//!   warm-up, supervised trials, one record per trial.
//! - [`models`]: the execution models, one file each, each saying what it
//!   is (`ModelInfo`) and implementing one trait; `models/mod.rs` only
//!   lists them. Beside them what they share (trial types, the worker
//!   lifecycle, the start gate, both sides of the `process` child
//!   protocol, a mock model).
//! - [`sampler`]: in-process CPU sampling of a cell's trials for its
//!   flamegraph.
//! - [`wall`]: wall-clock sampling of every worker thread, running or
//!   not, for the off-CPU flamegraph and the wait sites.
//! - [`record`]: the one record builder: a trial's parts turned into a
//!   schema record.
//! - [`render`]: writing a results folder's report, with the models'
//!   names and colours; [`output`]: standard output.
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
pub mod exec;
pub mod failure;
pub mod host;
pub mod interrupt;
pub mod models;
pub mod oom;
pub mod os;
pub mod output;
pub mod pacing;
pub mod placement;
pub mod plan;
pub mod record;
pub mod recorder;
pub mod render;
pub mod results;
pub mod runner;
pub mod sampler;
pub mod services;
pub mod suite;
pub mod supervisor;
pub mod wall;

pub use reports;
pub use suite::Suite;
pub use workloads;
pub use workloads::custom::Custom;
