//! `corebench`: every built-in workload under the whole command line (see
//! [`corebench::Suite`]); 2 for bad input (one line naming the bad value),
//! 1 for failures.

use std::process::ExitCode;

fn main() -> ExitCode {
    corebench::Suite::new().with_builtins().main()
}
