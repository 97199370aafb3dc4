//! Deterministic CPU kernels that synthetic workloads are built from.
//!
//! [`spin_work`] burns a known number of dependent integer steps: the
//! compiler cannot vectorise or skip them, memory is not touched, so its
//! cost is linear in `steps` and the same on every worker. That is what
//! lets `synthetic/amdahl` and `synthetic/gil` set fractions of work exactly.

use std::hint::black_box;

/// Runs `steps` dependent xorshift steps from `seed` and returns the state.
#[inline(never)]
pub fn spin_work(steps: u64, seed: u64) -> u64 {
    let mut x = seed | 1;
    for _ in 0..black_box(steps) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    black_box(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_deterministic_and_depends_on_steps() {
        assert_eq!(spin_work(1000, 42), spin_work(1000, 42));
        assert_ne!(spin_work(1000, 42), spin_work(1001, 42));
    }
}
