//! `corebench`: parses the command line, runs it, and maps errors to exit
//! codes: 2 for bad input (one line naming the bad value), 1 for failures.

use std::process::ExitCode;

use clap::Parser;
use harness::cli::output::StdoutClosed;
use harness::cli::{dispatch, Cli};
use harness::error::UsageError;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    match dispatch(cli) {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        // A reader that went away is a normal end.
        Err(error) if error.chain().any(|e| e.is::<StdoutClosed>()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            let usage = error
                .chain()
                .any(|e| e.downcast_ref::<UsageError>().is_some());
            ExitCode::from(if usage { 2 } else { 1 })
        }
    }
}
