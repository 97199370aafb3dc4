//! Memory on the recording path, counted by a global allocator that tallies
//! the calling thread's allocations: recording must not allocate at all,
//! and one histogram (1 ns to 1 h at 3 significant digits) must stay near
//! 264 KiB.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::AtomicBool;

use corebench::recorder::op_loop::run_ops;
use corebench::recorder::schedule::OpSource;
use corebench::recorder::{new_histogram, Recording, WorkerRecorder};
use workloads::{parse_spec, RunShape, Scaling, WorkerOp};

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static BYTES: Cell<u64> = const { Cell::new(0) };
}

/// Counts this thread's allocations, then defers to the system allocator.
struct Counting;

fn count(bytes: usize) {
    // try_with: during thread teardown the counters may be gone already.
    let _ = ALLOCATIONS.try_with(|a| a.set(a.get() + 1));
    let _ = BYTES.try_with(|b| b.set(b.get() + bytes as u64));
}

// SAFETY: every call is passed on unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

fn bytes() -> u64 {
    BYTES.with(Cell::get)
}

fn worker_op(spec: &str) -> Box<dyn WorkerOp> {
    let workload = parse_spec(spec).unwrap();
    let shared = workload
        .prepare(RunShape::new(1, Scaling::Strong, 1_000_000))
        .unwrap();
    shared.worker(0).unwrap()
}

#[test]
fn recording_100k_ops_allocates_nothing() {
    for mode in [Recording::PerOp, Recording::Batch] {
        for spec in ["synthetic/noop", "cpu/primes:span=2"] {
            let mut op = worker_op(spec);
            let mut recorder = WorkerRecorder::new(mode);
            let stop = AtomicBool::new(false);
            let before = allocations();
            run_ops(
                op.as_mut(),
                &mut recorder,
                OpSource::Fixed {
                    start: 0,
                    count: 100_000,
                },
                &stop,
            )
            .unwrap();
            let during = allocations() - before;
            assert_eq!(recorder.ops, 100_000);
            assert_eq!(recorder.histogram.len(), 100_000);
            assert_eq!(
                during, 0,
                "{spec} in {mode:?} mode allocated {during} times"
            );
        }
    }
    // One op at a time, as the pool's jobs do.
    let mut op = worker_op("synthetic/noop");
    let mut recorder = WorkerRecorder::new(Recording::PerOp);
    let before = allocations();
    for i in 0..100_000 {
        recorder.time_op(op.as_mut(), i).unwrap();
    }
    assert_eq!(allocations() - before, 0);
}

#[test]
fn one_histogram_stays_near_264_kib() {
    let before = bytes();
    let histogram = new_histogram();
    let used = bytes() - before;
    drop(histogram);
    eprintln!(
        "one histogram: {used} bytes ({:.1} KiB)",
        used as f64 / 1024.0
    );
    assert!(used <= 270 * 1024, "one histogram takes {used} bytes");
    assert!(used >= 200 * 1024, "suspiciously small: {used} bytes");
}
