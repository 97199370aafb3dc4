//! Turning a trial into a schema [`Record`]: the one builder. It takes
//! everything a record holds, what the cell's records share
//! ([`RecordContext`]) and what is the trial's own ([`TrialParts`]: the
//! measurements of a finished trial or the typed [`Failure`] of one that
//! produced none, its round, the machine's view, notes, overhead), and is
//! the only place that fills a record's fields: the runner and `exec`
//! hand it their parts and write what it returns, unchanged.

use std::sync::Arc;

use crate::os::perf::{HardwareCounts, SoftwareCounts};
use crate::os::schedstat::ThreadSched;
use reports::cells::CellKey;
use reports::schema::{
    Breakdown, Fairness, MachineView, ModelOverhead, OpenLoop, PlacementRef, Record, Status,
    ThreadOs, WorkerRecord, WorkloadRef, SCHEMA_VERSION,
};
use workloads::{Scaling, Workload};

use crate::failure::Failure;
use crate::models::TrialOutcome;
use crate::plan::LoadMode;
use crate::recorder::Recording;

/// What every record of one cell shares.
#[derive(Clone)]
pub struct RecordContext {
    /// The workload, with its parameters.
    pub workload: Arc<dyn Workload>,
    /// The model's name.
    pub model: String,
    /// Workers (tasks, for the async models).
    pub workers: usize,
    /// Runtime threads of an async model.
    pub runtime_threads: Option<usize>,
    /// The placement, as `--pin` spells it.
    pub placement: String,
    /// The core requested for each placeable unit.
    pub cores: Vec<Option<usize>>,
    /// Strong or weak.
    pub scaling: Scaling,
    /// Closed or open load.
    pub load: LoadMode,
    /// How ops were meant to be timed (the outcome says how they were).
    pub recording: Recording,
    /// The run this record belongs to.
    pub run_id: String,
    /// The model's workers are tasks on runtime threads.
    pub is_async: bool,
}

/// What one trial's record holds beyond its cell's context.
pub struct TrialParts {
    /// The trial's number in its cell, from 0.
    pub trial: u32,
    /// The round of its section it ran in.
    pub round: Option<u32>,
    /// Its measurements, or why there are none.
    pub result: Result<TrialOutcome, Failure>,
    /// The model's measured costs.
    pub overhead: ModelOverhead,
    /// The machine's view over the trial and the verdict on it.
    pub machine: Option<MachineView>,
    /// Notes beyond the outcome's own, in order.
    pub notes: Vec<String>,
    /// What its wall-clock samples say, with `--wall-profile`.
    pub waits: Option<reports::waits::WaitReading>,
}

impl TrialParts {
    /// The parts of a cell that produced no trial: `failure` says why.
    pub fn failed(failure: Failure, overhead: ModelOverhead) -> Self {
        TrialParts {
            trial: 0,
            round: None,
            result: Err(failure),
            overhead,
            machine: None,
            notes: Vec::new(),
            waits: None,
        }
    }
}

impl RecordContext {
    /// The key of this cell, as its records give it.
    pub fn cell_key(&self) -> CellKey {
        CellKey {
            workload: self.workload.spec(),
            scaling: self.scaling.to_string(),
            load: self.load.to_string(),
            placement: self.placement.clone(),
            model: self.model.clone(),
            workers: self.workers as u32,
        }
    }

