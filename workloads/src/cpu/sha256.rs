//! `cpu/sha256`: a SHA-256 hash chain over a buffer, using the RustCrypto
//! `sha2` crate.
//!
//! Every worker owns a `block_bytes` buffer (allocated at set-up, outside
//! the timed region). One op hashes it `chain` times, each time writing the
//! digest back into the buffer's head, so every hash depends on the last.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::params::{ParamKind, ParamSpec};
use crate::{OpError, RunShape, SharedRun, WorkerOp, WorkloadError, WorkloadInfo};

/// Registry entry.
pub static INFO: WorkloadInfo = WorkloadInfo {
    id: "cpu/sha256",
    summary: "SHA-256 hash chain over a per-worker buffer; CPU and L1/L2 bandwidth",
    params: &[
        ParamSpec {
            name: "block_bytes",
            kind: ParamKind::Int {
                min: 32,
                max: 1 << 30,
            },
            default: "4096",
            help: "bytes hashed per link of the chain",
        },
        ParamSpec {
            name: "chain",
            kind: ParamKind::Int {
                min: 1,
                max: 1_000_000,
            },
            default: "3",
            help: "hashes per op, each over the previous digest and the buffer (3 is about 7 us)",
        },
    ],
    in_profiles: true,
    build: |params| Ok(Box::new(Sha256Chain { params })),
};

workload_type! {
    Sha256Chain = INFO;
    fn prepare(&self, _shape: RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError> {
        Ok(Arc::new(Sha256Run {
            block_bytes: self.params.int("block_bytes") as usize,
            chain: self.params.int("chain") as u32,
        }))
    }
}

struct Sha256Run {
    block_bytes: usize,
    chain: u32,
}

impl SharedRun for Sha256Run {
    fn worker(self: Arc<Self>, index: usize) -> Result<Box<dyn WorkerOp>, WorkloadError> {
        let buffer = (0..self.block_bytes)
            .map(|i| (i.wrapping_mul(31) ^ index) as u8)
            .collect();
        Ok(Box::new(ChainOp {
            buffer,
            chain: self.chain,
        }))
    }
}

struct ChainOp {
    buffer: Vec<u8>,
    chain: u32,
}

impl WorkerOp for ChainOp {
    fn run_op(&mut self, op_index: u64) -> Result<u64, OpError> {
        self.buffer[..8].copy_from_slice(&op_index.to_le_bytes());
        for _ in 0..self.chain {
            let digest = Sha256::digest(&self.buffer);
            self.buffer[..32].copy_from_slice(&digest);
        }
        let mut head = [0u8; 8];
        head.copy_from_slice(&self.buffer[..8]);
        Ok(u64::from_le_bytes(head))
    }
}
