//! `io/file`: per op, write a block, optionally `fsync` it, read it back and
//! verify every byte. Each worker has its own file in a temporary folder
//! (see [`super::scratch`]) that is removed when the run ends. The block's
//! contents depend on the op index, so a read that returned an older block
//! would not verify. The sync op uses `std::fs` (positioned reads and
//! writes); the async op uses `tokio::fs`, which hands each call to
//! tokio's blocking pool, as async file IO on Linux does without io_uring.
//!
//! `corrupt=true` flips one byte of the file between the write and the read
//! back, to show (and test) that verification catches it.

use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::io_error;

use crate::params::{ParamKind, ParamSpec};
use crate::{
    AsyncWorkerOp, BoxFuture, OpError, RunShape, SharedRun, WorkerOp, WorkloadError, WorkloadInfo,
};

/// Registry entry.
pub static INFO: WorkloadInfo = WorkloadInfo {
    id: "io/file",
    summary:
        "write a block, fsync, read it back and verify it (std::fs; tokio::fs in the async models)",
    params: &[
        ParamSpec {
            name: "block_bytes",
            kind: ParamKind::Int {
                min: 1,
                max: 1 << 30,
            },
            default: "65536",
            help: "bytes written and read back per op",
        },
        ParamSpec {
            name: "fsync",
            kind: ParamKind::Bool,
            default: "true",
            help: "fsync after each write, so the block reaches the disk",
        },
        ParamSpec {
            name: "corrupt",
            kind: ParamKind::Bool,
            default: "false",
            help:
                "flip one byte between write and read back (shows that verification fails the cell)",
        },
    ],
    in_profiles: false,
    build: |params| Ok(Box::new(FileWorkload { params })),
};

workload_type! {
    FileWorkload = INFO + async_native + io_bound;
    fn prepare(&self, shape: RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError> {
        Ok(Arc::new(FileRun {
            dir: super::scratch::scratch_dir(INFO.id, &shape.io)?,
            block_bytes: self.params.int("block_bytes") as usize,
            fsync: self.params.bool("fsync"),
            corrupt: self.params.bool("corrupt"),
            verified_bytes: AtomicU64::new(0),
        }))
    }
}

struct FileRun {
    /// Removed (with every worker's file) when the last op is dropped.
    dir: tempfile::TempDir,
    block_bytes: usize,
    fsync: bool,
    corrupt: bool,
    verified_bytes: AtomicU64,
}

impl SharedRun for FileRun {
    fn worker(self: Arc<Self>, index: usize) -> Result<Box<dyn WorkerOp>, WorkloadError> {
        let path = self.dir.path().join(format!("worker-{index}.dat"));
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| WorkloadError::Setup {
                workload: INFO.id,
                reason: format!("cannot create {}: {e}", path.display()),
            })?;
        Ok(Box::new(FileOp {
            written: vec![0; self.block_bytes],
            read: vec![0; self.block_bytes],
            async_file: None,
            file,
            run: self,
        }))
    }

    fn counters(&self) -> BTreeMap<String, f64> {
        std::iter::once((
            "verified_bytes".to_string(),
            self.verified_bytes.load(Ordering::Relaxed) as f64,
        ))
        .collect()
    }
}

struct FileOp {
    run: Arc<FileRun>,
    file: File,
    async_file: Option<tokio::fs::File>,
    written: Vec<u8>,
    read: Vec<u8>,
}

/// Fills `block` with bytes that depend on `op_index` and the position.
fn fill_block(block: &mut [u8], op_index: u64) {
    let seed = op_index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for (i, chunk) in block.chunks_mut(8).enumerate() {
        let word = (seed ^ i as u64)
            .wrapping_mul(0xBF58_476D_1CE4_E5B9)
            .to_le_bytes();
        chunk.copy_from_slice(&word[..chunk.len()]);
    }
}

