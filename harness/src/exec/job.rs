//! One exec program, validated ([`ExecJob::from_args`]) before anything
//! runs, and run into a results folder ([`run_job`]): by `corebench exec`,
//! and by `corebench run` for each `[[exec]]` program of a plan file, into
//! the same folder as the plan's workloads.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use reports::schema::plan::{ExecProgram, WorkerCounts};
use reports::schema::Status;
use workloads::{Scaling, Workload};

use super::cell::ExecCell;
use super::workload::ExecWorkload;
use super::{child, guard, hooks, params, parse_variant, ExecArgs, Variant};
use crate::disturbance::{DisturbancePolicy, OnDisturbance};
use crate::error::UsageError;
use crate::placement::{parse_placement_list, CpuSet, Placement};
use crate::plan::LoadMode;
use crate::record::RecordContext;
use crate::recorder::Recording;
use crate::results::ResultsWriter;
use crate::runner::rounds;
use crate::supervisor::Supervisor;

/// An exec program with every option checked.
pub struct ExecJob {
    /// Records say `exec/NAME`.
    pub name: String,
    variants: Vec<Variant>,
    /// The `--variant` texts as given, for the resolved plan.
    variant_texts: Vec<String>,
    parameter_texts: Vec<String>,
    sets: Vec<params::ParamSet>,
    hook_texts: [Vec<String>; 3],
    /// Each parameter set's hooks, per variant.
    hooks: Vec<Vec<Arc<hooks::Hooks>>>,
    output: child::StdoutTo,
    show_output: bool,
    limit: std::time::Duration,
    placement: Placement,
    /// Worker counts, ascending.
    pub workers: Vec<usize>,
    /// Trials per variant and worker count.
    pub trials: u32,
    warmup: u32,
    io_bound: bool,
    scaling: Scaling,
    wall_profile: bool,
    seed: u64,
    /// What a disturbed run does, and what counts as one.
    pub policy: DisturbancePolicy,
}

/// What the terminal shows while a job runs.
#[derive(Debug, Clone, Copy)]
pub struct Shown {
    /// Nothing but failures.
    pub quiet: bool,
    /// A progress bar (on a terminal).
    pub progress: bool,
    /// Each run as it ends.
    pub verbose: bool,
}

/// How a job went.
#[derive(Debug, Default)]
pub struct JobOutcome {
    /// Trials that failed, and hooks that did.
    pub failed: usize,
    /// Trials written.
    pub kept: usize,
}

impl ExecJob {
    /// Checks every option of `args` against the cores `cpus` holds.
    pub fn from_args(args: &ExecArgs, cpus: &CpuSet) -> Result<ExecJob, UsageError> {
        let name = args.name.trim().to_string();
        if name.is_empty() || name.contains(['/', ':', ',', ' ']) {
            return Err(UsageError::new(format!(
                "bad --name '{}': expected a name without / : , or spaces, e.g. primes",
                args.name
            )));
        }
        let variants: Vec<Variant> = args
            .variants
            .iter()
            .map(|v| parse_variant(v))
            .collect::<Result<_, _>>()?;
        if args.trials == 0 {
            return Err(UsageError::new("bad --trials 0: expected 1 or more"));
        }
        let sets = params::parameter_sets(&args.parameters)?;
        let output = match (args.output.as_str(), args.show_output) {
            ("null", _) => child::StdoutTo::Null,
            (_, true) => {
                return Err(UsageError::new(format!(
                    "bad --output '{}' with --show-output: --show-output keeps the output itself; give one or the other",
                    args.output
                )))
            }
            ("inherit", false) => child::StdoutTo::Inherit,
            ("", false) => {
                return Err(UsageError::new(
                    "bad --output '': expected null, inherit or a file to append to",
                ))
            }
            (file, false) => child::StdoutTo::Append(file.into()),
        };
        // Each parameter set has its own hooks: setup runs once per
        // variant and set, with the set's values in the commands.
        let hooks: Vec<Vec<Arc<hooks::Hooks>>> = sets
            .iter()
            .map(|set| {
                let with = |given: &[String]| -> Vec<String> {
                    given.iter().map(|c| params::substitute(c, set)).collect()
                };
                hooks::per_variant(
                    &with(&args.setup),
                    &with(&args.prepare),
                    &with(&args.cleanup),
                    variants.len(),
                )
            })
            .collect::<Result<_, _>>()?;
        let limit = crate::plan::parse_trial_timeout(args.trial_timeout_s)?;
        let placements = parse_placement_list(&args.pin)?;
        let [placement] = placements.as_slice() else {
            return Err(UsageError::new(format!(
                "bad --pin '{}': exec takes one placement",
                args.pin
            )));
        };
        cpus.validate(placement)?;
        let workers = match &args.workers {
            Some(list) => crate::plan::parse_workers(list)?,
            None => std::iter::successors(Some(1usize), |n| Some(n * 2))
                .take_while(|n| *n <= cpus.core_count().max(2))
                .collect(),
        };
        Ok(ExecJob {
            name,
            variants,
            variant_texts: args.variants.clone(),
            parameter_texts: args.parameters.clone(),
            sets,
            hook_texts: [
                args.setup.clone(),
                args.prepare.clone(),
                args.cleanup.clone(),
            ],
            hooks,
            output,
            show_output: args.show_output,
            limit,
            placement: placement.clone(),
            workers,
            trials: args.trials,
            warmup: args.warmup,
            io_bound: args.io_bound,
            scaling: args.scaling,
            wall_profile: args.wall_profile,
            seed: args.seed.unwrap_or(0),
            policy: DisturbancePolicy {
                on_disturbance: args.on_disturbance,
                max_retries: args.max_retries,
                rule: crate::disturbance::parse_disturbance_rule(&args.disturbance)?,
            },
        })
    }

