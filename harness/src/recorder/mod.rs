//! Recording: per-worker latency histograms and how one op, a range of ops
//! or an open-loop op is timed into them.
//!
//! Each worker owns one [`WorkerRecorder`], allocated before timing starts;
//! recording an op reads the clock twice and bumps one histogram bucket, so
//! nothing shared is touched and nothing allocates on the hot path. After
//! the run the models merge the workers' histograms.
//!
//! - [`schedule`]: where a worker takes its op indices from (a fixed range,
//!   batches claimed from a shared counter, an open-loop schedule).
//! - [`op_loop`]: [`op_loop::run_ops`], the one op loop every model shares:
//!   it takes ops from a source, times them here, and turns an op's error
//!   or panic into the worker's error text.
//!
//! In
//! [`Recording::PerOp`] mode (the default) every op is timed on its own,
//! with consecutive ops sharing the clock read between them; in
//! [`Recording::Batch`] mode a batch of ops shares one pair of clock reads
//! and each op is recorded at the batch's mean, which halves the harness's
//! cost per op again for ops too short to time one by one, at the price of
//! the latency spectrum's detail.

pub mod op_loop;
pub mod schedule;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use hdrhistogram::Histogram;
use workloads::WorkerOp;

use crate::failure::Failure;

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
        result: Result<u64, Failure>,
    ) -> Result<(), Failure> {
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
    pub fn time_op(&mut self, op: &mut dyn WorkerOp, op_index: u64) -> Result<(), Failure> {
        let start = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| op.run_op(op_index)));
        let end = Instant::now();
        self.finish_op(op_index, start, end, flatten_op_result(result))
    }

    /// Times ops `range` with one pair of clock reads and records each at
    /// the mean. On a failure the ops before it are recorded at their mean;
    /// when `stop` is raised, the ops not yet started are left.
    #[inline]
    pub fn time_batch(
        &mut self,
        op: &mut dyn WorkerOp,
        range: std::ops::Range<u64>,
        stop: &AtomicBool,
    ) -> Result<(), Failure> {
        let start = Instant::now();
        let mut failure = None;
        let mut done = 0u64;
        let mut checksum = 0u64;
        for op_index in range {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            match flatten_op_result(catch_unwind(AssertUnwindSafe(|| op.run_op(op_index)))) {
                Ok(value) => {
                    checksum = checksum.wrapping_add(value);
                    done += 1;
                }
                Err(failure_of_op) => {
                    failure = Some(failure_of_op.prefixed(&format!("op {op_index} ")));
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

    /// Times the ops of `range` as this recorder's mode says, stopping
    /// between ops once `stop` is raised (an op that failed elsewhere, or a
    /// trial abandoned or interrupted): one relaxed load per op.
    #[inline]
    pub fn time_range(
        &mut self,
        op: &mut dyn WorkerOp,
        range: std::ops::Range<u64>,
        stop: &AtomicBool,
    ) -> Result<(), Failure> {
        match self.mode {
            Recording::PerOp => self.time_chained(op, range, stop),
            Recording::Batch => self.time_batch(op, range, stop),
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
        stop: &AtomicBool,
    ) -> Result<(), Failure> {
        let mut start = Instant::now();
        for op_index in range {
            if stop.load(Ordering::Relaxed) {
                break;
            }
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
        result: Result<u64, Failure>,
    ) -> Result<(), Failure> {
        match result {
            Ok(value) => {
                let elapsed_ns = end.saturating_duration_since(start).as_nanos() as u64;
                self.histogram.saturating_record(elapsed_ns.max(1));
                self.ops += 1;
                self.checksum = self.checksum.wrapping_add(value);
                self.last_op_end = Some(end);
                Ok(())
            }
            Err(failure) => Err(failure.prefixed(&format!("op {op_index} "))),
        }
    }

    /// The folded op results; only there so the compiler keeps the work.
    pub fn checksum(&self) -> u64 {
        std::hint::black_box(self.checksum)
    }
}

/// Folds an op's `catch_unwind` result into one typed failure.
pub fn flatten_op_result(
    result: std::thread::Result<Result<u64, workloads::OpError>>,
) -> Result<u64, Failure> {
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(Failure::of_op(e)),
        Err(payload) => Err(Failure::failed(format!(
            "panicked: {}",
            panic_message(payload.as_ref())
        ))),
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
