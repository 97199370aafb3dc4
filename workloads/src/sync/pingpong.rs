//! `sync/pingpong`: round trips between pairs of workers. Worker 2i pings
//! worker 2i+1 and waits for the pong; one op is one round trip on each
//! side, so the pair runs in lockstep. A lone worker (one worker in all, or
//! the last of an odd count) is its own partner: the hand-off without the
//! other thread. Three hand-offs:
//!
//! - `condvar`: a mutex-guarded turn and a condition variable (blocking);
//! - `channel`: a pair of std channels (blocking);
//! - `spin`: an atomic turn, busy-waited. Two spinners sharing a core take
//!   milliseconds per hand-off, so `spin` refuses to run unless every
//!   worker has a core of its own with one to spare (workers < the cores
//!   this process may use), with the reason, instead of crawling.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex};

use crossbeam_utils::CachePadded;

use crate::params::{ParamKind, ParamSpec};
use crate::{OpError, Requirements, RunShape, SharedRun, WorkerOp, WorkloadError, WorkloadInfo};

/// Registry entry.
pub static INFO: WorkloadInfo = WorkloadInfo {
    id: "sync/pingpong",
    summary: "round trips between pairs of workers via condvar, channel or spin (spin refuses when workers would share cores)",
    params: &[ParamSpec {
        name: "impl",
        kind: ParamKind::Choice(&["condvar", "channel", "spin"]),
        default: "condvar",
        help: "how a hand-off wakes the partner",
    }],
    in_profiles: false,
    build: |params| Ok(Box::new(PingPong { params })),
};

/// One pair's meeting point. `turn` counts hand-offs: odd after a ping,
/// even after a pong.
enum Pair {
    Condvar(Mutex<u64>, Condvar),
    Channel(
        Mutex<Option<Receiver<u64>>>,
        Mutex<Option<Receiver<u64>>>,
        Sender<u64>,
        Sender<u64>,
    ),
    Spin(CachePadded<AtomicU64>),
}

