//! `process`: one child process per worker. Each child re-executes this
//! binary as `corebench worker` with its static share of the ops and its
//! core (see [`wire`] for the wire format, and [`child`] for the child's
//! side). The parent waits until
//! every child is set up and says "ready" (that is the spawn time, reported
//! apart from the timed region), then writes `go` to every child, and waits
//! for each child's counters and histogram.
//!
//! Children share no memory with each other or the parent, so workloads
//! that need shared memory are refused with the reason. A child that
//! crashes, exits early, writes garbage, or runs past the deadline fails
//! the cell; every child is killed and reaped before the trial returns.

pub mod child;
pub mod wire;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};
use workloads::io::scratch::scratch_dirs_in;
use workloads::Workload;

use super::worker_run::static_share;
use super::{
    ChildSamples, ExecutionModel, Failure, Model, ModelInfo, OpenOutcome, TrialOutcome, TrialSpec,
    WorkerOutcome,
};
use crate::os::clock::monotonic_ns;
use crate::os::machine::MachineSnapshot;
use crate::os::schedstat::ThreadSched;
use crate::os::usage::CpuTime;
use crate::placement::Placed;
use crate::recorder::new_histogram;
use wire::{WorkerMessage, TARGET_URL_ENV};

/// How often a parent waiting for its children looks at the stop flag.
const STOP_POLL: Duration = Duration::from_millis(50);
/// How much of a child's stderr is kept for error messages.
const STDERR_KEEP_BYTES: usize = 4096;

/// What the `process` model is.
pub(super) const MODEL: Model = Model::new(&INFO);

const INFO: ModelInfo = ModelInfo::new(
    "process",
    "one child process per worker (corebench worker), released together; static split of ops",
    (213, 94, 0),
    || Box::new(Process),
)
.in_children()
.costs("each worker is a child process started for the trial, which reports back over a pipe");

/// The `process` model.
pub struct Process;

impl ExecutionModel for Process {
    fn model(&self) -> Model {
        MODEL
    }

    fn check_support(&self, workload: &dyn Workload, _workers: usize) -> Result<(), String> {
        if let Some(shared) = workload.requirements().shared_memory {
            return Err(format!(
                "{} cannot run under process: {shared}, and child processes share no memory",
                workload.info().id
            ));
        }
        Ok(())
    }