    /// The record of one trial of this cell: its measurements when the
    /// result is an outcome, its status and reason when it is a failure or
    /// when a worker failed; with its round, machine view and notes.
    pub fn record(&self, parts: TrialParts) -> Record {
        let TrialParts {
            trial,
            round,
            result,
            overhead: model_overhead,
            machine,
            notes,
            waits,
        } = parts;
        let workload = &self.workload;
        let mut record = Record {
            schema_version: SCHEMA_VERSION,
            run_id: self.run_id.to_string(),
            started_at: chrono::Local::now().to_rfc3339(),
            workload: WorkloadRef {
                id: workload.info().id.to_string(),
                spec: workload.spec(),
                params: workload
                    .params()
                    .0
                    .iter()
                    .map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or_default()))
                    .collect(),
                io_bound: Some(workload.io_bound()),
                shares_state: Some(workload.shares_state()),
            },
            model: self.model.clone(),
            workers: self.workers as u32,
            runtime_threads: self.runtime_threads.map(|t| t as u32),
            placement: PlacementRef {
                strategy: self.placement.clone(),
                requested_cores: self.cores.iter().map(|c| c.map(|c| c as u32)).collect(),
            },
            scaling: self.scaling.to_string(),
            load: self.load.to_string(),
            trial,
            status: Status::Ok,
            error: None,
            ops: 0,
            wall_ns: 0,
            cpu_user_ns: 0,
            cpu_sys_ns: 0,
            throughput_ops_s: 0.0,
            latency: None,
            histogram: None,
            per_worker: Vec::new(),
            runtime_thread_placement: Vec::new(),
            model_overhead,
            async_op: false,
            recording: self.recording.as_str().to_string(),
            fairness: None,
            open_loop: None,
            wall_profile: waits.as_ref().map(|w| w.profile.clone()),
            wait_sites: waits.map_or_else(Vec::new, |w| {
                w.sites
                    .into_iter()
                    .take(reports::waits::RECORD_SITES)
                    .collect()
            }),
            parent_pid: std::process::id(),
            counters: Default::default(),
            workload_histograms: Default::default(),
            notes: Vec::new(),
            machine,
            breakdown: None,
            submitter_os: None,
            round,
            rounds: None,
            throughput_rounds_s: None,
        };
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(e) => {
                record.status = e.status();
                record.error = Some(e.message);
                record.notes = notes;
                return record;
            }
        };
        if let Some(error) = outcome.first_error() {
            record.status = error.status();
            record.error = Some(error.message);
        }
        record.fairness =
            Fairness::of_worker_ops(&outcome.workers.iter().map(|w| w.ops).collect::<Vec<_>>());
        record.ops = outcome.histogram.len();
        record.wall_ns = outcome.wall_ns;
        record.cpu_user_ns = outcome.cpu.user_ns;
        record.cpu_sys_ns = outcome.cpu.sys_ns;
        record.throughput_ops_s = if outcome.wall_ns > 0 {
            record.ops as f64 / (outcome.wall_ns as f64 / 1e9)
        } else {
            0.0
        };
        if workload.requirements().lockstep && self.workers > 0 && outcome.wall_ns > 0 {
            // One op is a worker's part of a round: speedup agrees with
            // rounds per second, not with ops per second.
            let rounds = record.ops / self.workers as u64;
            record.rounds = Some(rounds);
            record.throughput_rounds_s = Some(rounds as f64 / (outcome.wall_ns as f64 / 1e9));
        }
        record.latency = reports::histogram::summarise(&outcome.histogram);
        record.histogram = match reports::histogram::encode(&outcome.histogram) {
            Ok(encoded) if !outcome.histogram.is_empty() => Some(encoded),
            Ok(_) => None,
            Err(e) => {
                record.status = Status::Failed;
                record.error = Some(e.to_string());
                None
            }
        };
        record.per_worker = outcome
            .workers
            .iter()
            .map(|w| WorkerRecord {
                index: w.index as u32,
                pid: w.pid,
                core: w.placed.core,
                cpus_allowed: w.placed.cpus_allowed.clone(),
                ops: w.ops,
                wall_ns: w.wall_ns,
                error: w.error.as_ref().map(|e| e.message.clone()),
                // Tasks of the async models share their runtime threads:
                // those carry the accounting.
                os: (!self.is_async)
                    .then(|| outcome.sched.iter().find(|s| s.tid == w.tid))
                    .flatten()
                    .map(thread_os),
            })
            .collect();
        record.runtime_thread_placement = outcome.runtime_threads;
        if self.is_async && outcome.sched.len() == record.runtime_thread_placement.len() {
            // Both in the runtime threads' start order.
            for (thread, sched) in record
                .runtime_thread_placement
                .iter_mut()
                .zip(&outcome.sched)
            {
                thread.os = Some(thread_os(sched));
            }
        }
        record.breakdown = breakdown(&outcome.sched, record.ops);
        record.submitter_os = outcome.submitter_sched.as_ref().map(thread_os);
        record.async_op = outcome.async_op;
        record.notes.extend(outcome.notes);
        record.notes.extend(notes);
        record.recording = outcome.recording.as_str().to_string();
        record.counters = outcome.counters;
        for (name, histogram) in &outcome.workload_histograms {
            match reports::histogram::encode(histogram) {
                Ok(encoded) => {
                    record.workload_histograms.insert(name.clone(), encoded);
                }
                Err(e) => {
                    record.status = Status::Failed;
                    record.error = Some(format!("{name}: {e}"));
                }
            }
        }
        if let (Some(open), LoadMode::Open { rate_ops_s }) = (&outcome.open, self.load) {
            let encode = |h: &hdrhistogram::Histogram<u64>| {
                (!h.is_empty())
                    .then(|| reports::histogram::encode(h).ok())
                    .flatten()
            };
            record.open_loop = Some(OpenLoop {
                requested_rate_ops_s: rate_ops_s,
                uncorrected_latency: reports::histogram::summarise(&open.uncorrected),
                uncorrected_histogram: encode(&open.uncorrected),
                pacing_error: reports::histogram::summarise(&open.pacing),
                pacing_histogram: encode(&open.pacing),
                late_starts: open.late_starts,
            });
        }
        record
    }
}