    /// The program as a resolved plan holds it: every count explicit.
    pub fn resolved(&self) -> ExecProgram {
        let [setup, prepare, cleanup] = self.hook_texts.clone();
        ExecProgram {
            name: self.name.clone(),
            variants: self.variant_texts.clone(),
            workers: Some(WorkerCounts::Counts(
                self.workers.iter().map(|&n| n as u64).collect(),
            )),
            trials: Some(self.trials),
            warmup: Some(self.warmup),
            setup,
            prepare,
            cleanup,
            parameters: self.parameter_texts.clone(),
            io_bound: self.io_bound,
            trial_timeout_s: Some(self.limit.as_secs_f64()),
        }
    }

    /// The one-line header a run prints before it starts.
    pub fn header(&self, out: &Path) -> String {
        format!(
            "corebench exec: exec/{}, {} variants{} x workers {} x {} trials -> {}",
            self.name,
            self.variants.len(),
            if self.sets.len() > 1 {
                format!(" x {} parameter sets", self.sets.len())
            } else {
                String::new()
            },
            self.workers
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(","),
            self.trials,
            out.display()
        )
    }

    /// The program each variant starts, for a check that it exists.
    pub fn programs(&self) -> impl Iterator<Item = &str> {
        self.variants
            .iter()
            .filter_map(|v| v.argv.first().map(String::as_str))
    }

    /// The scripts the variants name (`*.py`, `*.sh`, ...), for a check
    /// that they exist here.
    pub fn scripts(&self) -> impl Iterator<Item = &str> {
        const SCRIPTS: [&str; 5] = [".py", ".sh", ".rb", ".js", ".pl"];
        self.variants
            .iter()
            .flat_map(|v| v.argv.iter().skip(1))
            .filter(|word| !word.contains('{') && SCRIPTS.iter().any(|s| word.ends_with(s)))
            .map(String::as_str)
    }
}

