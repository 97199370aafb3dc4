//! `mixed/compress`: read a chunk of a generated file, DEFLATE it (flate2),
//! and append the result to the worker's output file. The IO part is sized
//! by `chunk_bytes` (and `fsync`), the CPU part by `level`. The input is
//! text-like (words drawn from a small vocabulary), so it compresses about
//! as well as logs do. Files live in a temporary folder removed with the
//! run. The async op reads and writes with `tokio::fs` and compresses on
//! the runtime thread, as a naive async service would.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use flate2::write::DeflateEncoder;
use flate2::Compression;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use crate::io::io_error;
use crate::params::{ParamKind, ParamSpec};
use crate::{
    AsyncWorkerOp, BoxFuture, OpError, RunShape, SharedRun, WorkerOp, WorkloadError, WorkloadInfo,
};

/// Registry entry.
pub static INFO: WorkloadInfo = WorkloadInfo {
    id: "mixed/compress",
    summary: "read a chunk of a file, DEFLATE it (flate2), append it to an output file",
    params: &[
        ParamSpec {
            name: "chunk_bytes",
            kind: ParamKind::Int {
                min: 1,
                max: 64 << 20,
            },
            default: "65536",
            help: "bytes read and compressed per op (the IO part)",
        },
        ParamSpec {
            name: "level",
            kind: ParamKind::Int { min: 0, max: 9 },
            default: "6",
            help: "DEFLATE level, 0 (store) to 9 (best): the CPU part",
        },
        ParamSpec {
            name: "chunks",
            kind: ParamKind::Int { min: 1, max: 4096 },
            default: "64",
            help: "chunks in the input file (ops cycle through them)",
        },
        ParamSpec {
            name: "fsync",
            kind: ParamKind::Bool,
            default: "false",
            help: "fsync the output after each chunk",
        },
    ],
    in_profiles: false,
    build: |params| Ok(Box::new(CompressWorkload { params })),
};

workload_type! {
    CompressWorkload = INFO + async_native + io_bound;
    fn prepare(&self, shape: RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError> {
        let dir = crate::io::scratch::scratch_dir(INFO.id, &shape.io)?;
        let chunk_bytes = self.params.int("chunk_bytes") as usize;
        let chunks = self.params.int("chunks") as u64;
        let input = dir.path().join("input.txt");
        let setup = |e: std::io::Error| WorkloadError::Setup {
            workload: INFO.id,
            reason: format!("writing {}: {e}", input.display()),
        };
        let mut file = std::io::BufWriter::new(File::create(&input).map_err(setup)?);
        let mut chunk = vec![0u8; chunk_bytes];
        for c in 0..chunks {
            text_like(&mut chunk, c);
            file.write_all(&chunk).map_err(setup)?;
        }
        file.flush().map_err(setup)?;
        Ok(Arc::new(CompressRun {
            input,
            dir,
            chunk_bytes,
            chunks,
            level: Compression::new(self.params.int("level") as u32),
            fsync: self.params.bool("fsync"),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
        }))
    }
}

/// Fills `chunk` with words from a small vocabulary, chosen by a
/// deterministic generator seeded with `seed`.
fn text_like(chunk: &mut [u8], seed: u64) {
    const WORDS: [&[u8]; 16] = [
        b"the ",
        b"request ",
        b"took ",
        b"ms ",
        b"server ",
        b"GET ",
        b"/index ",
        b"200 ",
        b"user ",
        b"error ",
        b"cache ",
        b"hit ",
        b"miss ",
        b"latency ",
        b"ok\n",
        b"queue ",
    ];
    let mut state = seed.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut at = 0;
    while at < chunk.len() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let word = WORDS[(state % 16) as usize];
        let n = word.len().min(chunk.len() - at);
        chunk[at..at + n].copy_from_slice(&word[..n]);
        at += n;
    }
}

struct CompressRun {
    input: std::path::PathBuf,
    /// Removed, with every file in it, when the run ends.
    dir: tempfile::TempDir,
    chunk_bytes: usize,
    chunks: u64,
    level: Compression,
    fsync: bool,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
}

