//! Recording: per-worker latency histograms, the op loop every model
//! shares, and the OS clocks (wall, CPU).
//!
//! Each worker owns one [`WorkerRecorder`], allocated before timing starts;
//! recording an op reads the clock twice and bumps one histogram bucket, so
//! nothing shared is touched and nothing allocates on the hot path. After
//! the run the models merge the workers' histograms.
//!
//! [`run_ops`] is the one op loop: it takes ops from an [`OpSource`] (a
//! fixed range, or batches claimed from a shared counter), times them, and
//! turns an op's error or panic into the worker's error text. In
//! [`Recording::PerOp`] mode (the default) every op is timed on its own,
//! with consecutive ops sharing the clock read between them; in
//! [`Recording::Batch`] mode a batch of ops shares one pair of clock reads
//! and each op is recorded at the batch's mean, which halves the harness's
//! cost per op again for ops too short to time one by one, at the price of
//! the latency spectrum's detail.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use hdrhistogram::Histogram;
use workloads::WorkerOp;

/// Highest latency a histogram holds: one hour, in ns. Longer ops saturate.
const HISTOGRAM_MAX_NS: u64 = 3_600_000_000_000;

/// A latency histogram in ns, 1 ns to 1 h at 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HISTOGRAM_MAX_NS, 3).expect("static bounds are valid")
}

/// How ops are timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Recording {
    /// Two clock reads and one histogram record per op.
    #[default]
    PerOp,
    /// Two clock reads per batch of ops; each op is recorded at the batch
    /// mean.
    Batch,
}

impl Recording {
    /// The spelling on the command line and in records.
    pub fn as_str(self) -> &'static str {
        match self {
            Recording::PerOp => "per-op",
            Recording::Batch => "batch",
        }
    }
}

/// Ops per timed batch in batch mode when the source does not batch itself.
pub const RECORD_BATCH_OPS: u64 = 64;

/// One worker's measurements.
pub struct WorkerRecorder {
    /// How this worker times its ops.
    pub mode: Recording,
    /// Per-op latency, ns.
    pub histogram: Histogram<u64>,
    /// Ops completed.
    pub ops: u64,
    /// The worker's last op ended here (or its release, if it ran none).
    pub last_op_end: Option<Instant>,
    /// Open-loop extras; `histogram` then holds latency from due times.
    pub open: Option<OpenRecorder>,
    checksum: u64,
}

/// What an open-loop worker records besides latency from the due time.
pub struct OpenRecorder {
    /// Latency from each op's actual start: what a closed-loop client
    /// would have reported.
    pub uncorrected: Histogram<u64>,
    /// How late the worker started ops it was early for (timer error).
    pub pacing: Histogram<u64>,
    /// Ops the worker started after their due time because it was still
    /// busy with earlier ones.
    pub late_starts: u64,
}

impl Default for WorkerRecorder {
    fn default() -> Self {
        Self::new(Recording::PerOp)
    }
}

impl WorkerRecorder {
    /// An empty recorder; allocates its histogram now, outside timing.
    pub fn new(mode: Recording) -> Self {
        WorkerRecorder {
            mode,
            histogram: new_histogram(),
            ops: 0,
            last_op_end: None,
            open: None,
            checksum: 0,
        }
    }

    /// Adds the open-loop histograms; call before timing starts.
    pub fn enable_open(&mut self) {
        self.open = Some(OpenRecorder {
            uncorrected: new_histogram(),
            pacing: new_histogram(),
            late_starts: 0,
        });
    }