workload_type! {
    PingPong = INFO;
    fn requirements(&self) -> Requirements {
        Requirements::shared_lockstep("each pair meets in shared memory")
    }
    fn prepare(&self, shape: RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError> {
        let implementation = self.params.text("impl");
        if implementation == "spin" {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            if shape.workers >= cores {
                return Err(WorkloadError::Shape {
                    workload: INFO.id,
                    workers: shape.workers,
                    reason: format!(
                        "spin needs fewer workers than cores ({cores} here): spinners sharing a core take milliseconds per hand-off; use impl=condvar or impl=channel"
                    ),
                });
            }
        }
        let pairs = shape.workers.div_ceil(2);
        let pairs = (0..pairs)
            .map(|_| match implementation {
                "condvar" => Pair::Condvar(Mutex::new(0), Condvar::new()),
                "channel" => {
                    let (to_odd, odd_inbox) = channel();
                    let (to_even, even_inbox) = channel();
                    Pair::Channel(
                        Mutex::new(Some(even_inbox)),
                        Mutex::new(Some(odd_inbox)),
                        to_odd,
                        to_even,
                    )
                }
                _ => Pair::Spin(CachePadded::new(AtomicU64::new(0))),
            })
            .collect();
        Ok(Arc::new(PingPongRun {
            pairs,
            workers: shape.workers,
        }))
    }
}

struct PingPongRun {
    pairs: Vec<Pair>,
    workers: usize,
}

impl SharedRun for PingPongRun {
    fn worker(self: Arc<Self>, index: usize) -> Result<Box<dyn WorkerOp>, WorkloadError> {
        let pair = index / 2;
        let alone = index % 2 == 0 && index + 1 >= self.workers;
        let inboxes = match &self.pairs[pair] {
            Pair::Channel(even, odd, ..) => {
                let take = |slot: &Mutex<Option<Receiver<u64>>>| {
                    slot.lock().unwrap_or_else(|p| p.into_inner()).take()
                };
                if alone {
                    (take(even), take(odd))
                } else if index % 2 == 0 {
                    (take(even), None)
                } else {
                    (take(odd), None)
                }
            }
            _ => (None, None),
        };
        Ok(Box::new(PingPongOp {
            run: self,
            pair,
            pinger: index % 2 == 0,
            alone,
            inbox: inboxes.0,
            partner_inbox: inboxes.1,
            round: 0,
        }))
    }
}

struct PingPongOp {
    run: Arc<PingPongRun>,
    pair: usize,
    pinger: bool,
    alone: bool,
    inbox: Option<Receiver<u64>>,
    /// A lone worker plays its partner too, with the partner's inbox.
    partner_inbox: Option<Receiver<u64>>,
    round: u64,
}

fn lost_partner() -> OpError {
    OpError::new("the partner worker went away")
}

impl PingPongOp {
    /// Waits until the pair's turn counter reaches `wait_for`, then moves
    /// it on by one: the hand-off of the condvar and spin implementations.
    fn hand_off(&self, wait_for: u64) {
        match &self.run.pairs[self.pair] {
            Pair::Condvar(turn, changed) => {
                let mut current = turn.lock().unwrap_or_else(|p| p.into_inner());
                while *current != wait_for {
                    current = changed.wait(current).unwrap_or_else(|p| p.into_inner());
                }
                *current += 1;
                changed.notify_all();
            }
            Pair::Spin(turn) => {
                while turn.load(Ordering::Acquire) != wait_for {
                    std::hint::spin_loop();
                }
                turn.store(wait_for + 1, Ordering::Release);
            }
            Pair::Channel(..) => {}
        }
    }
}

impl WorkerOp for PingPongOp {
    fn run_op(&mut self, _op_index: u64) -> Result<u64, OpError> {
        let base = self.round * 2;
        self.round += 1;
        match &self.run.pairs[self.pair] {
            Pair::Channel(..) => {
                if self.alone {
                    // Ping to ourselves, answer it, read the answer.
                    self.channel_send(true, base)?;
                    self.channel_recv(false)?;
                    self.channel_send(false, base + 1)?;
                    self.channel_recv(true)?;
                } else if self.pinger {
                    self.channel_send(true, base)?;
                    self.channel_recv(true)?;
                } else {
                    self.channel_recv(true)?;
                    self.channel_send(false, base + 1)?;
                }
            }
            _ => {
                if self.alone {
                    self.hand_off(base);
                    self.hand_off(base + 1);
                } else if self.pinger {
                    self.hand_off(base);
                    self.wait_until(base + 2);
                } else {
                    self.hand_off(base + 1);
                }
            }
        }
        Ok(base)
    }
}

impl PingPongOp {
    /// Blocks (or spins) until the turn counter reaches `turn`.
    fn wait_until(&self, turn: u64) {
        match &self.run.pairs[self.pair] {
            Pair::Condvar(current, changed) => {
                let mut current = current.lock().unwrap_or_else(|p| p.into_inner());
                while *current < turn {
                    current = changed.wait(current).unwrap_or_else(|p| p.into_inner());
                }
            }
            Pair::Spin(current) => {
                while current.load(Ordering::Acquire) < turn {
                    std::hint::spin_loop();
                }
            }
            Pair::Channel(..) => {}
        }
    }

    /// Sends a message to the odd side (`to_odd`) or the even side.
    fn channel_send(&self, to_odd: bool, value: u64) -> Result<(), OpError> {
        let Pair::Channel(_, _, odd, even) = &self.run.pairs[self.pair] else {
            return Ok(());
        };
        let to = if to_odd { odd } else { even };
        to.send(value).map_err(|_| lost_partner())
    }

    /// Receives on our own inbox, or (a lone worker playing its partner)
    /// on the partner's.
    fn channel_recv(&self, own: bool) -> Result<u64, OpError> {
        let inbox = if own {
            &self.inbox
        } else {
            &self.partner_inbox
        };
        inbox
            .as_ref()
            .ok_or_else(lost_partner)?
            .recv()
            .map_err(|_| lost_partner())
    }
}
