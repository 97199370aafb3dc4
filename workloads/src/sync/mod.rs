//! Synchronization workloads: what sharing costs. Each op does some work
//! outside a critical section and some inside, on one of several
//! implementations of the same shared thing, so their costs (and the USL's
//! contention and coherency terms) can be compared directly.
//!
//! [`Tally`] is how these workloads know what the right answer is: every
//! worker publishes how many writes it made to a slot of its own (its own
//! cache line, one relaxed store an op, never contended), and the sum is
//! the count the shared counter must reach.

pub mod barrier;
pub mod counter;
pub mod pingpong;
pub mod rwlock;
pub mod semaphore;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_utils::CachePadded;

/// Per-worker counts, one cache line each, summed after the run.
pub struct Tally {
    slots: Vec<CachePadded<AtomicU64>>,
}

impl Tally {
    /// A tally for `workers` workers.
    pub fn new(workers: usize) -> Self {
        Tally {
            slots: (0..workers.max(1))
                .map(|_| CachePadded::new(AtomicU64::new(0)))
                .collect(),
        }
    }

    /// Publishes worker `index`'s running count.
    #[inline]
    pub fn set(&self, index: usize, count: u64) {
        self.slots[index % self.slots.len()].store(count, Ordering::Relaxed);
    }

    /// The sum over workers.
    pub fn total(&self) -> u64 {
        self.slots.iter().map(|s| s.load(Ordering::Relaxed)).sum()
    }

    /// The record's correctness counters: `expected_count` (this tally),
    /// `actual_count` (what the shared counter says) and `lost_updates`.
    pub fn correctness_counters(&self, actual: u64) -> BTreeMap<String, f64> {
        let expected = self.total();
        [
            ("expected_count", expected as f64),
            ("actual_count", actual as f64),
            ("lost_updates", expected.saturating_sub(actual) as f64),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}
