//! `corebench`: every built-in workload under the whole command line (see
//! [`corebench::Suite`]); 2 for bad input (one line naming the bad value),
//! 1 for failures.

use std::process::ExitCode;

/// An op that runs out of memory fails its trial, not the run.
#[global_allocator]
static ALLOC: corebench::oom::ContainedAlloc = corebench::oom::ContainedAlloc;

fn main() -> ExitCode {
    corebench::Suite::new().with_builtins().main()
}
