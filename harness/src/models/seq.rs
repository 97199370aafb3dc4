//! `seq`: the op loop on the calling thread, with no machinery at all. Its
//! wall time is the true T(1) every other model's speedup can be held to.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use workloads::Workload;

use super::worker_run::{merge_in_process, prepare_shared, static_share, WorkerRun};
use super::{ExecutionModel, Failure, Model, ModelInfo, TrialOutcome, TrialSpec};
use crate::os::machine::MachineSnapshot;
use crate::recorder::schedule::OpSource;

/// What the `seq` model is.
pub(super) const MODEL: Model = Model::new(&INFO);

const INFO: ModelInfo = ModelInfo::new(
    "seq",
    "the calling thread, no machinery: the true T(1); one worker only",
    (0, 0, 0),
    || Box::new(Seq),
)
.max_workers(1);

/// The `seq` model.
pub struct Seq;

impl ExecutionModel for Seq {
    fn model(&self) -> Model {
        MODEL
    }

    fn check_support(&self, _workload: &dyn Workload, workers: usize) -> Result<(), String> {
        if workers == 1 {
            Ok(())
        } else {
            Err("seq runs on the calling thread: one worker only".to_string())
        }
    }

    fn run_trial(&self, spec: &TrialSpec) -> Result<TrialOutcome, Failure> {
        let set_up_start = Instant::now();
        let shared = prepare_shared(spec, self.model())?;
        let mut run = WorkerRun::set_up_with(
            &shared,
            0,
            spec.core_of(0),
            spec.recording,
            spec.open_rate_ops_s.is_some(),
        );
        let spawn_ns = set_up_start.elapsed().as_nanos() as u64;
        run.open_counters();
        let (start, count) = static_share(spec.budget, 1, 0);
        let stop: &AtomicBool = &spec.stop;

        let before = MachineSnapshot::take();
        let release = Instant::now();
        let source = match spec.open_schedule(release, 0) {
            Some(schedule) => OpSource::Open(schedule),
            None => OpSource::Fixed { start, count },
        };
        run.run(source, stop);
        let machine = MachineSnapshot::take().since(&before);

        Ok(merge_in_process(
            vec![run],
            release,
            machine,
            spawn_ns,
            &shared,
        ))
    }
}
