//! What a trial is given and what it gives back: the [`TrialSpec`] the
//! runner hands a model (workload, workers, op budget, cores, deadline),
//! and the [`TrialOutcome`] a model returns (wall and CPU time, the merged
//! histogram, every worker's part) or a typed [`Failure`].

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use hdrhistogram::Histogram;
use reports::schema::ThreadRecord;
use workloads::{IoEnv, RunShape, Scaling, Workload};

use super::Model;
use crate::failure::Failure;
use crate::os::machine::MachineDelta;
use crate::os::schedstat::ThreadSched;
use crate::os::usage::CpuTime;
use crate::pacing::OpenSchedule;
use crate::placement::Placed;
use crate::recorder::{new_histogram, OpenRecorder, Recording};

/// How many ops a trial runs, and how they are handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpBudget {
    /// `total` ops with indices `0..total`, handed out by the model's own
    /// scheduler (dynamic batches, jobs, or a static split).
    Shared {
        /// Ops in the trial.
        total: u64,
    },
    /// Every worker runs exactly `ops` ops, indices `0..ops` (lockstep
    /// workloads: one op is a worker's part in one round).
    PerWorker {
        /// Ops per worker.
        ops: u64,
    },
}

impl OpBudget {
    /// Ops in the whole trial.
    pub fn total(self, workers: usize) -> u64 {
        match self {
            OpBudget::Shared { total } => total,
            OpBudget::PerWorker { ops } => ops * workers as u64,
        }
    }
}

/// Everything a model needs to run one trial.
#[derive(Clone)]
pub struct TrialSpec {
    /// What to run.
    pub workload: Arc<dyn Workload>,
    /// Concurrent workers (tasks, for the async models).
    pub workers: usize,
    /// Strong or weak; passed on to the workload.
    pub scaling: Scaling,
    /// How many ops.
    pub budget: OpBudget,
    /// The core of each placeable unit: worker threads or child processes,
    /// or the runtime threads of the async models. `None`: not pinned.
    pub cores: Vec<Option<usize>>,
    /// OS threads of an async runtime (the async models only; equals
    /// `cores.len()` for them).
    pub runtime_threads: usize,
    /// How ops are timed.
    pub recording: Recording,
    /// Give up on the trial after this instant.
    pub deadline: Instant,
    /// Open-loop arrival rate, ops/s; `None` for closed load.
    pub open_rate_ops_s: Option<f64>,
    /// The loopback server, `--target` and the IO workloads' folder.
    pub io: IoEnv,
    /// Raised to stop the trial's workers between ops: by a worker whose
    /// op failed, or by the runner when it abandons the trial (time-out) or
    /// the run is interrupted. The model hands it to every worker.
    pub stop: Arc<AtomicBool>,
    /// `run --flamegraph`: the rate at which models whose work runs in
    /// other processes ask those to sample themselves (the `process`
    /// model's children); in-process work is sampled by the cell.
    pub sample_hz: Option<u32>,
    /// `run --wall-profile`: the wall-clock rate at which child processes
    /// sample themselves, as `sample_hz` is for the CPU profile.
    pub wall_hz: Option<u32>,
}

impl TrialSpec {
    /// A closed-load, strong-scaling trial of `ops` ops shared by
    /// `workers` unpinned workers, with a minute's deadline and no probe:
    /// what the benches time.
    pub fn bare(
        workload: &Arc<dyn Workload>,
        workers: usize,
        ops: u64,
        recording: Recording,
    ) -> TrialSpec {
        TrialSpec {
            workload: Arc::clone(workload),
            workers,
            scaling: Scaling::Strong,
            budget: OpBudget::Shared { total: ops },
            cores: vec![None; workers],
            runtime_threads: workers,
            recording,
            deadline: Instant::now() + std::time::Duration::from_secs(60),
            open_rate_ops_s: None,
            io: Default::default(),
            stop: Default::default(),
            sample_hz: None,
            wall_hz: None,
        }
    }

    /// The shape the workload is prepared for under `model`: async ops
    /// when the model awaits them and the workload offers them.
    pub fn shape(&self, model: Model) -> RunShape {
        RunShape {
            workers: self.workers,
            scaling: self.scaling,
            total_ops: self.budget.total(self.workers),
            io: self.io.clone(),
            async_ops: model.info().is_async && self.workload.is_async_native(),
        }
    }

    /// Worker `index`'s share of the open-loop schedule starting at `base`,
    /// or `None` under closed load (and for lockstep budgets, which the
    /// runner never runs open).
    pub fn open_schedule(&self, base: Instant, index: usize) -> Option<OpenSchedule> {
        let rate = self.open_rate_ops_s?;
        let OpBudget::Shared { total } = self.budget else {
            return None;
        };
        Some(OpenSchedule::share(base, rate, total, index, self.workers))
    }

    /// The core of unit `index`, wrapping like placement does.
    pub fn core_of(&self, index: usize) -> Option<usize> {
        if self.cores.is_empty() {
            None
        } else {
            self.cores[index % self.cores.len()]
        }
    }
}

