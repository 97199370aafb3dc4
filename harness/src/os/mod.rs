//! Everything corebench reads from or sets in the kernel, in one place:
//! CPU topology and the CPU list format, thread and process affinity,
//! clocks, resource usage (CPU time, peak memory), and the tie to a
//! parent process.
//!
//! The rest of the harness asks these modules and never calls `libc` or
//! reads `/proc` and `/sys` itself, so what is Linux-specific stays here.
//! `host` (what host.json says) and `placement` (which core a worker gets)
//! both build on it, and neither needs the other.

pub mod affinity;
pub mod clock;
pub mod core_sampler;
pub mod machine;
pub mod perf;
pub mod platform;
pub mod process;
pub mod schedstat;
pub mod threads;
pub mod topology;
pub mod usage;