    /// Records an open-loop op due at `due` that started at `started` and
    /// ended at `end`. `woke` is when the pacer, having waited for the due
    /// time, woke up; `None` when it was already late (the op queued).
    #[inline]
    pub fn finish_open_op(
        &mut self,
        op_index: u64,
        due: Instant,
        started: Instant,
        woke: Option<Instant>,
        end: Instant,
        result: Result<u64, String>,
    ) -> Result<(), String> {
        self.finish_op(op_index, due, end, result)?;
        if let Some(open) = &mut self.open {
            let ns = |later: Instant, earlier: Instant| {
                (later.saturating_duration_since(earlier).as_nanos() as u64).max(1)
            };
            open.uncorrected.saturating_record(ns(end, started));
            match woke {
                Some(woke) => open.pacing.saturating_record(ns(woke, due)),
                None => open.late_starts += 1,
            }
        }
        Ok(())
    }

    /// Times one sync op. An op that fails or panics is not recorded; the
    /// error names the op.
    #[inline]
    pub fn time_op(&mut self, op: &mut dyn WorkerOp, op_index: u64) -> Result<(), String> {
        let start = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| op.run_op(op_index)));
        let end = Instant::now();
        self.finish_op(op_index, start, end, flatten_op_result(result))
    }

    /// Times ops `range` with one pair of clock reads and records each at
    /// the mean. On a failure the ops before it are recorded at their mean.
    #[inline]
    pub fn time_batch(
        &mut self,
        op: &mut dyn WorkerOp,
        range: std::ops::Range<u64>,
    ) -> Result<(), String> {
        let start = Instant::now();
        let mut failure = None;
        let mut done = 0u64;
        let mut checksum = 0u64;
        for op_index in range {
            match flatten_op_result(catch_unwind(AssertUnwindSafe(|| op.run_op(op_index)))) {
                Ok(value) => {
                    checksum = checksum.wrapping_add(value);
                    done += 1;
                }
                Err(message) => {
                    failure = Some(format!("op {op_index} {message}"));
                    break;
                }
            }
        }
        let end = Instant::now();
        if let Some(mean_ns) = (end.duration_since(start).as_nanos() as u64).checked_div(done) {
            self.histogram.saturating_record_n(mean_ns.max(1), done);
            self.ops += done;
            self.checksum = self.checksum.wrapping_add(checksum);
            self.last_op_end = Some(end);
        }
        failure.map_or(Ok(()), Err)
    }

    /// Times the ops of `range` as this recorder's mode says.
    #[inline]
    pub fn time_range(
        &mut self,
        op: &mut dyn WorkerOp,
        range: std::ops::Range<u64>,
    ) -> Result<(), String> {
        match self.mode {
            Recording::PerOp => self.time_chained(op, range),
            Recording::Batch => self.time_batch(op, range),
        }
    }

    /// Times each op of `range` on its own, with one clock read per op:
    /// the end of one op is the start of the next, so consecutive ops share
    /// a read. A clock read costs about 25 ns here, half the per-op cost of
    /// two reads; what an op's latency gains is the previous op's histogram
    /// record, a few ns of harness time in the same loop.
    #[inline]
    fn time_chained(
        &mut self,
        op: &mut dyn WorkerOp,
        range: std::ops::Range<u64>,
    ) -> Result<(), String> {
        let mut start = Instant::now();
        for op_index in range {
            let result = catch_unwind(AssertUnwindSafe(|| op.run_op(op_index)));
            let end = Instant::now();
            self.finish_op(op_index, start, end, flatten_op_result(result))?;
            start = end;
        }
        Ok(())
    }

    /// Records an op that ran from `start` to `end` with `result`.
    #[inline]
    pub fn finish_op(
        &mut self,
        op_index: u64,
        start: Instant,
        end: Instant,
        result: Result<u64, String>,
    ) -> Result<(), String> {
        match result {
            Ok(value) => {
                let elapsed_ns = end.saturating_duration_since(start).as_nanos() as u64;
                self.histogram.saturating_record(elapsed_ns.max(1));
                self.ops += 1;
                self.checksum = self.checksum.wrapping_add(value);
                self.last_op_end = Some(end);
                Ok(())
            }
            Err(message) => Err(format!("op {op_index} {message}")),
        }
    }

    /// The folded op results; only there so the compiler keeps the work.
    pub fn checksum(&self) -> u64 {
        std::hint::black_box(self.checksum)
    }
}

