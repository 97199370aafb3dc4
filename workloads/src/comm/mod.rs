//! Communication workloads: producers and consumers passing messages.
//!
//! [`channel`] (`comm/channel`) runs the channel crates (std, crossbeam,
//! flume, tokio); [`queue`] (`comm/queue`) runs the books' hand-written
//! shared queue, a `Mutex<VecDeque>` with two condvars, on the same engine so
//! the two compare directly. The engine lives here:
//!
//! - Roles: with one worker, each op sends a message and receives it back
//!   (the channel's cost without a second thread). With n >= 2 workers,
//!   `producers` + `consumers` must be n (0 and 0 split n in half, producers
//!   first). A producer's op sends `consumers` messages and a consumer's op
//!   receives `producers`, so with every worker running the same number of
//!   ops (the workload is lockstep) every message sent is received.
//! - Every message carries its id and its send time. Each consumer records
//!   the time from send to receipt in its own HDR histogram (its own lock,
//!   never contended); the counters report their merged quantiles
//!   (`message_latency_p50_ns`, ...) next to the harness's op latency (the
//!   time to send, backpressure included, or to receive), and the merged
//!   histogram itself as `message_latency`.
//! - Exactly once: a slot per message id counts deliveries; the counters
//!   `messages_lost` and `messages_duplicated` must both be 0.
//! - The tokio and flume channels have async sends and receives, which the
//!   async models use; the others block, so the async models refuse them
//!   (a blocked runtime thread would starve the tasks it waits for).

pub mod channel;
pub mod queue;

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use hdrhistogram::Histogram;

use crate::latency::{add_quantile_counters, new_latency_histogram};
use crate::params::ParamValues;
use crate::{
    AsyncWorkerOp, BoxFuture, OpError, Requirements, RunShape, SharedRun, WorkerOp, WorkloadError,
};

/// One message: its id and when it was sent.
#[derive(Debug, Clone, Copy)]
struct Message {
    id: u64,
    sent: Instant,
}

/// A multi-producer, multi-consumer channel of one implementation.
enum Chan {
    Std {
        sender: StdSender,
        receiver: Mutex<std::sync::mpsc::Receiver<Message>>,
    },
    Crossbeam(
        crossbeam_channel::Sender<Message>,
        crossbeam_channel::Receiver<Message>,
    ),
    Flume(flume::Sender<Message>, flume::Receiver<Message>),
    Tokio {
        sender: TokioSender,
        receiver: tokio::sync::Mutex<TokioReceiver>,
    },
    /// The books' queue: a deque under a mutex, with condvars for "not
    /// empty" and "not full".
    Queue {
        items: Mutex<VecDeque<Message>>,
        not_empty: Condvar,
        not_full: Condvar,
        bound: Option<usize>,
    },
}

enum StdSender {
    Bounded(std::sync::mpsc::SyncSender<Message>),
    Unbounded(std::sync::mpsc::Sender<Message>),
}

enum TokioSender {
    Bounded(tokio::sync::mpsc::Sender<Message>),
    Unbounded(tokio::sync::mpsc::UnboundedSender<Message>),
}

enum TokioReceiver {
    Bounded(tokio::sync::mpsc::Receiver<Message>),
    Unbounded(tokio::sync::mpsc::UnboundedReceiver<Message>),
}

fn closed() -> OpError {
    OpError::new("the channel closed")
}

impl Chan {
    /// A channel of `implementation` holding at most `bound` messages.
    fn new(implementation: &str, bound: Option<usize>) -> Chan {
        match (implementation, bound) {
            ("std", Some(bound)) => {
                let (sender, receiver) = std::sync::mpsc::sync_channel(bound);
                Chan::Std {
                    sender: StdSender::Bounded(sender),
                    receiver: Mutex::new(receiver),
                }
            }
            ("std", None) => {
                let (sender, receiver) = std::sync::mpsc::channel();
                Chan::Std {
                    sender: StdSender::Unbounded(sender),
                    receiver: Mutex::new(receiver),
                }
            }
            ("crossbeam", Some(bound)) => {
                let (s, r) = crossbeam_channel::bounded(bound);
                Chan::Crossbeam(s, r)
            }
            ("crossbeam", None) => {
                let (s, r) = crossbeam_channel::unbounded();
                Chan::Crossbeam(s, r)
            }
            ("flume", Some(bound)) => {
                let (s, r) = flume::bounded(bound);
                Chan::Flume(s, r)
            }
            ("flume", None) => {
                let (s, r) = flume::unbounded();
                Chan::Flume(s, r)
            }
            ("tokio", Some(bound)) => {
                let (s, r) = tokio::sync::mpsc::channel(bound);
                Chan::Tokio {
                    sender: TokioSender::Bounded(s),
                    receiver: tokio::sync::Mutex::new(TokioReceiver::Bounded(r)),
                }
            }
            ("tokio", None) => {
                let (s, r) = tokio::sync::mpsc::unbounded_channel();
                Chan::Tokio {
                    sender: TokioSender::Unbounded(s),
                    receiver: tokio::sync::Mutex::new(TokioReceiver::Unbounded(r)),
                }
            }
            (_, bound) => Chan::Queue {
                items: Mutex::new(VecDeque::with_capacity(bound.unwrap_or(1024))),
                not_empty: Condvar::new(),
                not_full: Condvar::new(),
                bound,
            },
        }
    }

