//! `io/http`: one GET per op over the worker's own keep-alive connection.
//!
//! Against the loopback server the request asks for the workload's service
//! delay, response size and server CPU work, and the body's length is
//! checked. With `--target URL` every op GETs that URL as given and the
//! body is taken as it comes. Error answers (status >= 400) are counted per
//! status code (`http_status_503`, ...); once a run has seen more than
//! `max_errors` of them the op fails, and with it the cell.
//!
//! `stall_ms` with `stall_at_op` makes the op of that index ask the
//! loopback server to hold every response for `stall_ms`: the one-off
//! server pause under which a closed-loop client hides latency.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::client::{HttpClient, StatusTally};
use super::url::HttpUrl;
use crate::params::{ParamKind, ParamSpec};
use crate::{
    AsyncWorkerOp, BoxFuture, HttpUse, OpError, RunShape, SharedRun, WorkerOp, WorkloadError,
    WorkloadInfo,
};

/// Registry entry.
pub static INFO: WorkloadInfo = WorkloadInfo {
    id: "io/http",
    summary: "one GET per op on a keep-alive connection per worker (loopback server, or --target)",
    params: &[
        ParamSpec {
            name: "delay_ms",
            kind: ParamKind::Float {
                min: 0.0,
                max: super::server::MAX_DELAY_MS,
            },
            default: "1",
            help: "the server's service delay per request, in ms (a timer, no CPU)",
        },
        ParamSpec {
            name: "size_bytes",
            kind: ParamKind::Int {
                min: 0,
                max: super::server::MAX_BODY_BYTES as i64,
            },
            default: "1024",
            help: "response body size, in bytes",
        },
        ParamSpec {
            name: "cpu_us",
            kind: ParamKind::Float {
                min: 0.0,
                max: super::server::MAX_CPU_US,
            },
            default: "0",
            help: "CPU work the server does per request, in µs",
        },
        ParamSpec {
            name: "stall_ms",
            kind: ParamKind::Float {
                min: 0.0,
                max: super::server::MAX_STALL_MS,
            },
            default: "0",
            help: "if > 0, op `stall_at_op` makes the server hold every response this long, once",
        },
        ParamSpec {
            name: "stall_at_op",
            kind: ParamKind::Int {
                min: 0,
                max: i64::MAX,
            },
            default: "0",
            help: "the op index that triggers the stall",
        },
        ParamSpec {
            name: "max_errors",
            kind: ParamKind::Int {
                min: 0,
                max: i64::MAX,
            },
            default: "10",
            help: "error answers (status >= 400) a run tolerates before the cell fails",
        },
    ],
    in_profiles: true,
    build: |params| Ok(Box::new(HttpWorkload { params })),
};

workload_type! {
    HttpWorkload = INFO + async_native + io_bound;
    fn http_use(&self) -> HttpUse {
        HttpUse::AnyServer
    }
    fn prepare(&self, shape: RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError> {
        let setup = |reason: String| WorkloadError::Setup {
            workload: INFO.id,
            reason,
        };
        let (base, path, expected_len) = match (&shape.io.target_url, &shape.io.server_url) {
            (Some(target), _) => {
                let url = HttpUrl::parse(target).map_err(setup)?;
                let path = url.path_and_query.clone();
                (url, path, None)
            }
            (None, Some(server)) => {
                let query = format!(
                    "delay_ms={}&size_bytes={}&cpu_us={}",
                    self.params.float("delay_ms"),
                    self.params.int("size_bytes"),
                    self.params.float("cpu_us")
                );
                (
                    HttpUrl::parse(server).map_err(setup)?,
                    format!("/work?{query}"),
                    Some(self.params.int("size_bytes") as usize),
                )
            }
            (None, None) => return Err(setup(
                "no HTTP server: corebench starts one for `run`; give --target URL to use another"
                    .into(),
            )),
        };
        let stall_ms = self.params.float("stall_ms");
        let stall_path = (stall_ms > 0.0).then(|| {
            let join = if path.contains('?') { '&' } else { '?' };
            format!("{path}{join}stall_ms={stall_ms}")
        });
        Ok(Arc::new(HttpRun {
            async_ops: shape.async_ops,
            base,
            path,
            stall_path,
            stall_at_op: self.params.int("stall_at_op") as u64,
            expected_len,
            max_errors: self.params.int("max_errors") as u64,
            statuses: StatusTally::default(),
        }))
    }
}

struct HttpRun {
    async_ops: bool,
    base: HttpUrl,
    path: String,
    stall_path: Option<String>,
    stall_at_op: u64,
    expected_len: Option<usize>,
    max_errors: u64,
    statuses: StatusTally,
}

impl HttpRun {
    fn path_for(&self, op_index: u64) -> &str {
        match &self.stall_path {
            Some(stall) if op_index == self.stall_at_op => stall,
            _ => &self.path,
        }
    }

    /// Checks one answer: counts an error status, fails past the limit,
    /// and checks the body's length against the loopback server's promise.
    fn check(&self, status: u16, body_len: usize) -> Result<u64, OpError> {
        let errors = self.statuses.count(status);
        if errors > self.max_errors {
            return Err(OpError::new(format!(
                "{errors} error answers from {}{} ({}), more than max_errors={}",
                self.base.base(),
                self.path,
                self.statuses.describe(),
                self.max_errors
            )));
        }
        match self.expected_len {
            Some(expected) if status == 200 && body_len != expected => Err(OpError::new(format!(
                "the body had {body_len} bytes, not the {expected} asked for"
            ))),
            _ => Ok(body_len as u64),
        }
    }
}

impl SharedRun for HttpRun {
    fn worker(self: Arc<Self>, _index: usize) -> Result<Box<dyn WorkerOp>, WorkloadError> {
        let client = HttpClient::for_worker(&self.base, self.async_ops).map_err(|reason| {
            WorkloadError::Setup {
                workload: INFO.id,
                reason,
            }
        })?;
        Ok(Box::new(HttpOp { run: self, client }))
    }

    fn counters(&self) -> BTreeMap<String, f64> {
        self.statuses.counters()
    }
}

struct HttpOp {
    run: Arc<HttpRun>,
    client: HttpClient,
}

impl WorkerOp for HttpOp {
    fn run_op(&mut self, op_index: u64) -> Result<u64, OpError> {
        let reply = self
            .client
            .get(self.run.path_for(op_index))
            .map_err(OpError::new)?;
        self.run.check(reply.status, reply.body.len())
    }

    fn as_async(&mut self) -> Option<&mut dyn AsyncWorkerOp> {
        Some(self)
    }
}

impl AsyncWorkerOp for HttpOp {
    fn run_op_async(&mut self, op_index: u64) -> BoxFuture<'_, Result<u64, OpError>> {
        Box::pin(async move {
            let run = Arc::clone(&self.run);
            let reply = self
                .client
                .get_async(run.path_for(op_index))
                .await
                .map_err(OpError::new)?;
            run.check(reply.status, reply.body.len())
        })
    }
}
