//! The op loop every model shares: runs a worker's ops from its
//! [`OpSource`], times each through its [`WorkerRecorder`], and stops every
//! worker of the trial early when one op fails or the trial is abandoned.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use workloads::WorkerOp;

use super::schedule::{claim, OpSource};
use super::{flatten_op_result, WorkerRecorder, RECORD_BATCH_OPS};
use crate::failure::Failure;

/// Runs ops from `source` until it is empty, `stop` is raised, or an op
/// fails. On failure raises `stop` so other workers end early too.
pub fn run_ops(
    op: &mut dyn WorkerOp,
    recorder: &mut WorkerRecorder,
    source: OpSource<'_>,
    stop: &AtomicBool,
) -> Result<(), Failure> {
    let result = match source {
        OpSource::Fixed { start, count } => {
            (0..count.div_ceil(RECORD_BATCH_OPS)).try_for_each(|b| {
                let first = start + b * RECORD_BATCH_OPS;
                let batch = first..(first + RECORD_BATCH_OPS).min(start + count);
                recorder.time_range(op, batch, stop)
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
            if let Err(e) = recorder.time_range(op, range, stop) {
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
) -> Result<(), Failure> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::schedule::guided_ranges;
    use crate::recorder::Recording;
    use std::sync::atomic::AtomicU64;
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
            err.message.contains("op 3 panicked") && err.message.contains("on purpose"),
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
        assert!(err.message.contains("op 100 failed"), "{err}");
        assert_eq!(rec.ops, 100, "the ops before the failure still count");
        assert_eq!(rec.histogram.len(), 100);
    }
}
