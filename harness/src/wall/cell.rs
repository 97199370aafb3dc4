//! One cell's wall-clock profile over its measured trials: each trial's
//! samples (and its process children's) read into the record's wait
//! sites, and all of them kept in `DIR/profiles/CELL.wall.folded`,
//! rewritten after every trial so a killed run keeps what it sampled.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use reports::cells::CellKey;
use reports::flame::{profile_name, PROFILES_DIR, WALL_SUFFIX};
use reports::waits::WaitReading;

use super::{WallProfiler, WallSamples};

/// A cell's wall-clock samples.
pub struct CellWall {
    dir: PathBuf,
    name: String,
    asked_hz: u32,
    /// Whether its work runs in child processes, which sample themselves:
    /// this process then has no worker thread to sample.
    in_children: bool,
    stacks: HashMap<String, u64>,
}

impl CellWall {
    /// A profile at `asked_hz` per thread, written into
    /// `results_dir/profiles/`; `in_children` when the cell's work runs in
    /// child processes.
    pub fn new(results_dir: &Path, asked_hz: u32, in_children: bool, cell: CellKey) -> Self {
        CellWall {
            dir: results_dir.join(PROFILES_DIR),
            name: format!("{}{WALL_SUFFIX}", profile_name(&cell)),
            asked_hz,
            in_children,
            stacks: HashMap::new(),
        }
    }

    /// The rate asked for.
    pub fn asked_hz(&self) -> u32 {
        self.asked_hz
    }

    /// Arms the sampler for a trial; `None` where it cannot run, or where
    /// the children sample themselves.
    pub fn arm(&self) -> Option<WallProfiler> {
        if self.in_children {
            return None;
        }
        WallProfiler::start(self.asked_hz)
    }

    /// Stops the sampler, reads the trial's samples and its children's,
    /// and rewrites the cell's file. The reading is `None` without
    /// samples; the error says why the file could not be written.
    pub fn finish(
        &mut self,
        armed: Option<WallProfiler>,
        children: Option<WallSamples>,
    ) -> (Option<WaitReading>, io::Result<()>) {
        let mut trial = armed.map(WallProfiler::finish).unwrap_or_default();
        if let Some(children) = children {
            trial.merge(children);
        }
        let reading = reports::waits::read(&trial.stacks, self.asked_hz);
        for (stack, count) in trial.stacks {
            *self.stacks.entry(stack).or_insert(0) += count;
        }
        (reading, self.write())
    }

    fn write(&self) -> io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        reports::flame::write_folded(
            &self.dir.join(format!("{}.folded", self.name)),
            self.stacks.iter(),
        )
    }
}
