//! CPU-bound workloads: pure computation, no shared state, no IO. They scale
//! until the cores run out, which makes them the baseline every model is
//! judged against.

pub mod calibrate;
pub mod mandelbrot;
pub mod primes;
pub mod sha256;
