//! Open-loop load: the arrival schedule and keeping to it.
//!
//! Under `--load open:RATE` op `k` of a trial is due at
//! `base + k / RATE`, whoever runs it. Worker `i` of `n` runs ops `i`,
//! `i + n`, `i + 2n`, ... (as wrk2 gives each connection its share of one
//! schedule), so together the workers keep the constant rate, and a worker
//! held up by a slow op starts its next ones late instead of skipping them.
//! Latency counts from the due time (corrected); the time from the op's
//! actual start is kept too (uncorrected), and so is how late the worker
//! woke for ops it was early for (pacing error).
//!
//! Waiting for a due time: sleep until shortly before it, then yield until
//! it arrives. Linux lets a sleeping thread oversleep by its timer slack
//! (50 µs by default), so [`lower_timer_slack`] sets it to 1 ns first; a
//! sleep then overshoots by about 30 µs (p99 about 60 µs on this VM), which
//! the yield window covers. Yielding, not spinning: a waiting worker gives
//! its core to anyone runnable. tokio's timer ticks in whole milliseconds,
//! too coarse for this, so under the async models one pacer thread paces
//! the schedule this way and hands each task its ops (see
//! `models::tokio_driver`).

use std::time::{Duration, Instant};

/// How long before a due time a waiting thread stops sleeping and yields.
pub const YIELD_WINDOW: Duration = Duration::from_micros(100);

/// One worker's share of a trial's arrival schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpenSchedule {
    /// When op 0 is due.
    pub base: Instant,
    /// Time between consecutive ops of the whole trial, ns.
    pub interval_ns: f64,
    /// This worker's first op.
    pub first: u64,
    /// Workers sharing the schedule (this worker's step).
    pub stride: u64,
    /// Ops in the trial.
    pub total: u64,
}

impl OpenSchedule {
    /// Worker `index`'s share, of `workers`, of `total` ops at `rate_ops_s`
    /// from `base`.
    pub fn share(base: Instant, rate_ops_s: f64, total: u64, index: usize, workers: usize) -> Self {
        OpenSchedule {
            base,
            interval_ns: 1e9 / rate_ops_s,
            first: index as u64,
            stride: workers as u64,
            total,
        }
    }

    /// The whole schedule, every op, for one pacer that hands ops out.
    pub fn whole(self) -> Self {
        OpenSchedule {
            first: 0,
            stride: 1,
            ..self
        }
    }

    /// When op `op_index` is due.
    #[inline]
    pub fn due(&self, op_index: u64) -> Instant {
        self.base + Duration::from_nanos((op_index as f64 * self.interval_ns) as u64)
    }

    /// This worker's op indices, in order.
    pub fn ops(&self) -> impl Iterator<Item = u64> {
        (self.first..self.total).step_by(self.stride.max(1) as usize)
    }

    /// How many ops this worker runs.
    pub fn len(&self) -> u64 {
        self.total
            .saturating_sub(self.first)
            .div_ceil(self.stride.max(1))
    }

    /// Whether this worker has no ops.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

pub use workloads::io::lower_timer_slack;

/// When the worker reached a due time: `early` says it had to wait for it
/// (so `start - due` is pacing error), otherwise it was already late.
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    /// When the op starts.
    pub start: Instant,
    /// Whether the worker was there before the due time.
    pub early: bool,
}

/// Blocks until `due`: sleeps, then yields through the last
/// [`YIELD_WINDOW`].
pub fn pace_until(due: Instant) -> Arrival {
    let mut now = Instant::now();
    let early = now < due;
    while now < due {
        let left = due - now;
        if left > YIELD_WINDOW {
            std::thread::sleep(left - YIELD_WINDOW);
        } else {
            std::thread::yield_now();
        }
        now = Instant::now();
    }
    Arrival { start: now, early }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_share_one_schedule() {
        let base = Instant::now();
        let shares: Vec<Vec<u64>> = (0..3)
            .map(|first| {
                OpenSchedule {
                    base,
                    interval_ns: 1e6,
                    first,
                    stride: 3,
                    total: 8,
                }
                .ops()
                .collect()
            })
            .collect();
        assert_eq!(shares, vec![vec![0, 3, 6], vec![1, 4, 7], vec![2, 5]]);
        let schedule = OpenSchedule {
            base,
            interval_ns: 1e6,
            first: 2,
            stride: 3,
            total: 8,
        };
        assert_eq!(schedule.len(), 2);
        assert_eq!(schedule.due(5) - base, Duration::from_millis(5));
    }

    #[test]
    fn pacing_never_starts_early() {
        lower_timer_slack();
        let due = Instant::now() + Duration::from_millis(2);
        let arrival = pace_until(due);
        assert!(arrival.early);
        assert!(arrival.start >= due);
        let late = pace_until(due);
        assert!(!late.early);
    }
}