/// One thread's accounting as the schema has it. With no time on a CPU
/// the kernel kept no schedstats: those figures are null, not 0.
fn thread_os(t: &ThreadSched) -> ThreadOs {
    let s = &t.sched;
    let kept = s.on_cpu_ns > 0;
    let sched = |v: u64| kept.then_some(v);
    ThreadOs {
        wall_ns: t.wall_ns,
        on_cpu_ns: sched(s.on_cpu_ns),
        runqueue_ns: sched(s.runqueue_ns),
        timeslices: sched(s.timeslices),
        user_ns: Some(s.user_ns),
        sys_ns: Some(s.sys_ns),
        voluntary_switches: Some(s.voluntary_switches),
        involuntary_switches: Some(s.involuntary_switches),
        minor_faults: Some(s.minor_faults),
        major_faults: Some(s.major_faults),
        migrations: Some(s.migrations),
        last_core: s.last_cpu,
        mostly_on_core: t.mostly_on_cpu,
        counters: t
            .counts
            .map_or_else(SoftwareCounts::unavailable, |counts| counts.named())
            .into_iter()
            .map(|(name, value)| (name.to_string(), value))
            .collect(),
    }
}

/// Where the threads' time went over the trial, as fractions of their
/// summed wall time; `None` without schedstats.
pub fn breakdown(threads: &[ThreadSched], ops: u64) -> Option<Breakdown> {
    let wall: u64 = threads.iter().map(|t| t.wall_ns).sum();
    let on_cpu: u64 = threads.iter().map(|t| t.sched.on_cpu_ns).sum();
    if wall == 0 || on_cpu == 0 || ops == 0 {
        return None;
    }
    let sum = |f: fn(&ThreadSched) -> u64| -> f64 { threads.iter().map(f).sum::<u64>() as f64 };
    let blocked = sum(|t| {
        t.wall_ns
            .saturating_sub(t.sched.on_cpu_ns)
            .saturating_sub(t.sched.runqueue_ns)
    });
    let wall = wall as f64;
    Some(Breakdown {
        threads: threads.len() as u32,
        on_cpu_fraction: on_cpu as f64 / wall,
        user_fraction: sum(|t| t.sched.user_ns) / wall,
        sys_fraction: sum(|t| t.sched.sys_ns) / wall,
        runqueue_fraction: sum(|t| t.sched.runqueue_ns) / wall,
        blocked_fraction: blocked / wall,
        switches_per_op: sum(|t| t.sched.voluntary_switches + t.sched.involuntary_switches)
            / ops as f64,
        migrations_per_op: sum(|t| t.sched.migrations) / ops as f64,
        on_cpu_ns_per_op: on_cpu as f64 / ops as f64,
        work_inflation: None,
        instructions_per_op: hardware(threads, |h| h.instructions).map(|n| n / ops as f64),
        cache_misses_per_op: hardware(threads, |h| h.cache_misses).map(|n| n / ops as f64),
        ipc: hardware(threads, |h| h.instructions)
            .zip(hardware(threads, |h| h.cycles).filter(|c| *c > 0.0))
            .map(|(i, c)| i / c),
    })
}

/// The threads' summed hardware counter `pick`, when every thread has it.
fn hardware(threads: &[ThreadSched], pick: fn(&HardwareCounts) -> Option<u64>) -> Option<f64> {
    threads
        .iter()
        .map(|t| pick(&t.counts?.hardware))
        .sum::<Option<u64>>()
        .map(|n| n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::schedstat::SchedStat;

    fn thread(hardware: HardwareCounts) -> ThreadSched {
        ThreadSched {
            tid: 1,
            sched: SchedStat {
                on_cpu_ns: 600,
                runqueue_ns: 100,
                ..SchedStat::default()
            },
            wall_ns: 1000,
            counts: Some(SoftwareCounts {
                hardware,
                ..SoftwareCounts::default()
            }),
            mostly_on_cpu: Some(1),
        }
    }

    #[test]
    fn hardware_figures_need_every_thread_and_give_ipc() {
        let full = HardwareCounts {
            cycles: Some(1000),
            instructions: Some(3000),
            cache_misses: Some(40),
            ..HardwareCounts::default()
        };
        let b = breakdown(&[thread(full), thread(full)], 10).unwrap();
        assert_eq!(b.ipc, Some(3.0));
        assert_eq!(b.instructions_per_op, Some(600.0));
        assert_eq!(b.cache_misses_per_op, Some(8.0));
        assert!((b.blocked_fraction - 0.3).abs() < 1e-9);
        let partial = breakdown(&[thread(full), thread(HardwareCounts::default())], 10).unwrap();
        assert_eq!((partial.ipc, partial.instructions_per_op), (None, None));
    }

    #[test]
    fn unavailable_counters_are_named_and_null() {
        let os = thread_os(&ThreadSched {
            counts: None,
            ..thread(HardwareCounts::default())
        });
        assert_eq!(os.mostly_on_core, Some(1));
        for name in ["task_clock_ns", "cycles", "instructions", "cache_misses"] {
            assert_eq!(os.counters.get(name), Some(&None), "{name}");
        }
    }
}