/// Folds an op's `catch_unwind` result into one error text.
pub fn flatten_op_result(
    result: std::thread::Result<Result<u64, workloads::OpError>>,
) -> Result<u64, String> {
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(format!("failed: {e}")),
        Err(payload) => Err(format!("panicked: {}", panic_message(payload.as_ref()))),
    }
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-text panic payload)".to_string()
    }
}

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

/// Runs ops from `source` until it is empty, `stop` is raised, or an op
/// fails. On failure raises `stop` so other workers end early too.
pub fn run_ops(
    op: &mut dyn WorkerOp,
    recorder: &mut WorkerRecorder,
    source: OpSource<'_>,
    stop: &AtomicBool,
) -> Result<(), String> {
    let result = match source {
        OpSource::Fixed { start, count } => {
            (0..count.div_ceil(RECORD_BATCH_OPS)).try_for_each(|b| {
                let first = start + b * RECORD_BATCH_OPS;
                recorder.time_range(op, first..(first + RECORD_BATCH_OPS).min(start + count))
            })
        }
        OpSource::Claim {
            next,
            total,
            workers,
        } => loop {
            if stop.load(Ordering::Relaxed) {
                break Ok(());
            }
            let Some(range) = claim(next, total, workers) else {
                break Ok(());
            };
            if let Err(e) = recorder.time_range(op, range) {
                break Err(e);
            }
        },
        OpSource::Open(schedule) => run_open_ops(op, recorder, &schedule, stop),
    };
    if result.is_err() {
        stop.store(true, Ordering::Relaxed);
    }
    result
}

/// Runs this worker's share of an open-loop schedule: waits for each op's
/// due time, runs it, and records it from the due time.
fn run_open_ops(
    op: &mut dyn WorkerOp,
    recorder: &mut WorkerRecorder,
    schedule: &crate::pacing::OpenSchedule,
    stop: &AtomicBool,
) -> Result<(), String> {
    crate::pacing::lower_timer_slack();
    for op_index in schedule.ops() {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let due = schedule.due(op_index);
        let arrival = crate::pacing::pace_until(due);
        op.note_due(due);
        let result = catch_unwind(AssertUnwindSafe(|| op.run_op(op_index)));
        let end = Instant::now();
        let woke = arrival.early.then_some(arrival.start);
        let result = flatten_op_result(result);
        recorder.finish_open_op(op_index, due, arrival.start, woke, end, result)?;
    }
    Ok(())
}

/// User and system CPU time, in ns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CpuTime {
    /// User time.
    pub user_ns: u64,
    /// System time.
    pub sys_ns: u64,
}

impl CpuTime {
    /// CPU time of this whole process so far (every thread), from
    /// `getrusage(RUSAGE_SELF)`.
    pub fn of_process() -> Self {
        // SAFETY: rusage is plain data, filled in by the call.
        let usage = unsafe {
            let mut usage: libc::rusage = std::mem::zeroed();
            libc::getrusage(libc::RUSAGE_SELF, &mut usage);
            usage
        };
        let ns = |tv: libc::timeval| tv.tv_sec as u64 * 1_000_000_000 + tv.tv_usec as u64 * 1_000;
        CpuTime {
            user_ns: ns(usage.ru_utime),
            sys_ns: ns(usage.ru_stime),
        }
    }

    /// The time spent since `earlier`.
    pub fn since(self, earlier: CpuTime) -> CpuTime {
        CpuTime {
            user_ns: self.user_ns.saturating_sub(earlier.user_ns),
            sys_ns: self.sys_ns.saturating_sub(earlier.sys_ns),
        }
    }
}

