//! In-process CPU sampling for flamegraphs (`run --flamegraph`): pprof-rs
//! with `ITIMER_PROF` and SIGPROF, so it needs neither `perf` nor hardware
//! counters. Stacks are unwound with framehop from the binary's unwind
//! tables, never with libgcc's unwinder, which can deadlock inside a
//! signal handler (pprof-rs issues 36 and 152).
//!
//! The timer is armed around each measured trial of a cell (its workers'
//! start and release included, its set-up, floor and warm-up not), and the
//! samples of all its trials are kept as folded stacks in
//! `DIR/profiles/CELL.folded`, rewritten after every trial so a killed run
//! keeps what it sampled. `CELL.json` says what rate was asked and what the
//! kernel gave: `ITIMER_PROF` is capped by its tick rate.
//!
//! Process-model children are other processes with their own address
//! layout: each samples and symbolizes itself ([`capped_child_samples`]) and sends
//! its folded stacks in a `profile` message of its own, capped at
//! [`CHILD_PROFILE_CAP_BYTES`] (the rarest stacks go first, and
//! `CELL.json` counts what was dropped). The cell adds them to the
//! parent's samples.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use reports::cells::CellKey;
use reports::flame::{profile_name, SamplingInfo, PROFILES_DIR};

use crate::models::ChildSamples;
use crate::os::usage::CpuTime;

/// The most stack text one child sends: a deep recursion sampled for
/// seconds must not flood the parent's pipe.
pub const CHILD_PROFILE_CAP_BYTES: usize = 256 * 1024;

/// One cell's samples over its measured trials.
pub struct CellSampler {
    dir: PathBuf,
    asked_hz: u32,
    /// Whether its work runs in child processes (not sampled).
    in_children: bool,
    /// The cell's files' name.
    name: String,
    stacks: HashMap<String, u64>,
    info: SamplingInfo,
}

/// The timer, armed for one trial.
pub struct Armed {
    #[cfg(target_os = "linux")]
    guard: pprof::ProfilerGuard<'static>,
    cpu_before: CpuTime,
}

impl CellSampler {
    /// A sampler writing into `results_dir/profiles/`.
    pub fn new(results_dir: &Path, asked_hz: u32, in_children: bool, cell: CellKey) -> Self {
        CellSampler {
            dir: results_dir.join(PROFILES_DIR),
            name: profile_name(&cell),
            asked_hz,
            in_children,
            stacks: HashMap::new(),
            info: SamplingInfo {
                asked_hz,
                ..SamplingInfo::default()
            },
        }
    }

    /// The rate asked for.
    pub fn asked_hz(&self) -> u32 {
        self.asked_hz
    }

    /// Arms the timer for a trial; `None` where sampling cannot run.
    pub fn arm(&self) -> Option<Armed> {
        Armed::new(self.asked_hz)
    }

    /// Disarms the timer, adds the trial's samples and its children's,
    /// and rewrites the cell's files.
    pub fn finish(
        &mut self,
        armed: Option<Armed>,
        children: Option<ChildSamples>,
    ) -> io::Result<()> {
        if let Some(armed) = armed {
            let (stacks, samples, cpu_ns) = armed.folded();
            self.info.cpu_ns += cpu_ns;
            self.info.samples += samples;
            for (stack, count) in stacks {
                *self.stacks.entry(stack).or_insert(0) += count;
            }
        }
        if let Some(children) = children {
            self.info.cpu_ns += children.cpu_ns;
            self.info.samples += children.samples;
            self.info.dropped_samples += children.dropped;
            for (stack, count) in children.stacks {
                *self.stacks.entry(stack).or_insert(0) += count;
            }
        }
        self.info.real_hz = (self.info.cpu_ns > 0)
            .then(|| self.info.samples as f64 / (self.info.cpu_ns as f64 / 1e9));
        if self.in_children {
            self.info.note = Some(
                "the work ran in child processes: each sampled itself and sent its stacks, which are merged here with the parent's (the children's threads are named corebench-child)"
                    .to_string(),
            );
        }
        std::fs::create_dir_all(&self.dir)?;
        let name = &self.name;
        reports::flame::write_folded(&self.dir.join(format!("{name}.folded")), self.stacks.iter())?;
        std::fs::write(
            self.dir.join(format!("{name}.json")),
            serde_json::to_string_pretty(&self.info).map_err(io::Error::other)?,
        )
    }
}

