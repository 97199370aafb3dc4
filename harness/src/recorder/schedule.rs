//! Op scheduling: which op indices a worker runs. A fixed range (a static
//! split, or lockstep rounds), guided batches claimed from one shared
//! counter (dynamic scheduling), or a share of an open-loop schedule.

use std::sync::atomic::{AtomicU64, Ordering};

/// Where a worker takes its op indices from.
pub enum OpSource<'a> {
    /// Exactly these op indices (static split, or lockstep rounds).
    Fixed {
        /// First op index.
        start: u64,
        /// How many ops.
        count: u64,
    },
    /// Batches claimed from a counter shared by all workers: dynamic
    /// scheduling. The counter is touched once per batch, not per op.
    Claim {
        /// The next unclaimed op index.
        next: &'a AtomicU64,
        /// Ops in the run.
        total: u64,
        /// Workers sharing the counter (sizes the claims).
        workers: usize,
    },
    /// Open loop: this worker's share of an arrival schedule.
    Open(crate::pacing::OpenSchedule),
}

/// The most ops one claim takes.
pub const MAX_CLAIM_OPS: u64 = 64;

/// Guided self-scheduling: a claim takes a quarter of each worker's share
/// of what is left, at most [`MAX_CLAIM_OPS`] and at least one. Claims stay
/// rare (one per 64 ops) while there is plenty to do, and shrink to single
/// ops at the end, so no worker finishes long before the others.
pub fn guided_batch(remaining_ops: u64, workers: usize) -> u64 {
    (remaining_ops / (workers.max(1) as u64 * 4)).clamp(1, MAX_CLAIM_OPS)
}

/// Claims the next batch of op indices from `next`, or `None` when every op
/// of `0..total` has been claimed.
#[inline]
pub fn claim(next: &AtomicU64, total: u64, workers: usize) -> Option<std::ops::Range<u64>> {
    let seen = next.load(Ordering::Relaxed);
    if seen >= total {
        return None;
    }
    let batch = guided_batch(total - seen, workers);
    let first = next.fetch_add(batch, Ordering::Relaxed);
    (first < total).then(|| first..(first + batch).min(total))
}

/// The guided batches of `0..total` as a list, for schedulers that take one
/// (rayon's work stealing spreads them).
pub fn guided_ranges(total: u64, workers: usize) -> Vec<std::ops::Range<u64>> {
    let mut ranges = Vec::new();
    let mut first = 0;
    while first < total {
        let end = (first + guided_batch(total - first, workers)).min(total);
        ranges.push(first..end);
        first = end;
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guided_batches_cover_every_op_and_shrink_at_the_end() {
        for (total, workers) in [(0u64, 1usize), (1, 4), (1000, 2), (100_000, 64)] {
            let ranges = guided_ranges(total, workers);
            let covered: u64 = ranges.iter().map(|r| r.end - r.start).sum();
            assert_eq!(covered, total);
            assert!(ranges.windows(2).all(|w| w[0].end == w[1].start));
            assert!(ranges.iter().all(|r| r.end - r.start <= MAX_CLAIM_OPS));
            if let Some(last) = ranges.last() {
                assert_eq!(last.end - last.start, 1, "the last claim is one op");
            }
        }
    }
}