/// Runs every cell of `job` into `writer`, in `run`'s round loop: trial 1
/// of every variant and worker count, then trial 2, each round in a
/// shuffled order; then each variant's cleanup.
pub fn run_job(
    job: &ExecJob,
    cpus: &CpuSet,
    writer: &mut ResultsWriter,
    run_id: &str,
    shown: Shown,
) -> anyhow::Result<JobOutcome> {
    crate::os::process::become_subreaper();
    crate::os::machine::watch_cpus(&cpus.ids());
    let out = writer.dir().to_path_buf();
    let scratch = out.join("exec-ops");
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let guardian = guard::Guardian::start(&scratch);
    let tag = guardian.as_ref().map(guard::Guardian::env);
    // What ran before the programs is not theirs to leave: the guardian,
    // and `run`'s loopback server when a plan file runs them.
    let spare: Arc<[u32]> = crate::os::process::children_of(std::process::id())
        .into_iter()
        .chain(guardian.as_ref().map(guard::Guardian::pid))
        .collect();
    let workloads: Vec<Arc<dyn Workload>> = job
        .sets
        .iter()
        .map(|set| {
            Arc::new(ExecWorkload::new(
                &job.name,
                job.io_bound,
                params::as_workload_params(set),
            )) as Arc<dyn Workload>
        })
        .collect();
    let (set_count, variant_count, worker_count) =
        (job.sets.len(), job.variants.len(), job.workers.len());
    let cell_keys = (0..set_count).flat_map(|s| {
        (0..variant_count).flat_map(move |v| (0..worker_count).map(move |w| (s, v, w)))
    });
    let mut cells: Vec<ExecCell> = cell_keys
        .map(|(s, v, w)| {
            let n = job.workers[w];
            let variant = Variant {
                label: job.variants[v].label.clone(),
                argv: job.variants[v]
                    .argv
                    .iter()
                    .map(|word| params::substitute(word, &job.sets[s]))
                    .collect(),
            };
            let cores = cpus.resolve(&job.placement, n);
            let mut mask: Vec<usize> = cores.iter().flatten().copied().collect();
            mask.sort_unstable();
            mask.dedup();
            ExecCell {
                name: job.name.clone(),
                param_env: params::environment(&job.sets[s]),
                ctx: RecordContext {
                    workload: Arc::clone(&workloads[s]),
                    model: variant.label.clone(),
                    workers: n,
                    runtime_threads: None,
                    placement: job.placement.to_string(),
                    cores,
                    scaling: job.scaling,
                    load: LoadMode::Closed,
                    recording: Recording::PerOp,
                    run_id: run_id.to_string(),
                    is_async: false,
                },
                mask,
                trials: job.trials,
                done: 0,
                cores: cpus.core_count(),
                scratch: scratch.clone(),
                limit: job.limit,
                tag: tag.clone(),
                spare: Arc::clone(&spare),
                wall_profile_asked: job.wall_profile,
                warmup_left: job.warmup,
                policy: job.policy,
                attempt: 1,
                pending: None,
                clean: 0,
                hooks: Arc::clone(&job.hooks[s][v]),
                stdout: if job.show_output {
                    child::StdoutTo::Capture(scratch.join(format!("{s}-{v}-{n}.stdout")))
                } else {
                    job.output.clone()
                },
                variant,
            }
        })
        .collect();
    let mut outcome = JobOutcome::default();
    let progress = rounds::progress_bar(
        cells.len() as u64 * u64::from(job.trials),
        !shown.quiet && shown.progress,
    );
    let mut supervisor = Supervisor::default();
    rounds::run_rounds(
        &mut cells,
        |round| job.seed ^ u64::from(round),
        &mut supervisor,
        &mut crate::runner::retries::Retries::new(
            (job.policy.on_disturbance == OnDisturbance::Retry).then_some(
                crate::runner::retries::QuietRule {
                    rule: job.policy.rule,
                    cores: cpus.core_count(),
                },
            ),
        ),
        &progress,
        |record, label| {
            if record.status != Status::Ok {
                outcome.failed += 1;
                let message = format!(
                    "{label}: {} — {}",
                    record.status.as_str(),
                    record.error.as_deref().unwrap_or("")
                );
                progress.suspend(|| eprintln!("{message}"));
            } else if shown.verbose {
                let message = crate::runner::trial_line(label, &record);
                progress.suspend(|| eprintln!("{message}"));
            }
            writer.append(&record)?;
            outcome.kept += 1;
            Ok(())
        },
    )?;
    progress.finish_and_clear();
    // Each variant's cleanup, after its last round (or the run's end).
    for (set, hooks) in job.sets.iter().zip(&job.hooks) {
        let mut env: Vec<(String, String)> = tag.iter().cloned().collect();
        env.extend(params::environment(set));
        for (variant, hooks) in job.variants.iter().zip(hooks) {
            let place = hooks::Place {
                workers: job.workers.iter().copied().max().unwrap_or(1),
                mask: &[],
                limit: job.limit,
                env: &env,
                spare: &spare,
            };
            if let Err(e) = hooks.after_series(&place) {
                outcome.failed += 1;
                eprintln!("corebench: {}: {}", variant.label, e.message);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    if let Some(guardian) = guardian {
        guardian.finish();
    }
    Ok(outcome)
}