    fn run_trial(&self, spec: &TrialSpec) -> Result<TrialOutcome, Failure> {
        let spawn_start = Instant::now();
        let mut children = Children::spawn(spec)?;
        let ready = children.wait_all(spec, |index, message| match message {
            WorkerMessage::Ready {
                pid,
                core,
                cpus_allowed,
            } => Ok((pid, Placed { core, cpus_allowed })),
            other => Err(format!("child {index} sent {other:?} before ready")),
        })?;
        let spawn_ns = spawn_start.elapsed().as_nanos() as u64;

        let before = MachineSnapshot::take();
        let release_mono_ns = monotonic_ns();
        children.release(release_mono_ns)?;
        let done = children.wait_all(spec, |index, message| match message {
            WorkerMessage::Done { .. } => Ok(message),
            other => Err(format!(
                "child {index} sent {other:?} instead of its results"
            )),
        })?;
        let child_samples = children.samples.take();
        let child_wall = children.wall.take();
        children.reap();
        let machine = MachineSnapshot::take().since(&before);
        let mut sched = Vec::new();

        let mut histogram = new_histogram();
        let mut cpu = CpuTime::default();
        let mut workers = Vec::with_capacity(done.len());
        let mut counters = std::collections::BTreeMap::new();
        let mut workload_histograms = std::collections::BTreeMap::new();
        let mut open: Option<OpenOutcome> = None;
        for (index, (message, (pid, placed))) in done.into_iter().zip(ready).enumerate() {
            let WorkerMessage::Done {
                ops,
                end_mono_ns,
                cpu_user_ns,
                cpu_sys_ns,
                histogram: encoded,
                error,
                counters: child_counters,
                histograms: child_histograms,
                peak_rss_kib,
                open: child_open,
                sched: child_sched,
                ..
            } = message
            else {
                unreachable!("wait_all only passes Done messages");
            };
            let child_histogram = reports::histogram::decode(&encoded)
                .map_err(|e| Failure::failed(format!("child {index}: {e}")))?;
            if child_histogram.len() != ops {
                return Err(Failure::failed(format!(
                    "child {index} reported {ops} ops but its histogram holds {}",
                    child_histogram.len()
                )));
            }
            histogram
                .add(&child_histogram)
                .map_err(|e| Failure::failed(format!("child {index}: {e:?}")))?;
            if let Some(kib) = peak_rss_kib {
                LARGEST_CHILD_RSS_KIB.fetch_max(kib, std::sync::atomic::Ordering::Relaxed);
            }
            if let Some(child_open) = child_open {
                let decode = |encoded: &str| {
                    reports::histogram::decode(encoded)
                        .map_err(|e| Failure::failed(format!("child {index}: {e}")))
                };
                let merged = open.get_or_insert_with(OpenOutcome::new);
                for (into, encoded) in [
                    (&mut merged.uncorrected, &child_open.uncorrected_histogram),
                    (&mut merged.pacing, &child_open.pacing_histogram),
                ] {
                    into.add(decode(encoded)?)
                        .map_err(|e| Failure::failed(format!("child {index}: {e:?}")))?;
                }
                merged.late_starts += child_open.late_starts;
            }
            sched.extend(child_sched.map(|s| ThreadSched {
                tid: pid,
                sched: s.stat,
                wall_ns: s.wall_ns,
                counts: s.counts,
                // The parent's core sampler reads the child's stat.
                mostly_on_cpu: None,
            }));
            cpu.user_ns += cpu_user_ns;
            cpu.sys_ns += cpu_sys_ns;
            for (name, value) in child_counters {
                *counters.entry(name).or_insert(0.0) += value;
            }
            for (name, encoded) in child_histograms {
                let child = reports::histogram::decode(&encoded)
                    .map_err(|e| Failure::failed(format!("child {index}: {name}: {e}")))?;
                workload_histograms
                    .entry(name)
                    .or_insert_with(new_histogram)
                    .add(child)
                    .map_err(|e| Failure::failed(format!("child {index}: {e:?}")))?;
            }
            workers.push(WorkerOutcome {
                index,
                pid,
                tid: pid,
                placed,
                ops,
                wall_ns: if ops == 0 {
                    0
                } else {
                    end_mono_ns.saturating_sub(release_mono_ns)
                },
                error,
            });
        }
        let mut outcome = TrialOutcome::new(workers, histogram, cpu, spawn_ns, counters);
        outcome.children_cpu_ns = cpu.user_ns + cpu.sys_ns;
        outcome.machine = Some(machine);
        outcome.sched = sched;
        outcome.child_samples = child_samples;
        outcome.child_wall = child_wall;
        outcome.recording = spec.recording;
        outcome.open = open;
        outcome.workload_histograms = workload_histograms;
        Ok(outcome)
    }
}

/// The largest peak resident set size any child reported in this process,
/// KiB; 0 when no child ran.
pub static LARGEST_CHILD_RSS_KIB: std::sync::atomic::AtomicU64 =
    std::sync::atomic::AtomicU64::new(0);

/// The environment variable naming the `corebench` binary children run;
/// by default the running binary itself. Benchmarks and embedders, whose
/// own binary is not `corebench`, set it.
pub const COREBENCH_EXE_ENV: &str = "COREBENCH_EXE";

fn corebench_exe() -> Result<std::path::PathBuf, Failure> {
    corebench_binary().map_err(Failure::failed)
}

/// The `corebench` binary to start children from: `COREBENCH_EXE`, or the
/// running binary.
pub fn corebench_binary() -> Result<std::path::PathBuf, String> {
    match std::env::var_os(COREBENCH_EXE_ENV) {
        Some(path) => Ok(path.into()),
        None => {
            std::env::current_exe().map_err(|e| format!("cannot find the corebench binary: {e}"))
        }
    }
}

/// What a child's stdout reader thread passes on.
enum ChildLine {
    Line(String),
    Closed,
}

/// The running children; killed and reaped on drop, so none outlive a
/// trial however it ends.
struct Children {
    children: Vec<Child>,
    stdins: Vec<Option<ChildStdin>>,
    lines: Receiver<(usize, ChildLine)>,
    stderr: Vec<Arc<Mutex<Vec<u8>>>>,
    closed: Vec<bool>,
    /// The IO workloads' folder, and the scratch folders in it before the
    /// children started: a killed child cannot remove its own.
    scratch: Option<(std::path::PathBuf, Vec<std::path::PathBuf>)>,
    /// The children's `profile` messages, merged.
    samples: Option<ChildSamples>,
    /// The children's `wall_profile` messages, merged.
    wall: Option<crate::wall::WallSamples>,
}