impl SharedRun for CompressRun {
    fn worker(self: Arc<Self>, index: usize) -> Result<Box<dyn WorkerOp>, WorkloadError> {
        let output = self.dir.path().join(format!("worker-{index}.deflate"));
        let open = |path: &std::path::Path, write: bool| {
            File::options()
                .read(!write)
                .write(write)
                .create(write)
                .truncate(write)
                .open(path)
                .map_err(|e| WorkloadError::Setup {
                    workload: INFO.id,
                    reason: format!("cannot open {}: {e}", path.display()),
                })
        };
        Ok(Box::new(CompressOp {
            input: open(&self.input, false)?,
            output: open(&output, true)?,
            async_files: None,
            chunk: vec![0; self.chunk_bytes],
            compressed: Vec::with_capacity(self.chunk_bytes + 1024),
            run: self,
        }))
    }

    fn counters(&self) -> BTreeMap<String, f64> {
        let bytes_in = self.bytes_in.load(Ordering::Relaxed) as f64;
        let bytes_out = self.bytes_out.load(Ordering::Relaxed) as f64;
        BTreeMap::from([
            ("bytes_in".to_string(), bytes_in),
            ("bytes_out".to_string(), bytes_out),
        ])
    }
}

struct CompressOp {
    run: Arc<CompressRun>,
    input: File,
    output: File,
    async_files: Option<(tokio::fs::File, tokio::fs::File)>,
    chunk: Vec<u8>,
    compressed: Vec<u8>,
}

impl CompressOp {
    fn offset_of(&self, op_index: u64) -> u64 {
        (op_index % self.run.chunks) * self.run.chunk_bytes as u64
    }

    /// Compresses `self.chunk` into `self.compressed`.
    fn compress(&mut self) -> Result<u64, OpError> {
        self.compressed.clear();
        let mut encoder = DeflateEncoder::new(&mut self.compressed, self.run.level);
        encoder
            .write_all(&self.chunk)
            .and_then(|_| encoder.try_finish())
            .map_err(|e| OpError::new(format!("compressing: {e}")))?;
        drop(encoder);
        self.run
            .bytes_in
            .fetch_add(self.chunk.len() as u64, Ordering::Relaxed);
        self.run
            .bytes_out
            .fetch_add(self.compressed.len() as u64, Ordering::Relaxed);
        Ok(self.compressed.len() as u64)
    }
}

impl WorkerOp for CompressOp {
    fn run_op(&mut self, op_index: u64) -> Result<u64, OpError> {
        let offset = self.offset_of(op_index);
        self.input
            .read_exact_at(&mut self.chunk, offset)
            .map_err(|e| io_error("read", e))?;
        let out_len = self.compress()?;
        self.output
            .write_all(&self.compressed)
            .map_err(|e| io_error("write", e))?;
        if self.run.fsync {
            self.output.sync_data().map_err(|e| io_error("fsync", e))?;
        }
        Ok(out_len)
    }

    fn as_async(&mut self) -> Option<&mut dyn AsyncWorkerOp> {
        Some(self)
    }
}

impl AsyncWorkerOp for CompressOp {
    fn run_op_async(&mut self, op_index: u64) -> BoxFuture<'_, Result<u64, OpError>> {
        Box::pin(async move {
            if self.async_files.is_none() {
                let input = self.input.try_clone().map_err(|e| io_error("open", e))?;
                let output = self.output.try_clone().map_err(|e| io_error("open", e))?;
                self.async_files = Some((
                    tokio::fs::File::from_std(input),
                    tokio::fs::File::from_std(output),
                ));
            }
            let offset = self.offset_of(op_index);
            let (input, _) = self.async_files.as_mut().expect("opened above");
            input
                .seek(std::io::SeekFrom::Start(offset))
                .await
                .map_err(|e| io_error("seek", e))?;
            input
                .read_exact(&mut self.chunk)
                .await
                .map_err(|e| io_error("read", e))?;
            let out_len = self.compress()?;
            let (_, output) = self.async_files.as_mut().expect("opened above");
            output
                .write_all(&self.compressed)
                .await
                .map_err(|e| io_error("write", e))?;
            output.flush().await.map_err(|e| io_error("write", e))?;
            if self.run.fsync {
                output.sync_data().await.map_err(|e| io_error("fsync", e))?;
            }
            Ok(out_len)
        })
    }
}