/// This process's peak resident set size in KiB, from `VmHWM` in
/// `/proc/self/status`. Not `getrusage`: its maxima survive `execve`, so
/// under `cargo run` (which execs the binary) they report cargo's and
/// rustc's peaks instead of ours.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// `CLOCK_MONOTONIC` in ns: one clock shared by every process on the
/// machine, so a parent can compare its children's timestamps with its own.
pub fn monotonic_ns() -> u64 {
    // SAFETY: timespec is plain data, filled in by the call.
    let ts = unsafe {
        let mut ts: libc::timespec = std::mem::zeroed();
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts);
        ts
    };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use workloads::parse_spec;
    use workloads::{RunShape, Scaling};

    fn op(spec: &str) -> Box<dyn WorkerOp> {
        let w = parse_spec(spec).unwrap();
        let shared = w
            .prepare(RunShape::new(1, Scaling::Strong, 1_000_000))
            .unwrap();
        shared.worker(0).unwrap()
    }

    #[test]
    fn claims_every_op_exactly_once() {
        let next = AtomicU64::new(0);
        let stop = AtomicBool::new(false);
        let mut rec = WorkerRecorder::new(Recording::PerOp);
        let mut noop = op("synthetic/noop");
        let source = OpSource::Claim {
            next: &next,
            total: 1001,
            workers: 2,
        };
        run_ops(noop.as_mut(), &mut rec, source, &stop).unwrap();
        assert_eq!(rec.ops, 1001);
        assert_eq!(rec.histogram.len(), 1001);
    }

    #[test]
    fn a_panicking_op_becomes_an_error_and_stops_the_others() {
        let stop = AtomicBool::new(false);
        let mut rec = WorkerRecorder::new(Recording::PerOp);
        let mut faulty = op("synthetic/faulty:at_op=3");
        let err = run_ops(
            faulty.as_mut(),
            &mut rec,
            OpSource::Fixed {
                start: 0,
                count: 10,
            },
            &stop,
        )
        .unwrap_err();
        assert!(
            err.contains("op 3 panicked") && err.contains("on purpose"),
            "{err}"
        );
        assert_eq!(rec.ops, 3);
        assert!(stop.load(Ordering::Relaxed));
    }

    #[test]
    fn batch_mode_records_every_op_at_the_batch_mean() {
        let stop = AtomicBool::new(false);
        let mut rec = WorkerRecorder::new(Recording::Batch);
        let mut noop = op("synthetic/noop");
        let source = OpSource::Fixed {
            start: 0,
            count: 1000,
        };
        run_ops(noop.as_mut(), &mut rec, source, &stop).unwrap();
        assert_eq!(rec.ops, 1000);
        assert_eq!(rec.histogram.len(), 1000);

        // Claimed batches are timed as batches too: one value per batch.
        let next = AtomicU64::new(0);
        let mut rec = WorkerRecorder::new(Recording::Batch);
        let source = OpSource::Claim {
            next: &next,
            total: 1000,
            workers: 1,
        };
        run_ops(noop.as_mut(), &mut rec, source, &stop).unwrap();
        assert_eq!(rec.ops, 1000);
        let batches = guided_ranges(1000, 1).len();
        let distinct_values = rec.histogram.iter_recorded().count();
        assert!(
            distinct_values <= batches,
            "{distinct_values} values from {batches} batches"
        );

        let mut rec = WorkerRecorder::new(Recording::Batch);
        let mut faulty = op("synthetic/faulty:mode=error,at_op=100");
        let source = OpSource::Fixed {
            start: 0,
            count: 1000,
        };
        let err = run_ops(faulty.as_mut(), &mut rec, source, &stop).unwrap_err();
        assert!(err.contains("op 100 failed"), "{err}");
        assert_eq!(rec.ops, 100, "the ops before the failure still count");
        assert_eq!(rec.histogram.len(), 100);
    }

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

    #[test]
    fn cpu_time_moves_forward() {
        let before = CpuTime::of_process();
        let _ = workloads::kernel::spin_work(5_000_000, 1);
        let spent = CpuTime::of_process().since(before);
        assert!(spent.user_ns + spent.sys_ns > 0);
    }
}