    /// Sends, blocking while the channel is full.
    fn send(&self, message: Message) -> Result<(), OpError> {
        match self {
            Chan::Std { sender, .. } => match sender {
                StdSender::Bounded(s) => s.send(message).map_err(|_| closed()),
                StdSender::Unbounded(s) => s.send(message).map_err(|_| closed()),
            },
            Chan::Crossbeam(s, _) => s.send(message).map_err(|_| closed()),
            Chan::Flume(s, _) => s.send(message).map_err(|_| closed()),
            Chan::Tokio { sender, .. } => match sender {
                TokioSender::Bounded(s) => s.blocking_send(message).map_err(|_| closed()),
                TokioSender::Unbounded(s) => s.send(message).map_err(|_| closed()),
            },
            Chan::Queue {
                items,
                not_empty,
                not_full,
                bound,
            } => {
                let mut items = items.lock().unwrap_or_else(|p| p.into_inner());
                while bound.is_some_and(|b| items.len() >= b) {
                    items = not_full.wait(items).unwrap_or_else(|p| p.into_inner());
                }
                items.push_back(message);
                drop(items);
                not_empty.notify_one();
                Ok(())
            }
        }
    }

    /// Receives, blocking while the channel is empty.
    fn recv(&self) -> Result<Message, OpError> {
        match self {
            Chan::Std { receiver, .. } => receiver
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .recv()
                .map_err(|_| closed()),
            Chan::Crossbeam(_, r) => r.recv().map_err(|_| closed()),
            Chan::Flume(_, r) => r.recv().map_err(|_| closed()),
            Chan::Tokio { receiver, .. } => match &mut *receiver.blocking_lock() {
                TokioReceiver::Bounded(r) => r.blocking_recv().ok_or_else(closed),
                TokioReceiver::Unbounded(r) => r.blocking_recv().ok_or_else(closed),
            },
            Chan::Queue {
                items,
                not_empty,
                not_full,
                ..
            } => {
                let mut items = items.lock().unwrap_or_else(|p| p.into_inner());
                loop {
                    if let Some(message) = items.pop_front() {
                        drop(items);
                        not_full.notify_one();
                        return Ok(message);
                    }
                    items = not_empty.wait(items).unwrap_or_else(|p| p.into_inner());
                }
            }
        }
    }

    /// Whether sends and receives can await (tokio, flume).
    fn is_async(implementation: &str) -> bool {
        matches!(implementation, "tokio" | "flume")
    }

    async fn send_async(&self, message: Message) -> Result<(), OpError> {
        match self {
            Chan::Flume(s, _) => s.send_async(message).await.map_err(|_| closed()),
            Chan::Tokio { sender, .. } => match sender {
                TokioSender::Bounded(s) => s.send(message).await.map_err(|_| closed()),
                TokioSender::Unbounded(s) => s.send(message).map_err(|_| closed()),
            },
            other => other.send(message),
        }
    }

    async fn recv_async(&self) -> Result<Message, OpError> {
        match self {
            Chan::Flume(_, r) => r.recv_async().await.map_err(|_| closed()),
            Chan::Tokio { receiver, .. } => match &mut *receiver.lock().await {
                TokioReceiver::Bounded(r) => r.recv().await.ok_or_else(closed),
                TokioReceiver::Unbounded(r) => r.recv().await.ok_or_else(closed),
            },
            other => other.recv(),
        }
    }
}

/// A comm workload's parameters, read once.
struct CommConfig {
    implementation: String,
    bound: Option<usize>,
    producers: usize,
    consumers: usize,
    consume_steps: u64,
}