/// One worker's part in a finished trial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerOutcome {
    /// Worker index.
    pub index: usize,
    /// The process it ran in.
    pub pid: u32,
    /// The thread it was set up on (the child's pid under `process`).
    pub tid: u32,
    /// Where the OS let it run.
    pub placed: Placed,
    /// Ops it completed.
    pub ops: u64,
    /// From release to its last op.
    pub wall_ns: u64,
    /// Why it failed, if it did.
    pub error: Option<Failure>,
}

/// What a finished trial measured.
pub struct TrialOutcome {
    /// From release to the end of the last op.
    pub wall_ns: u64,
    /// CPU time of the workers during the timed region.
    pub cpu: CpuTime,
    /// Every worker's histogram, merged.
    pub histogram: Histogram<u64>,
    /// Every worker's part.
    pub workers: Vec<WorkerOutcome>,
    /// Creating the workers until all were ready.
    pub spawn_ns: Option<u64>,
    /// Runtime threads of the async models, as placed.
    pub runtime_threads: Vec<ThreadRecord>,
    /// Whether the async op ran.
    pub async_op: bool,
    /// How ops were timed.
    pub recording: Recording,
    /// Workload-specific counters.
    pub counters: BTreeMap<String, f64>,
    /// The workload's own latency histograms (e.g. `event_latency`).
    pub workload_histograms: BTreeMap<String, Histogram<u64>>,
    /// Open-loop extras (`histogram` is then from due times).
    pub open: Option<OpenOutcome>,
    /// The machine over the timed region (`/proc/stat`, pressure, our own
    /// CPU time), when the model read it.
    pub machine: Option<MachineDelta>,
    /// The worker (or runtime) threads' scheduler counters over the timed
    /// region, where the kernel keeps them.
    pub sched: Vec<ThreadSched>,
    /// The pool's submitter thread over the timed region: apart from the
    /// workers, so fairness and the breakdown stay about them.
    pub submitter_sched: Option<ThreadSched>,
    /// CPU time of child processes, ns, already in `cpu` but not in the
    /// machine view's own time: the `process` model's children.
    pub children_cpu_ns: u64,
    /// What the record's `notes` must say about this trial.
    pub notes: Vec<String>,
    /// Samples child processes took of themselves (`sample_hz`).
    pub child_samples: Option<ChildSamples>,
    /// Wall-clock samples child processes took of themselves (`wall_hz`).
    pub child_wall: Option<crate::wall::WallSamples>,
}

/// Folded stacks sampled in child processes, merged over the children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChildSamples {
    /// Folded stack to sample count.
    pub stacks: Vec<(String, u64)>,
    /// Samples taken, dropped ones included.
    pub samples: u64,
    /// Samples left out to keep the messages under their size cap.
    pub dropped: u64,
    /// The children's CPU time while sampled, ns.
    pub cpu_ns: u64,
}

/// What an open-loop trial records besides latency from due times.
pub struct OpenOutcome {
    /// Latency from each op's actual start.
    pub uncorrected: Histogram<u64>,
    /// How late workers woke for ops they were early for.
    pub pacing: Histogram<u64>,
    /// Ops started after their due time.
    pub late_starts: u64,
}

impl OpenOutcome {
    /// Empty histograms.
    pub fn new() -> Self {
        OpenOutcome {
            uncorrected: new_histogram(),
            pacing: new_histogram(),
            late_starts: 0,
        }
    }

    /// Adds one worker's open-loop recording.
    pub fn add(&mut self, open: &OpenRecorder) {
        self.uncorrected
            .add(&open.uncorrected)
            .expect("histograms share bounds");
        self.pacing
            .add(&open.pacing)
            .expect("histograms share bounds");
        self.late_starts += open.late_starts;
    }
}

impl Default for OpenOutcome {
    fn default() -> Self {
        Self::new()
    }
}

impl TrialOutcome {
    /// An outcome whose wall time runs to the last worker's last op.
    pub fn new(
        workers: Vec<WorkerOutcome>,
        histogram: Histogram<u64>,
        cpu: CpuTime,
        spawn_ns: u64,
        counters: BTreeMap<String, f64>,
    ) -> Self {
        TrialOutcome {
            wall_ns: workers.iter().map(|w| w.wall_ns).max().unwrap_or(0),
            cpu,
            histogram,
            workers,
            spawn_ns: Some(spawn_ns),
            runtime_threads: Vec::new(),
            async_op: false,
            recording: Recording::PerOp,
            counters,
            workload_histograms: BTreeMap::new(),
            open: None,
            machine: None,
            sched: Vec::new(),
            submitter_sched: None,
            children_cpu_ns: 0,
            notes: Vec::new(),
            child_samples: None,
            child_wall: None,
        }
    }

    /// The first worker error, naming the worker.
    pub fn first_error(&self) -> Option<Failure> {
        self.workers.iter().find_map(|w| {
            w.error
                .clone()
                .map(|e| e.prefixed(&format!("worker {}: ", w.index)))
        })
    }

    /// Ops completed in all.
    pub fn ops(&self) -> u64 {
        self.workers.iter().map(|w| w.ops).sum()
    }
}
