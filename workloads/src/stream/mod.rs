//! Event-stream workloads: events flowing through stages joined by bounded
//! channels, the reactive half of communication.
//!
//! [`pipeline`] (`stream/pipeline`) is the workload: its sources are the
//! harness's workers, its stages run on the pipeline's own threads, tokio
//! tasks or rayon pool. `operators` holds what each stage does to a quote
//! (the same under every implementation); `stages` wires the operators
//! together for each implementation and measures every stage.

mod operators;
pub mod pipeline;
mod stages;
