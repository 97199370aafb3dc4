//! `own-workload-example`: the corebench command line over this crate's
//! two workloads, e.g.
//! `cargo run --release -p own-workload-example -- run --models all --workers 1,2`.

/// An op that runs out of memory fails its trial, not the run (see
/// `corebench::oom`); leave it out if this binary has an allocator of its
/// own.
#[global_allocator]
static ALLOC: corebench::oom::ContainedAlloc = corebench::oom::ContainedAlloc;

fn main() -> std::process::ExitCode {
    own_workload_example::suite().main()
}
