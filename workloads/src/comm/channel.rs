//! `comm/channel`: producers and consumers over one of the channel crates
//! (std's mpsc, crossbeam, flume, tokio's mpsc), bounded or not; the
//! engine, roles and counters are in [`super`].

use std::sync::Arc;

use super::{Chan, CommConfig};
use crate::params::{ParamKind, ParamSpec};
use crate::{Requirements, RunShape, SharedRun, WorkloadError, WorkloadInfo};

/// The parameters every comm workload shares, after `impl`.
pub(super) const ROLE_PARAMS: [ParamSpec; 4] = [
    ParamSpec {
        name: "bound",
        kind: ParamKind::IntOr {
            min: 1,
            max: 1 << 24,
            word: "unbounded",
        },
        default: "64",
        help: "messages the channel holds before a send blocks",
    },
    ParamSpec {
        name: "producers",
        kind: ParamKind::Int { min: 0, max: 4096 },
        default: "0",
        help: "workers that send (0 with consumers=0: half the workers)",
    },
    ParamSpec {
        name: "consumers",
        kind: ParamKind::Int { min: 0, max: 4096 },
        default: "0",
        help: "workers that receive; producers + consumers must equal the workers",
    },
    ParamSpec {
        name: "consume_steps",
        kind: ParamKind::Int {
            min: 0,
            max: 1_000_000_000,
        },
        default: "0",
        help: "work a consumer does per message it receives, in spin steps: a slow consumer fills the channel and blocks its producers in send",
    },
];

/// Registry entry.
pub static INFO: WorkloadInfo = WorkloadInfo {
    id: "comm/channel",
    summary: "producers send, consumers receive, over std/crossbeam/flume/tokio channels; message latency at receipt",
    params: &[
        ParamSpec {
            name: "impl",
            kind: ParamKind::Choice(&["std", "crossbeam", "flume", "tokio"]),
            default: "crossbeam",
            help: "the channel crate (tokio and flume also await in the async models)",
        },
        ROLE_PARAMS[0],
        ROLE_PARAMS[1],
        ROLE_PARAMS[2],
        ROLE_PARAMS[3],
    ],
    in_profiles: false,
    build: |params| Ok(Box::new(ChannelWorkload { params })),
};

workload_type! {
    ChannelWorkload = INFO;
    fn requirements(&self) -> Requirements {
        CommConfig::requirements()
    }
    fn is_async_native(&self) -> bool {
        Chan::is_async(self.params.text("impl"))
    }
    fn prepare(&self, shape: RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError> {
        CommConfig::from(&self.params).prepare(INFO.id, &shape)
    }
}
