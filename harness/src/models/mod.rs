//! Execution models: how workers are created, placed and driven.
//!
//! This file holds only the list of models ([`ALL`]); every model says
//! what it is ([`ModelInfo`]) and implements [`ExecutionModel`] in its own
//! file, so adding a model is one new file and one line here. The runner
//! hands a model a [`TrialSpec`] (the workload, worker count, op budget
//! and the core of every placeable unit) and gets back a [`TrialOutcome`]
//! (wall and CPU time, the merged histogram, every worker's part) or a
//! typed [`Failure`]. Every model follows the measurement rules of
//! DESIGN.md: workers are created and set up (pinned, per-worker state
//! built) before timing starts and released together; each records into
//! its own histogram; waiting is blocking, never spinning.
//!
//! The parts models share live beside them:
//! - [`model`]: the trait, the descriptor and the [`Model`] handle;
//! - [`trial`]: the spec and outcome types of one trial;
//! - [`worker_run`]: a worker's lifecycle (set-up with panics caught, its
//!   op loop, its outcome) and merging workers into a trial outcome;
//! - [`start`]: the gate that releases workers together, spawn and join;
//! - [`process`]: both sides of the child protocol of the `process` model;
//! - [`mock`]: a model with scripted timings and outcomes, for tests.

pub mod mock;
pub mod model;
mod pool;
pub mod process;
mod rayon_model;
mod seq;
pub mod start;
mod threads;
mod tokio_current;
mod tokio_driver;
mod tokio_multi;
pub mod trial;
pub mod worker_run;

pub use crate::failure::Failure;
pub(crate) use model::{lock, lockstep_refusal};
pub use model::{report_series_of, ExecutionModel, Model, ModelInfo, RuntimeThreads};
pub use trial::{ChildSamples, OpBudget, OpenOutcome, TrialOutcome, TrialSpec, WorkerOutcome};

/// The model the calibration reference cell runs under: the true T(1).
pub const REFERENCE: Model = seq::MODEL;

/// The report's series: every model of [`ALL`], in order, with its colour.
pub fn report_series() -> reports::schema::SeriesOrder {
    report_series_of(ALL)
}

/// Every model, in the order reports list them.
pub const ALL: &[Model] = &[
    seq::MODEL,
    threads::MODEL,
    pool::MODEL,
    rayon_model::MODEL,
    process::MODEL,
    tokio_multi::MODEL,
    tokio_current::MODEL,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_model_is_itself_and_parses_by_name() {
        let mut names: Vec<&str> = ALL.iter().map(|m| m.name()).collect();
        names.dedup();
        assert_eq!(names.len(), ALL.len(), "one name per model");
        for (rank, model) in ALL.iter().enumerate() {
            assert_eq!(model.build().model(), *model);
            assert_eq!(model.name().parse::<Model>().unwrap(), *model);
            assert_eq!(model.rank(), rank);
        }
        let mut colours: Vec<_> = ALL.iter().map(|m| m.info().colour).collect();
        colours.sort();
        colours.dedup();
        assert_eq!(colours.len(), ALL.len(), "one colour per model");
    }

    #[test]
    fn a_model_is_one_file_and_one_line_in_a_list() {
        // The mock is declared in its own file only; one line adds it.
        let list = [ALL, &[mock::MODEL]].concat();
        let mock = Model::parse_among("mock", &list).unwrap();
        assert_eq!(mock.rank(), ALL.len(), "unlisted models sort last");
        assert!("mock".parse::<Model>().is_err(), "not in the shipped list");
        assert_eq!(mock.build().model(), mock);
        assert_eq!(mock.runtime_threads(4, 2, None), None);
        assert_eq!(mock.worker_counts(&[1, 2, 4]), [1, 2, 4]);
    }

    #[test]
    fn what_a_model_declares_answers_the_harness() {
        let by = |name: &str| name.parse::<Model>().unwrap();
        assert_eq!(by("seq").worker_counts(&[1, 2, 4]), [1]);
        assert_eq!(by("tokio").runtime_threads(8, 2, None), Some(2));
        assert_eq!(by("tokio").runtime_threads(1, 2, None), Some(1));
        assert_eq!(by("tokio").runtime_threads(8, 2, Some(3)), Some(3));
        assert_eq!(by("tokio-current").runtime_threads(8, 2, None), Some(1));
        assert_eq!(by("threads").runtime_threads(8, 2, None), None);
        assert!(by("process").info().in_children);
        // What each model costs per op, for the report; seq is the
        // reference and costs nothing.
        let series = report_series();
        assert_eq!(series.own_cost("seq"), None);
        for model in ALL.iter().filter(|m| m.name() != "seq") {
            assert!(series.own_cost(model.name()).is_some(), "{}", model.name());
        }
    }

    #[test]
    fn the_calibration_reference_is_the_workload_of_that_name() {
        assert_eq!(
            workloads::cpu::calibrate::INFO.id,
            reports::schema::CALIBRATION_WORKLOAD
        );
    }
}
