//! `exec`'s commands around the measured program, as hyperfine has them:
//! `--setup` once per variant before its first run, `--prepare` before
//! every run (warm-ups too), outside the timed region, and `--cleanup`
//! once per variant after the last round. Each is given once for all
//! variants or once per variant, in the variants' order, and runs through
//! `sh -c` with `{workers}` replaced and `COREBENCH_WORKERS` set.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::error::UsageError;
use crate::failure::Failure;

/// One variant's commands around its runs.
#[derive(Debug, Default)]
pub struct Hooks {
    setup: Option<String>,
    prepare: Option<String>,
    cleanup: Option<String>,
    /// Its setup ran (and so its cleanup is owed).
    set_up: AtomicBool,
}

/// Where a hook runs: the program's limits and environment.
pub struct Place<'a> {
    /// Workers of the run it precedes.
    pub workers: usize,
    /// The cores the program may use.
    pub mask: &'a [usize],
    /// How long a command may take.
    pub limit: Duration,
    /// Environment every program gets (the guardian's tag).
    pub env: &'a [(String, String)],
    /// The children the orphan hunt spares (the guardian, the server).
    pub spare: &'a [u32],
}

/// Each variant's hooks from `--setup`, `--prepare` and `--cleanup`.
pub fn per_variant(
    setup: &[String],
    prepare: &[String],
    cleanup: &[String],
    variants: usize,
) -> Result<Vec<Arc<Hooks>>, UsageError> {
    let pick = |flag: &str, given: &[String]| -> Result<Vec<Option<String>>, UsageError> {
        match given.len() {
            0 => Ok(vec![None; variants]),
            1 => Ok(vec![Some(given[0].clone()); variants]),
            n if n == variants => Ok(given.iter().cloned().map(Some).collect()),
            n => Err(UsageError::new(format!(
                "bad {flag}: given {n} times for {variants} variants; give it once for all of them or once per variant, in their order"
            ))),
        }
    };
    let (setup, prepare, cleanup) = (
        pick("--setup", setup)?,
        pick("--prepare", prepare)?,
        pick("--cleanup", cleanup)?,
    );
    Ok((0..variants)
        .map(|i| {
            Arc::new(Hooks {
                setup: setup[i].clone(),
                prepare: prepare[i].clone(),
                cleanup: cleanup[i].clone(),
                set_up: AtomicBool::new(false),
            })
        })
        .collect())
}

impl Hooks {
    /// Before a run: the setup, the first time, then the prepare.
    pub fn before_run(&self, place: &Place<'_>) -> Result<(), Failure> {
        if !self.set_up.swap(true, Ordering::AcqRel) {
            run_hook("setup", self.setup.as_deref(), place)?;
        }
        run_hook("prepare", self.prepare.as_deref(), place)
    }

    /// After the last round: the cleanup, where the setup ran.
    pub fn after_series(&self, place: &Place<'_>) -> Result<(), Failure> {
        if self.set_up.load(Ordering::Acquire) {
            run_hook("cleanup", self.cleanup.as_deref(), place)?;
        }
        Ok(())
    }
}

/// Runs one hook; a failure names it.
fn run_hook(which: &str, command: Option<&str>, place: &Place<'_>) -> Result<(), Failure> {
    let Some(command) = command else {
        return Ok(());
    };
    let argv = [
        "sh".to_string(),
        "-c".to_string(),
        command.replace("{workers}", &place.workers.to_string()),
    ];
    let mut env = vec![(super::WORKERS_ENV.to_string(), place.workers.to_string())];
    env.extend(place.env.iter().cloned());
    let stdout = super::child::StdoutTo::Null;
    super::child::run_program(&argv, &env, place.mask, place.limit, place.spare, &stdout)
        .map(|_| ())
        .map_err(|e| e.prefixed(&format!("--{which} '{command}': ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hook_is_given_once_for_all_or_once_per_variant() {
        let one = per_variant(&["make".into()], &[], &[], 3).unwrap();
        assert!(one.iter().all(|h| h.setup.as_deref() == Some("make")));
        let each = per_variant(&[], &["a".into(), "b".into()], &[], 2).unwrap();
        assert_eq!(each[1].prepare.as_deref(), Some("b"));
        let bad = per_variant(&[], &[], &["x".into(), "y".into()], 3).unwrap_err();
        assert!(bad
            .to_string()
            .contains("--cleanup: given 2 times for 3 variants"));
    }
}