impl CommConfig {
    fn from(params: &ParamValues) -> CommConfig {
        CommConfig {
            implementation: params.text("impl").to_string(),
            bound: params.int_or_word("bound").map(|b| b as usize),
            producers: params.int("producers") as usize,
            consumers: params.int("consumers") as usize,
            consume_steps: params.int("consume_steps") as u64,
        }
    }

    fn requirements() -> Requirements {
        Requirements::shared_lockstep("producers and consumers share the channel")
    }

    /// Builds the shared run for `shape`.
    fn prepare(
        &self,
        id: &'static str,
        shape: &RunShape,
    ) -> Result<Arc<dyn SharedRun>, WorkloadError> {
        let workers = shape.workers.max(1);
        let (producers, consumers) = match (workers, self.producers, self.consumers) {
            (1, 0, 0) => (1, 1),
            (n, 0, 0) => (n.div_ceil(2), n / 2),
            (n, p, c) if p + c == n && p > 0 && c > 0 => (p, c),
            (n, p, c) => {
                return Err(WorkloadError::Shape {
                    workload: id,
                    workers: n,
                    reason: format!(
                        "producers={p} and consumers={c} need {} workers, both at least 1 (0 and 0 split the workers in half)",
                        p + c
                    ),
                })
            }
        };
        let ops_per_worker = (shape.total_ops / workers as u64).max(1);
        let messages = if workers == 1 {
            ops_per_worker
        } else {
            producers as u64 * consumers as u64 * ops_per_worker
        };
        Ok(Arc::new(CommRun {
            chan: Chan::new(&self.implementation, self.bound),
            solo: workers == 1,
            consume_steps: self.consume_steps,
            producers,
            consumers,
            delivered: (0..messages).map(|_| AtomicU8::new(0)).collect(),
            latency: (0..consumers)
                .map(|_| Mutex::new(new_latency_histogram()))
                .collect(),
        }))
    }
}

struct CommRun {
    chan: Chan,
    /// One worker plays both roles.
    solo: bool,
    /// Work per message received, in spin steps.
    consume_steps: u64,
    producers: usize,
    consumers: usize,
    /// Deliveries per message id.
    delivered: Vec<AtomicU8>,
    /// Per consumer: time from send to receipt.
    latency: Vec<Mutex<Histogram<u64>>>,
}

/// What a worker does in a comm run.
#[derive(Debug, Clone, Copy)]
enum Role {
    Solo,
    /// The producer's index among producers.
    Producer(usize),
    /// The consumer's index among consumers.
    Consumer(usize),
}

impl CommRun {
    /// Every consumer's send-to-receipt latencies, merged.
    fn merged_latency(&self) -> Histogram<u64> {
        let mut merged = new_latency_histogram();
        for histogram in &self.latency {
            let _ = merged.add(&*histogram.lock().unwrap_or_else(|p| p.into_inner()));
        }
        merged
    }

    fn receipt(&self, consumer: usize, message: Message) -> Result<u64, OpError> {
        let slot = self
            .delivered
            .get(message.id as usize)
            .ok_or_else(|| OpError::new(format!("message id {} out of range", message.id)))?;
        slot.fetch_add(1, Ordering::Relaxed);
        let ns = message.sent.elapsed().as_nanos() as u64;
        self.latency[consumer]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .saturating_record(ns.max(1));
        if self.consume_steps > 0 {
            std::hint::black_box(crate::kernel::spin_work(self.consume_steps, message.id));
        }
        Ok(ns)
    }

    /// The ids producer `producer` sends in its op `op`: one per consumer.
    fn ids(&self, producer: usize, op: u64) -> impl Iterator<Item = u64> {
        let per_op = self.consumers as u64;
        let base =
            (producer as u64 * (self.delivered.len() as u64 / self.producers as u64)) + op * per_op;
        base..base + per_op
    }
}

impl SharedRun for CommRun {
    fn worker(self: Arc<Self>, index: usize) -> Result<Box<dyn WorkerOp>, WorkloadError> {
        let role = if self.solo {
            Role::Solo
        } else if index < self.producers {
            Role::Producer(index)
        } else {
            Role::Consumer(index - self.producers)
        };
        Ok(Box::new(CommOp {
            run: self,
            role,
            op: 0,
        }))
    }

