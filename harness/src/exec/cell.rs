//! One variant of `corebench exec` at one worker count, as the runner's
//! round loop drives it ([`TrialSource`]): each trial runs the program
//! once, judges the machine over it as `run` judges a trial, and hands
//! its parts to the one record builder. A disturbed trial is flagged by
//! default, not run again: a foreign program may change what it does
//! between runs (files it left, caches it warmed); `--on-disturbance
//! retry` runs it again later in the round, as `run` does.

use std::path::PathBuf;
use std::time::Duration;

use reports::schema::ModelOverhead;

use super::{run_once, Variant};
use crate::disturbance::{self, OnDisturbance};
use crate::record::{RecordContext, TrialParts};
use crate::runner::rounds::{TrialEnd, TrialSource};
use crate::supervisor::Supervisor;

/// A variant at one worker count, between trials.
pub(super) struct ExecCell {
    /// The workload's name (`exec/NAME`).
    pub name: String,
    /// The program, its parameters replaced.
    pub variant: Variant,
    /// Its parameter set's environment (`COREBENCH_PARAM_NAME`).
    pub param_env: Vec<(String, String)>,
    /// Where its program's stdout goes.
    pub stdout: super::child::StdoutTo,
    /// What its records share.
    pub ctx: RecordContext,
    /// The cores its program may use (empty: all of the run's).
    pub mask: Vec<usize>,
    /// Trials to run, and run so far.
    pub trials: u32,
    pub done: u32,
    /// Cores of the run, for the disturbance rule.
    pub cores: usize,
    /// Where the program's ops files are written.
    pub scratch: PathBuf,
    /// `--wall-profile` was given: its records say why there is none.
    pub wall_profile_asked: bool,
    /// Warm-up runs still to do before its first measured one.
    pub warmup_left: u32,
    /// What a disturbed run does, and what counts as one.
    pub policy: crate::disturbance::DisturbancePolicy,
    /// The attempt of the current trial, from 1.
    pub attempt: u32,
    /// A disturbed attempt held for a re-run.
    pub pending: Option<reports::schema::Record>,
    /// Trials kept clean so far.
    pub clean: usize,
    /// Its variant's setup, prepare and cleanup.
    pub hooks: std::sync::Arc<super::hooks::Hooks>,
    /// A run of the program past this is killed.
    pub limit: Duration,
    /// The guardian's tag, set in the program's environment.
    pub tag: Option<(String, String)>,
    /// The children the orphan hunt spares: the guardian, and those that
    /// ran before the programs (`run`'s loopback server).
    pub spare: std::sync::Arc<[u32]>,
}

impl TrialSource for ExecCell {
    fn label(&self) -> String {
        format!(
            "exec/{} · {} · {}",
            self.name,
            self.variant.label,
            reports::format::workers_phrase(self.ctx.workers as u32)
        )
    }

    fn wants_more(&self) -> bool {
        self.done < self.trials
    }

    fn skipped(&self) -> u32 {
        self.trials - self.done
    }

    fn next_trial(&mut self, round: u32, _supervisor: &mut Supervisor) -> Option<TrialEnd> {
        let n = self.ctx.workers;
        let ops_file = self
            .scratch
            .join(format!("{}-{n}-{}.ops", self.variant.label, self.done));
        // Warm-up runs come first, unrecorded; one that fails fails the
        // cell with its reason, as `run`'s warm-up does. Every run has its
        // prepare first (and the variant's first, its setup).
        while self.warmup_left > 0 {
            self.warmup_left -= 1;
            let warm_up = self.run(&ops_file);
            if crate::interrupt::requested().is_some() {
                return None;
            }
            if let Err(e) = warm_up {
                let record = self.ctx.record(TrialParts::failed(
                    e.prefixed("warm-up: "),
                    ModelOverhead::default(),
                ));
                self.done = self.trials;
                return Some(TrialEnd::Kept(Box::new(record)));
            }
        }
        let result = self.run(&ops_file);
        if crate::interrupt::requested().is_some() {
            return None;
        }
        let view = result.as_ref().ok().map(|outcome| {
            let context = disturbance::Context {
                cores: self.cores,
                extra_threads: 0,
                target_load_expected: false,
            };
            let mut view = disturbance::judge(outcome, context, &self.policy.rule);
            view.attempt = self.attempt;
            if self.policy.on_disturbance == OnDisturbance::Ignore {
                view.disturbed = false;
                view.reasons.clear();
            }
            view
        });
        let disturbed = view.as_ref().is_some_and(|v| v.disturbed);
        let peak = result
            .as_ref()
            .ok()
            .and_then(|o| o.counters.get("peak_rss_upper_bound_kib").copied());
        let mut notes = vec![if self.mask.is_empty() {
            "a foreign program: it may use every core of the run, and places its own threads"
                .to_string()
        } else {
            format!(
                "a foreign program: it got the mask of cores {}, not a core per thread",
                reports::format::cpu_list(&self.mask.iter().map(|&c| c as u32).collect::<Vec<_>>())
            )
        }];
        if self.wall_profile_asked {
            notes.push(
                "not wall-profiled: an exec program is a process of its own, which corebench cannot signal and unwind from inside; the breakdown's blocked share is all there is".to_string(),
            );
        }
        if peak.is_some() {
            notes.push(
                "peak_rss_upper_bound_kib is ru_maxrss, which a forked child inherits from corebench: an upper bound".to_string(),
            );
        }
        let record = self.ctx.record(TrialParts {
            trial: self.done,
            round: Some(round),
            result,
            overhead: ModelOverhead::default(),
            machine: view,
            notes,
            waits: None,
        });
        let retry = disturbed
            && record.status == reports::schema::Status::Ok
            && self.policy.on_disturbance == OnDisturbance::Retry
            && self.attempt <= self.policy.max_retries;
        if retry {
            self.attempt += 1;
            self.pending = Some(record);
            return Some(TrialEnd::Disturbed);
        }
        if record.status == reports::schema::Status::Ok && !disturbed {
            self.clean += 1;
        }
        Some(TrialEnd::Kept(Box::new(self.finish(record))))
    }

    fn clean_so_far(&self) -> usize {
        self.clean
    }

    fn holds_disturbed(&self) -> bool {
        self.pending.is_some()
    }

    fn keep_disturbed(&mut self) -> Option<reports::schema::Record> {
        let record = self.pending.take()?;
        Some(self.finish(record))
    }
}

impl ExecCell {
    /// Ends the current trial with `record`.
    fn finish(&mut self, record: reports::schema::Record) -> reports::schema::Record {
        self.pending = None;
        self.attempt = 1;
        self.done += 1;
        record
    }

    /// One run of its program, its variant's setup (the first time) and
    /// prepare before it.
    fn run(
        &self,
        ops_file: &std::path::Path,
    ) -> Result<crate::models::TrialOutcome, crate::failure::Failure> {
        let mut env: Vec<(String, String)> = self.tag.iter().cloned().collect();
        env.extend(self.param_env.iter().cloned());
        self.hooks.before_run(&super::hooks::Place {
            workers: self.ctx.workers,
            mask: &self.mask,
            limit: self.limit,
            env: &env,
            spare: &self.spare,
        })?;
        run_once(self, ops_file, &env)
    }
}
