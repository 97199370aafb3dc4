//! The temporary folder the file workloads write in: under the results
//! folder when there is one (a real disk, where `fsync` means something;
//! `/tmp` is often memory), else the system's temporary folder. It is
//! removed when the run's shared state is dropped, whether the run
//! succeeded or not.

use std::path::{Path, PathBuf};

use crate::{IoEnv, WorkloadError};

/// How every scratch folder's name starts.
pub const SCRATCH_PREFIX: &str = ".corebench-";

/// The scratch folders in `dir` now: what a process that died without
/// cleaning up (a killed child) left there.
pub fn scratch_dirs_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(SCRATCH_PREFIX))
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect()
}

/// Creates a fresh temporary folder for workload `id`.
pub fn scratch_dir(id: &'static str, io: &IoEnv) -> Result<tempfile::TempDir, WorkloadError> {
    let prefix = format!("{SCRATCH_PREFIX}{}-", id.replace('/', "-"));
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    let made = match &io.output_dir {
        Some(dir) => builder.tempdir_in(dir),
        None => builder.tempdir(),
    };
    made.map_err(|e| WorkloadError::Setup {
        workload: id,
        reason: format!(
            "cannot create a temporary folder in {}: {e}",
            io.output_dir
                .as_deref()
                .unwrap_or(Path::new("the system temporary folder"))
                .display()
        ),
    })
}