    fn counters(&self) -> BTreeMap<String, f64> {
        let merged = self.merged_latency();
        let count = |pred: fn(u8) -> bool| {
            self.delivered
                .iter()
                .filter(|d| pred(d.load(Ordering::Relaxed)))
                .count() as f64
        };
        let mut counters = BTreeMap::from([
            ("messages".to_string(), self.delivered.len() as f64),
            ("messages_received".to_string(), merged.len() as f64),
            ("messages_lost".to_string(), count(|d| d == 0)),
            ("messages_duplicated".to_string(), count(|d| d >= 2)),
        ]);
        add_quantile_counters(&mut counters, "message_latency", &merged);
        counters
    }

    fn histograms(&self) -> BTreeMap<String, Histogram<u64>> {
        let merged = self.merged_latency();
        if merged.is_empty() {
            return BTreeMap::new();
        }
        BTreeMap::from([("message_latency".to_string(), merged)])
    }
}

struct CommOp {
    run: Arc<CommRun>,
    role: Role,
    /// This worker's ops so far (message ids derive from it).
    op: u64,
}

impl WorkerOp for CommOp {
    fn run_op(&mut self, _op_index: u64) -> Result<u64, OpError> {
        let op = self.op;
        self.op += 1;
        let run = &self.run;
        match self.role {
            Role::Solo => {
                run.chan.send(Message {
                    id: op,
                    sent: Instant::now(),
                })?;
                let message = run.chan.recv()?;
                run.receipt(0, message)
            }
            Role::Producer(p) => {
                for id in run.ids(p, op) {
                    run.chan.send(Message {
                        id,
                        sent: Instant::now(),
                    })?;
                }
                Ok(op)
            }
            Role::Consumer(c) => {
                let mut sum = 0;
                for _ in 0..run.producers {
                    let message = run.chan.recv()?;
                    sum += run.receipt(c, message)?;
                }
                Ok(sum)
            }
        }
    }

    fn as_async(&mut self) -> Option<&mut dyn AsyncWorkerOp> {
        Some(self)
    }
}

impl AsyncWorkerOp for CommOp {
    fn run_op_async(&mut self, _op_index: u64) -> BoxFuture<'_, Result<u64, OpError>> {
        Box::pin(async move {
            let op = self.op;
            self.op += 1;
            let run = &self.run;
            match self.role {
                Role::Solo => {
                    run.chan
                        .send_async(Message {
                            id: op,
                            sent: Instant::now(),
                        })
                        .await?;
                    let message = run.chan.recv_async().await?;
                    run.receipt(0, message)
                }
                Role::Producer(p) => {
                    for id in run.ids(p, op) {
                        run.chan
                            .send_async(Message {
                                id,
                                sent: Instant::now(),
                            })
                            .await?;
                    }
                    Ok(op)
                }
                Role::Consumer(c) => {
                    let mut sum = 0;
                    for _ in 0..run.producers {
                        let message = run.chan.recv_async().await?;
                        sum += run.receipt(c, message)?;
                    }
                    Ok(sum)
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_spec, Scaling};

    /// Runs every worker's ops on its own thread and returns the counters.
    fn run_threads(spec: &str, workers: usize, ops: u64) -> BTreeMap<String, f64> {
        crate::test_support::run_on_threads(spec, workers, ops).counters()
    }

    #[test]
    fn every_implementation_delivers_every_message_once() {
        for implementation in ["std", "crossbeam", "flume", "tokio"] {
            for bound in ["1", "unbounded"] {
                for (workers, producers, consumers) in [(1, 0, 0), (2, 0, 0), (5, 2, 3), (4, 3, 1)]
                {
                    let spec = format!(
                        "comm/channel:impl={implementation},bound={bound},producers={producers},consumers={consumers}"
                    );
                    let counters = run_threads(&spec, workers, 50);
                    assert_eq!(counters["messages_lost"], 0.0, "{spec} at {workers}");
                    assert_eq!(counters["messages_duplicated"], 0.0, "{spec}");
                    assert_eq!(
                        counters["messages_received"], counters["messages"],
                        "{spec}"
                    );
                }
            }
        }
        let counters = run_threads("comm/queue:bound=2", 4, 50);
        assert_eq!(counters["messages"], 2.0 * 2.0 * 50.0);
        assert_eq!(counters["messages_lost"], 0.0);
    }

    #[test]
    fn roles_that_do_not_add_up_are_refused() {
        let workload = parse_spec("comm/channel:producers=2,consumers=2").unwrap();
        let error = workload
            .prepare(RunShape::new(3, Scaling::Strong, 30))
            .err()
            .unwrap();
        assert!(error.to_string().contains("need 4 workers"), "{error}");
    }
}
