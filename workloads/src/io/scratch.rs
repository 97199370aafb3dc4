//! The temporary folder the file workloads write in: under the results
//! folder when there is one (a real disk, where `fsync` means something;
//! `/tmp` is often memory), else the system's temporary folder. It is
//! removed when the run's shared state is dropped, whether the run
//! succeeded or not.

use std::path::Path;

use crate::{IoEnv, WorkloadError};

/// Creates a fresh temporary folder for workload `id`.
pub fn scratch_dir(id: &'static str, io: &IoEnv) -> Result<tempfile::TempDir, WorkloadError> {
    let prefix = format!(".corebench-{}-", id.replace('/', "-"));
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