impl Armed {
    /// Arms the timer at `hz` for this process; `None` where sampling
    /// cannot run.
    pub fn new(hz: u32) -> Option<Armed> {
        #[cfg(target_os = "linux")]
        {
            let guard = pprof::ProfilerGuardBuilder::default()
                .frequency(hz as i32)
                .blocklist(&["libc", "libgcc", "pthread", "vdso"])
                .build()
                .ok()?;
            Some(Armed {
                guard,
                cpu_before: CpuTime::of_process(),
            })
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = hz;
            None
        }
    }

    /// Disarms it: the folded stacks with their counts, the samples in
    /// all, and the process's CPU time while armed, ns.
    #[cfg_attr(not(target_os = "linux"), allow(unused_mut))]
    pub fn folded(self) -> (Vec<(String, u64)>, u64, u64) {
        let cpu = CpuTime::of_process().since(self.cpu_before);
        let mut stacks: HashMap<String, u64> = HashMap::new();
        let mut samples = 0;
        #[cfg(target_os = "linux")]
        if let Ok(report) = self.guard.report().build() {
            for (frames, count) in &report.data {
                let count = (*count).max(0) as u64;
                samples += count;
                *stacks.entry(folded_stack(frames)).or_insert(0) += count;
            }
        }
        (
            stacks.into_iter().collect(),
            samples,
            cpu.user_ns + cpu.sys_ns,
        )
    }
}

/// A child's samples, cut to [`CHILD_PROFILE_CAP_BYTES`] of stack text:
/// the most frequent stacks are kept, and what was left out is counted.
pub fn capped_child_samples(armed: Armed, rename_thread: &str) -> ChildSamples {
    let (stacks, samples, cpu_ns) = armed.folded();
    // The child's main thread is the worker; name it so.
    let renamed = stacks.into_iter().map(|(stack, count)| {
        let stack = match stack.split_once(';') {
            Some((_, rest)) => format!("{rename_thread};{rest}"),
            None => rename_thread.to_string(),
        };
        (stack, count)
    });
    let (stacks, dropped) = capped(renamed.collect());
    ChildSamples {
        stacks,
        samples,
        dropped,
        cpu_ns,
    }
}

/// `stacks` cut to [`CHILD_PROFILE_CAP_BYTES`] of stack text, the most
/// frequent kept, and the samples of those left out.
pub fn capped(mut stacks: Vec<(String, u64)>) -> (Vec<(String, u64)>, u64) {
    stacks.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut kept = Vec::new();
    let (mut bytes, mut dropped) = (0, 0);
    for (stack, count) in stacks {
        if bytes + stack.len() > CHILD_PROFILE_CAP_BYTES {
            dropped += count;
            continue;
        }
        bytes += stack.len();
        kept.push((stack, count));
    }
    (kept, dropped)
}

/// One sample's stack, outermost frame first, as a folded line's frames.
/// Threads are named without their number, so the workers' stacks add up.
#[cfg(target_os = "linux")]
fn folded_stack(frames: &pprof::Frames) -> String {
    let thread: String = frames
        .thread_name
        .trim_end_matches(|c: char| c.is_ascii_digit() || c == '-')
        .to_string();
    let mut parts = vec![if thread.is_empty() {
        "thread".to_string()
    } else {
        thread
    }];
    for frame in frames.frames.iter().rev() {
        for symbol in frame.iter().rev() {
            // A ';' would split the frame; a ' ' would end the stack.
            parts.push(symbol.name().replace([';', ' '], "_"));
        }
    }
    parts.join(";")
}
