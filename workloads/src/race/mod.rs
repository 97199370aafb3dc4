//! Correctness workloads: what goes wrong without synchronization, measured
//! honestly rather than prevented.

pub mod lost_update;
