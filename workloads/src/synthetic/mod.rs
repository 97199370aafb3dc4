//! Synthetic workloads whose ideal scaling is known in closed form, so the
//! harness itself can be checked against the laws (`amdahl`, `gil`), plus
//! two that exist for the harness: `faulty` (failure injection, for tests)
//! and `noop` (the empty op that measures each model's dispatch floor).

pub mod amdahl;
pub mod faulty;
pub mod gil;
pub mod noop;
