//! # workloads: what corebench runs
//!
//! This crate owns every kind of work corebench can measure, and nothing about
//! how it is measured: there is no timing code here, no knowledge of execution
//! models, threads, processes or pinning. The harness drives these types.
//!
//! How the parts fit:
//!
//! - [`spec`] parses a spec string `ID[:key=value,...]` such as
//!   `synthetic/amdahl:serial_fraction=0.3` into a [`Workload`], using the
//!   typed, validated parameters of [`params`].
//! - [`Workload`] and the types around it are the contract with the
//!   harness (in `workload.rs`, re-exported here).
//! - [`registry`] holds a [`Registry`] of workloads ([`WorkloadInfo`] and
//!   a constructor each): the built-ins, and any a user adds; it builds one
//!   by id.
//! - A [`Workload`] builds its [`SharedRun`] once per run, sized for the run's
//!   worker count ([`RunShape`]). Each worker then asks the shared run for its
//!   own [`WorkerOp`], on the worker itself (after pinning, outside the timed
//!   region), and calls [`WorkerOp::run_op`] once per timed operation.
//! - Async-native workloads also offer [`AsyncWorkerOp`]; async execution
//!   models use it when present and fall back to the sync op otherwise.
//! - [`kernel`] holds the deterministic CPU kernels the synthetic workloads
//!   are built from; [`cpu`], [`synthetic`], [`sync`], [`comm`], [`stream`], [`race`],
//!   [`deadlock`], [`io`] and [`mixed`] hold the workloads themselves.
//! - [`io`] also owns the loopback HTTP server and the HTTP clients the IO
//!   workloads use; the harness starts the server and passes its address
//!   in [`RunShape::io`].
//!
//! A one-op call should last about 5 µs or more at default parameters, so
//! the harness's timer and recorder (about 50 ns) stay below 1% of it.

#[macro_use]
mod macros;

pub mod comm;
pub mod cpu;
pub mod custom;
pub mod deadlock;
pub mod io;
pub mod kernel;
mod latency;
pub mod mixed;
pub mod params;
pub mod race;
pub mod registry;
pub mod spec;
pub mod stream;
pub mod sync;
pub mod synthetic;
#[cfg(test)]
mod test_support;
mod workload;

pub use params::{ParamKind, ParamSpec, ParamValue, ParamValues};
pub use registry::{parse_spec, parse_spec_list, Registry, RegistryError};
pub use spec::SpecError;
pub use workload::{
    AsyncWorkerOp, BoxFuture, CloneRun, HttpUse, IoEnv, OpError, OpErrorKind, Requirements,
    RunShape, Scaling, SharedRun, WorkerOp, Workload, WorkloadError, WorkloadInfo, DEADLOCK_PREFIX,
};
