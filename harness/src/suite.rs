//! [`Suite`]: your own workloads under the whole corebench command line.
//!
//! A suite is a [`Registry`] and a `main`: it parses the command line
//! (`run`, `list`, `report`, `compare`, `profile`, the hidden `worker`, ...)
//! exactly as the `corebench` binary does and runs it over its own
//! workloads. Under the `process` model the children re-execute the same
//! binary as `worker`, which builds the same suite, so your workloads run
//! in separate processes too.

use std::ffi::OsString;
use std::process::ExitCode;

use workloads::custom::Custom;
use workloads::{Registry, WorkloadInfo};

use crate::cli::{dispatch_with, Cli};
use crate::error::UsageError;
use crate::output::StdoutClosed;

/// The workloads a program benchmarks, and its `main`.
///
/// By default a suite holds only your workloads, plus the two the harness
/// itself needs in every run: `synthetic/noop` (each model's dispatch
/// floor) and `cpu/calibrate` (the single-core reference comparisons
/// divide by). [`Suite::with_builtins`] adds corebench's own.
#[derive(Debug, Clone)]
pub struct Suite {
    registry: Registry,
    /// Registrations that failed (a duplicate or malformed id), reported
    /// by [`Suite::main`] as bad input.
    errors: Vec<String>,
}

impl Default for Suite {
    fn default() -> Self {
        Suite::new()
    }
}

impl Suite {
    /// A suite of no workloads of your own yet.
    pub fn new() -> Suite {
        Suite {
            registry: Registry::harness_own(),
            errors: Vec::new(),
        }
    }

    /// Adds a workload that implements [`workloads::Workload`] itself,
    /// by its static description (with parameters, if it has any).
    pub fn workload(mut self, info: &'static WorkloadInfo) -> Suite {
        if let Err(e) = self.registry.register(info) {
            self.errors.push(e.to_string());
        }
        self
    }

    /// Adds a workload made from closures ([`Custom::from_fn`],
    /// [`Custom::from_fn_shared`], [`Custom::from_async_fn`]).
    pub fn custom(mut self, custom: Custom) -> Suite {
        if let Err(e) = self.registry.register_custom(custom) {
            self.errors.push(e.to_string());
        }
        self
    }

    /// Adds every workload corebench ships (`corebench list` shows them).
    pub fn with_builtins(mut self) -> Suite {
        // In `corebench list` order, yours after them.
        let mut registry = Registry::builtin();
        registry.merge(&self.registry);
        self.registry = registry;
        self
    }

    /// The workloads it holds.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Runs the command line of this process and returns its exit code:
    /// 0 done, 1 a failure, 2 bad input. The `--bench` flag `cargo bench`
    /// passes to `harness = false` targets is accepted and ignored; with
    /// no subcommand after it, `run` is meant, so `cargo bench` (or
    /// `cargo bench -- --profile quick`) writes a results folder and its
    /// report.
    pub fn main(self) -> ExitCode {
        ExitCode::from(self.run_args(std::env::args_os()).clamp(0, 255) as u8)
    }

    /// Runs `args` (the program name first) as a command line; returns
    /// the exit code.
    pub fn run_args<I, T>(self, args: I) -> i32
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString>,
    {
        let mut args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let benched = args.iter().any(|a| a == "--bench");
        args.retain(|a| a != "--bench");
        // `cargo bench` alone, or `cargo bench -- --profile quick`: run.
        let subcommand = args
            .get(1)
            .and_then(|a| a.to_str())
            .map(|a| !a.starts_with('-'));
        if benched && subcommand != Some(true) {
            args.insert(1.min(args.len()), "run".into());
        }
        if !self.errors.is_empty() {
            eprintln!("error: {}", self.errors.join("; "));
            return 2;
        }
        let cli = match parse(args) {
            Ok(cli) => cli,
            Err(e) => {
                let _ = e.print();
                return e.exit_code();
            }
        };
        match dispatch_with(cli, std::sync::Arc::new(self.registry)) {
            Ok(code) => code,
            // A reader that went away is a normal end.
            Err(error) if error.chain().any(|e| e.is::<StdoutClosed>()) => 0,
            Err(error) => {
                eprintln!("error: {error:#}");
                let usage = error
                    .chain()
                    .any(|e| e.downcast_ref::<UsageError>().is_some());
                if usage {
                    2
                } else {
                    1
                }
            }
        }
    }
}

/// Parses a command line, and notes which of `run`'s flags it gave (a
/// plan file's keys yield only to those).
fn parse(args: Vec<OsString>) -> Result<Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    let matches = Cli::command().try_get_matches_from(args)?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    if let (crate::cli::Command::Run(run), Some(("run", given))) =
        (&mut cli.command, matches.subcommand())
    {
        run.given = given
            .ids()
            .filter(|id| {
                given.value_source(id.as_str()) == Some(clap::parser::ValueSource::CommandLine)
            })
            .map(|id| id.to_string())
            .collect();
    }
    Ok(cli)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suite_holds_its_own_workloads_and_the_harness_ones() {
        let suite = Suite::new().custom(Custom::from_fn("mine/noop", "nothing", |_| {
            |_op: u64| Ok::<(), String>(())
        }));
        let ids = suite.registry().ids();
        assert!(ids.contains(&"mine/noop"));
        assert!(ids.contains(&"synthetic/noop") && ids.contains(&"cpu/calibrate"));
        assert!(!ids.contains(&"cpu/primes"));
        assert!(suite
            .with_builtins()
            .registry()
            .ids()
            .contains(&"cpu/primes"));
    }

    #[test]
    fn a_duplicate_is_bad_input_and_bench_alone_is_accepted() {
        let twice = Suite::new().workload(&workloads::cpu::primes::INFO);
        let twice = twice.workload(&workloads::cpu::primes::INFO);
        assert_eq!(twice.run_args(["corebench", "list"]), 2);
        assert_eq!(Suite::new().run_args(["corebench", "--bench", "list"]), 0);
        // `cargo bench -- --bad-flag`: run is meant, and the flag is bad.
        assert_eq!(
            Suite::new().run_args(["corebench", "--bench", "--bad-flag"]),
            2
        );
    }
}
