//! `cpu/primes`: count the primes in a range by trial division.
//!
//! Every op tests `span` consecutive numbers starting near `from`; the
//! window shifts with the op index (16 windows in turn) so no two
//! neighbouring ops see the same input. Work per op is fixed by `span`.

use std::sync::Arc;

use crate::params::{ParamKind, ParamSpec};
use crate::{CloneRun, OpError, RunShape, SharedRun, WorkerOp, WorkloadError, WorkloadInfo};

/// Registry entry.
pub static INFO: WorkloadInfo = WorkloadInfo {
    id: "cpu/primes",
    summary: "count primes in a range by trial division; pure CPU, no sharing",
    params: &[
        ParamSpec {
            name: "span",
            kind: ParamKind::Int {
                min: 1,
                max: 100_000_000,
            },
            default: "300",
            help: "numbers tested per op (the work per op; 300 is about 20 us)",
        },
        ParamSpec {
            name: "from",
            kind: ParamKind::Int {
                min: 2,
                max: 1_000_000_000_000,
            },
            default: "1000000",
            help: "first number tested; larger numbers cost more per test",
        },
    ],
    in_profiles: true,
    build: |params| Ok(Box::new(Primes { params })),
};

workload_type! {
    Primes = INFO;
    fn prepare(&self, _shape: RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError> {
        Ok(Arc::new(CloneRun(PrimesOp {
            span: self.params.int("span") as u64,
            from: self.params.int("from") as u64,
        })))
    }
}

#[derive(Clone)]
struct PrimesOp {
    span: u64,
    from: u64,
}

impl WorkerOp for PrimesOp {
    fn run_op(&mut self, op_index: u64) -> Result<u64, OpError> {
        let start = self.from + (op_index % 16) * self.span;
        Ok(count_primes(start, start + self.span))
    }
}

/// Counts primes in `lo..hi` by trial division.
pub fn count_primes(lo: u64, hi: u64) -> u64 {
    (lo..hi).filter(|&n| is_prime(n)).count() as u64
}

fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    if n % 2 == 0 {
        return n == 2;
    }
    let mut d = 3;
    while d * d <= n {
        if n % d == 0 {
            return false;
        }
        d += 2;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_known_primes() {
        assert_eq!(count_primes(0, 100), 25);
        assert_eq!(count_primes(1_000_000, 1_000_100), 6);
    }
}
