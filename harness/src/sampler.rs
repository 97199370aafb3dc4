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
//! Process-model children are other processes: their samples are not
//! taken (the cell's `CELL.json` says so).

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use reports::cells::CellKey;
use reports::flame::{profile_name, SamplingInfo, PROFILES_DIR};
use reports::schema::Record;

use crate::os::usage::CpuTime;

/// One cell's samples over its measured trials.
pub struct CellSampler {
    dir: PathBuf,
    asked_hz: u32,
    /// Whether its work runs in child processes (not sampled).
    in_children: bool,
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
    pub fn new(results_dir: &Path, asked_hz: u32, in_children: bool) -> Self {
        CellSampler {
            dir: results_dir.join(PROFILES_DIR),
            asked_hz,
            in_children,
            stacks: HashMap::new(),
            info: SamplingInfo {
                asked_hz,
                ..SamplingInfo::default()
            },
        }
    }

    /// Arms the timer for a trial; `None` where sampling cannot run.
    pub fn arm(&self) -> Option<Armed> {
        #[cfg(target_os = "linux")]
        {
            let guard = pprof::ProfilerGuardBuilder::default()
                .frequency(self.asked_hz as i32)
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
            None
        }
    }

    /// Disarms the timer, adds the trial's samples and rewrites the cell's
    /// files (named after `record`'s cell).
    pub fn finish(&mut self, armed: Option<Armed>, record: &Record) -> io::Result<()> {
        if let Some(armed) = armed {
            let cpu = CpuTime::of_process().since(armed.cpu_before);
            self.info.cpu_ns += cpu.user_ns + cpu.sys_ns;
            #[cfg(target_os = "linux")]
            if let Ok(report) = armed.guard.report().build() {
                for (frames, count) in &report.data {
                    let count = (*count).max(0) as u64;
                    self.info.samples += count;
                    *self.stacks.entry(folded_stack(frames)).or_insert(0) += count;
                }
            }
        }
        self.info.real_hz = (self.info.cpu_ns > 0)
            .then(|| self.info.samples as f64 / (self.info.cpu_ns as f64 / 1e9));
        if self.in_children {
            self.info.note = Some(
                "the work ran in child processes, which are not sampled: these are the parent's samples only"
                    .to_string(),
            );
        }
        std::fs::create_dir_all(&self.dir)?;
        let name = profile_name(&CellKey::of(record));
        let mut lines: Vec<String> = self
            .stacks
            .iter()
            .map(|(stack, count)| format!("{stack} {count}"))
            .collect();
        lines.sort();
        std::fs::write(
            self.dir.join(format!("{name}.folded")),
            lines.join("\n") + "\n",
        )?;
        std::fs::write(
            self.dir.join(format!("{name}.json")),
            serde_json::to_string_pretty(&self.info).map_err(io::Error::other)?,
        )
    }
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