impl Children {
    fn spawn(spec: &TrialSpec) -> Result<Self, Failure> {
        let exe = corebench_exe()?;
        let workload_spec = spec.workload.spec();
        let (sender, lines) = crossbeam_channel::unbounded();
        let mut this = Children {
            children: Vec::new(),
            stdins: Vec::new(),
            lines,
            stderr: Vec::new(),
            closed: vec![false; spec.workers],
            scratch: spec
                .io
                .output_dir
                .clone()
                .map(|dir| (dir.clone(), scratch_dirs_in(&dir))),
            samples: None,
            wall: None,
        };
        for index in 0..spec.workers {
            let (op_start, op_count) = static_share(spec.budget, spec.workers, index);
            let mut command = Command::new(&exe);
            command
                .arg("worker")
                .args(["--workload", &workload_spec])
                .args(["--index", &index.to_string()])
                .args(["--workers", &spec.workers.to_string()])
                .args(["--scaling", spec.scaling.as_str()])
                .args(["--op-start", &op_start.to_string()])
                .args(["--op-count", &op_count.to_string()])
                .args(["--recording", spec.recording.as_str()])
                .args(["--total-ops", &spec.budget.total(spec.workers).to_string()])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            if let Some(core) = spec.core_of(index) {
                command.args(["--core", &core.to_string()]);
            }
            if let Some(rate) = spec.open_rate_ops_s {
                command.args(["--open-rate", &rate.to_string()]);
            }
            if let Some(hz) = spec.sample_hz {
                command.args(["--sample-hz", &hz.to_string()]);
            }
            if let Some(hz) = spec.wall_hz {
                command.args(["--wall-hz", &hz.to_string()]);
            }
            let io = &spec.io;
            if let Some(url) = &io.server_url {
                command.args(["--server-url", url]);
            }
            // Through the environment, not argv, which `ps` shows: the URL
            // may carry credentials.
            match &io.target_url {
                Some(url) => command.env(TARGET_URL_ENV, url),
                None => command.env_remove(TARGET_URL_ENV),
            };
            crate::os::process::kill_with_parent(&mut command);
            if let Some(dir) = &io.output_dir {
                command.arg("--output-dir").arg(dir);
            }
            let mut child = command.spawn().map_err(|e| {
                Failure::failed(format!(
                    "could not start child {index} ({}): {e}",
                    exe.display()
                ))
            })?;
            let stdout = child.stdout.take().expect("stdout is piped");
            let stderr = child.stderr.take().expect("stderr is piped");
            this.stdins.push(child.stdin.take());
            this.children.push(child);

            let sender = sender.clone();
            thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    match line {
                        Ok(line) => {
                            if sender.send((index, ChildLine::Line(line))).is_err() {
                                return;
                            }
                        }
                        Err(_) => break,
                    }
                }
                let _ = sender.send((index, ChildLine::Closed));
            });
            let kept = Arc::new(Mutex::new(Vec::new()));
            this.stderr.push(Arc::clone(&kept));
            thread::spawn(move || keep_tail(stderr, &kept));
        }
        Ok(this)
    }

    /// Waits for one message from every child, passing each to `accept`,
    /// until the trial's deadline or its stop flag.
    fn wait_all<T>(
        &mut self,
        spec: &TrialSpec,
        accept: impl Fn(usize, WorkerMessage) -> Result<T, String>,
    ) -> Result<Vec<T>, Failure> {
        let mut got: Vec<Option<T>> = (0..self.children.len()).map(|_| None).collect();
        if let Some(index) = self.closed.iter().position(|c| *c) {
            return Err(self.exited_early(index));
        }
        while got.iter().any(Option::is_none) {
            if spec.stop.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(Failure::failed(
                    "the trial was stopped; its children were killed",
                ));
            }
            let left = spec.deadline.saturating_duration_since(Instant::now());
            let (index, line) = match self.lines.recv_timeout(left.min(STOP_POLL)) {
                Ok(item) => item,
                Err(RecvTimeoutError::Timeout) if !left.is_zero() && left > STOP_POLL => continue,
                Err(RecvTimeoutError::Timeout) => {
                    let waiting: Vec<usize> =
                        (0..got.len()).filter(|i| got[*i].is_none()).collect();
                    return Err(Failure::timeout(format!(
                        "children {waiting:?} did not answer before the trial's time limit"
                    )));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(Failure::failed("lost every child's output"));
                }
            };
            let text = match line {
                ChildLine::Line(text) => text,
                // A child closes its stdout after its last message, which
                // may arrive while others are still due to answer.
                ChildLine::Closed if got[index].is_some() => {
                    self.closed[index] = true;
                    continue;
                }
                ChildLine::Closed => return Err(self.exited_early(index)),
            };
            let message: WorkerMessage = serde_json::from_str(&text).map_err(|_| {
                Failure::failed(format!(
                    "child {index} wrote a line that is not a worker message: {:?}",
                    text.chars().take(120).collect::<String>()
                ))
            })?;
            if let WorkerMessage::Failed { error, .. } = &message {
                return Err(Failure::failed(format!("child {index}: {error}")));
            }
            if let WorkerMessage::Profile {
                stacks,
                samples,
                dropped,
                cpu_ns,
                ..
            } = message
            {
                let merged = self.samples.get_or_insert_with(ChildSamples::default);
                merged.stacks.extend(stacks);
                merged.samples += samples;
                merged.dropped += dropped;
                merged.cpu_ns += cpu_ns;
                continue;
            }
            if let WorkerMessage::WallProfile {
                stacks, samples, ..
            } = message
            {
                let merged = self.wall.get_or_insert_with(Default::default);
                merged.merge(crate::wall::WallSamples { stacks, samples });
                continue;
            }
            got[index] = Some(accept(index, message).map_err(Failure::failed)?);
        }
        Ok(got.into_iter().flatten().collect())
    }

    /// Writes `go BASE` to every child, as close together as the pipes
    /// allow; `BASE` (`CLOCK_MONOTONIC` ns) is when an open-loop schedule
    /// starts, the same for every child.
    fn release(&mut self, base_mono_ns: u64) -> Result<(), Failure> {
        let line = format!("go {base_mono_ns}\n");
        for (index, stdin) in self.stdins.iter_mut().enumerate() {
            let sent = stdin
                .as_mut()
                .map(|s| s.write_all(line.as_bytes()).and_then(|_| s.flush()));
            if let Some(Err(e)) = sent {
                return Err(Failure::failed(format!(
                    "could not release child {index}: {e}"
                )));
            }
        }
        Ok(())
    }

    /// Waits for every child to exit (they do after `done`).
    fn reap(&mut self) {
        self.stdins.clear();
        for child in &mut self.children {
            let _ = child.wait();
        }
        self.children.clear();
    }

    fn exited_early(&mut self, index: usize) -> Failure {
        let status = self.exit_status(index);
        Failure::failed(format!(
            "child {index} (pid {}) exited before reporting ({status}){}",
            self.children[index].id(),
            self.stderr_note(index)
        ))
    }

    fn exit_status(&mut self, index: usize) -> String {
        let child = &mut self.children[index];
        let give_up = Instant::now() + Duration::from_secs(2);
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return status.to_string(),
                Ok(None) if Instant::now() < give_up => thread::sleep(Duration::from_millis(5)),
                Ok(None) => return "still running".to_string(),
                Err(e) => return format!("status unknown: {e}"),
            }
        }
    }

    fn stderr_note(&self, index: usize) -> String {
        // Give the stderr reader a moment to drain what the child wrote last.
        thread::sleep(Duration::from_millis(20));
        let kept = self.stderr[index].lock().unwrap_or_else(|p| p.into_inner());
        let text = String::from_utf8_lossy(&kept);
        let text = text.trim();
        if text.is_empty() {
            String::new()
        } else {
            format!("; its stderr: {}", text.replace('\n', " | "))
        }
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some((dir, before)) = &self.scratch {
            for left in scratch_dirs_in(dir) {
                if !before.contains(&left) {
                    let _ = std::fs::remove_dir_all(left);
                }
            }
        }
    }
}

/// Keeps the last `STDERR_KEEP_BYTES` of a child's stderr.
fn keep_tail(mut stderr: impl Read, kept: &Mutex<Vec<u8>>) {
    let mut buffer = [0u8; 1024];
    while let Ok(n) = stderr.read(&mut buffer) {
        if n == 0 {
            break;
        }
        let mut kept = kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.extend_from_slice(&buffer[..n]);
        let excess = kept.len().saturating_sub(STDERR_KEEP_BYTES);
        kept.drain(..excess);
    }
}
