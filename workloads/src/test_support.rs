//! Helpers the workloads' unit tests share.

use std::sync::Arc;

use crate::{parse_spec, RunShape, Scaling, SharedRun};

/// Prepares `spec` for `workers` workers and runs `ops` ops on each, every
/// worker on its own thread with op indices unique in the run, as the
/// `threads` model does; returns the shared run for its counters.
pub(crate) fn run_on_threads(spec: &str, workers: usize, ops: u64) -> Arc<dyn SharedRun> {
    let workload = parse_spec(spec).unwrap();
    let shared = workload
        .prepare(RunShape::new(
            workers,
            Scaling::Strong,
            ops * workers as u64,
        ))
        .unwrap();
    std::thread::scope(|scope| {
        for index in 0..workers {
            let mut op = Arc::clone(&shared).worker(index).unwrap();
            scope.spawn(move || {
                for k in 0..ops {
                    op.run_op(index as u64 * ops + k).unwrap();
                }
            });
        }
    });
    shared
}