impl FileOp {
    /// Compares what was read with what was written.
    fn verify(&self, op_index: u64) -> Result<u64, OpError> {
        if let Some(at) = self
            .written
            .iter()
            .zip(&self.read)
            .position(|(w, r)| w != r)
        {
            return Err(OpError::new(format!(
                "verification failed: the block of op {op_index} read back differs at byte {at}"
            )));
        }
        self.run
            .verified_bytes
            .fetch_add(self.read.len() as u64, Ordering::Relaxed);
        Ok(self.read.len() as u64)
    }

    /// The injected fault: flip the first byte on disk.
    fn corrupt_on_disk(&self) -> Result<(), OpError> {
        if self.run.corrupt {
            self.file
                .write_all_at(&[!self.written[0]], 0)
                .map_err(|e| io_error("corrupting", e))?;
        }
        Ok(())
    }
}

impl WorkerOp for FileOp {
    fn run_op(&mut self, op_index: u64) -> Result<u64, OpError> {
        fill_block(&mut self.written, op_index);
        self.file
            .write_all_at(&self.written, 0)
            .map_err(|e| io_error("write", e))?;
        if self.run.fsync {
            self.file.sync_data().map_err(|e| io_error("fsync", e))?;
        }
        self.corrupt_on_disk()?;
        self.file
            .read_exact_at(&mut self.read, 0)
            .map_err(|e| io_error("read back", e))?;
        self.verify(op_index)
    }

    fn as_async(&mut self) -> Option<&mut dyn AsyncWorkerOp> {
        Some(self)
    }
}

impl AsyncWorkerOp for FileOp {
    fn run_op_async(&mut self, op_index: u64) -> BoxFuture<'_, Result<u64, OpError>> {
        Box::pin(async move {
            fill_block(&mut self.written, op_index);
            if self.async_file.is_none() {
                let clone = self.file.try_clone().map_err(|e| io_error("open", e))?;
                self.async_file = Some(tokio::fs::File::from_std(clone));
            }
            let file = self.async_file.as_mut().expect("opened above");
            file.seek(std::io::SeekFrom::Start(0))
                .await
                .map_err(|e| io_error("seek", e))?;
            file.write_all(&self.written)
                .await
                .map_err(|e| io_error("write", e))?;
            file.flush().await.map_err(|e| io_error("write", e))?;
            if self.run.fsync {
                file.sync_data().await.map_err(|e| io_error("fsync", e))?;
            }
            self.corrupt_on_disk()?;
            let file = self.async_file.as_mut().expect("opened above");
            file.seek(std::io::SeekFrom::Start(0))
                .await
                .map_err(|e| io_error("seek", e))?;
            file.read_exact(&mut self.read)
                .await
                .map_err(|e| io_error("read back", e))?;
            self.verify(op_index)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_spec, Scaling};

    #[test]
    fn blocks_verify_and_corruption_is_caught() {
        let good = parse_spec("io/file:block_bytes=1000,fsync=false").unwrap();
        let shared = good.prepare(RunShape::new(1, Scaling::Strong, 10)).unwrap();
        let mut op = Arc::clone(&shared).worker(0).unwrap();
        for i in 0..3 {
            assert_eq!(op.run_op(i).unwrap(), 1000);
        }
        assert_eq!(shared.counters()["verified_bytes"], 3000.0);

        let bad = parse_spec("io/file:block_bytes=1000,fsync=false,corrupt=true").unwrap();
        let shared = bad.prepare(RunShape::new(1, Scaling::Strong, 10)).unwrap();
        let mut op = Arc::clone(&shared).worker(0).unwrap();
        let error = op.run_op(0).unwrap_err();
        assert!(error.message.contains("differs at byte 0"), "{error}");
    }

    #[test]
    fn the_temporary_folder_is_removed_with_the_run() {
        let w = parse_spec("io/file:block_bytes=10").unwrap();
        let outside = tempfile::tempdir().unwrap();
        let mut shape = RunShape::new(1, Scaling::Strong, 10);
        shape.io.output_dir = Some(outside.path().to_path_buf());
        let shared = w.prepare(shape).unwrap();
        let mut op = Arc::clone(&shared).worker(0).unwrap();
        op.run_op(0).unwrap();
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 1);
        drop(op);
        drop(shared);
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    }
}
