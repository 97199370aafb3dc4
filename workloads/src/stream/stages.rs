//! The pipeline's stages and the three ways to run them, plus what every
//! stage measures about itself.
//!
//! - [`Operator`] is one stage's work on one quote (map, filter, window or
//!   sink, from [`super::operators`]); it returns the quote to pass on, or
//!   `None` when the quote leaves the pipeline (filtered out, or sunk).
//! - `threads`: one OS thread per stage, crossbeam bounded channels between.
//! - `tokio`: one task per stage on a runtime the pipeline owns, tokio
//!   bounded channels between, each stage reading its input as a `futures`
//!   stream.
//! - `rayon`: as `threads`, but all map stages are one stage that takes
//!   whatever is queued (up to the channel bound) and maps it in parallel
//!   on a rayon pool the pipeline owns, passing quotes on in order.
//!
//! Each stage counts into its own [`StageStats`]: events, time busy, time
//! blocked on a full downstream channel (backpressure), and the depth of its
//! input queue each time it takes a quote. Depth is counted as sends minus
//! receives on the channel, so it means the same under every
//! implementation. The pools are the pipeline's own, not the harness's, so
//! a source blocked on a full channel (a rayon or tokio worker of the
//! harness) can never hold up the stages it waits for.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use futures::StreamExt;
use hdrhistogram::Histogram;

use super::operators::{map, passes, Quote, Window};
use crate::latency::new_latency_histogram;

/// The pipeline's shape, from its parameters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    /// Map stages before the filter.
    pub maps: usize,
    /// CPU work per quote in each map stage, spin steps.
    pub map_steps: u64,
    /// Share of quotes the filter keeps, percent.
    pub pass_percent: u32,
    /// Quotes per symbol in the sliding window.
    pub window: usize,
    /// Quotes each channel holds before a send blocks.
    pub bound: usize,
    /// Instruments quoted.
    pub symbols: u32,
}

/// What one stage measured. Written by its own thread or task only
/// (sources: by every worker), read after the pipeline drains.
pub(crate) struct StageStats {
    /// `source`, `map1`.., `map` (rayon), `filter`, `window`, `sink`.
    pub name: String,
    /// Quotes taken in (sources: quotes sent).
    pub events: AtomicU64,
    /// Time spent on the quotes themselves, ns.
    pub busy_ns: AtomicU64,
    /// Time blocked sending into a full channel, ns.
    pub blocked_on_full_ns: AtomicU64,
    /// Sends that found the channel full.
    pub blocked_sends: AtomicU64,
    /// Takes from the input channel (a rayon batch is one take).
    pub takes: AtomicU64,
    /// Sum and maximum of the input queue's depth at each take, the
    /// quotes taken included.
    pub depth_sum: AtomicU64,
    /// See `depth_sum`.
    pub depth_max: AtomicU64,
    /// First take and last finish, ns after the pipeline's start.
    pub first_ns: AtomicU64,
    /// See `first_ns`.
    pub last_ns: AtomicU64,
    /// Quotes sent on into the next channel (for the next stage's depth).
    pub sent: AtomicU64,
}

impl StageStats {
    fn new(name: String) -> StageStats {
        StageStats {
            name,
            events: AtomicU64::new(0),
            busy_ns: AtomicU64::new(0),
            blocked_on_full_ns: AtomicU64::new(0),
            blocked_sends: AtomicU64::new(0),
            takes: AtomicU64::new(0),
            depth_sum: AtomicU64::new(0),
            depth_max: AtomicU64::new(0),
            first_ns: AtomicU64::new(u64::MAX),
            last_ns: AtomicU64::new(0),
            sent: AtomicU64::new(0),
        }
    }

    fn blocked(&self, since: Instant) {
        self.blocked_sends.fetch_add(1, Ordering::Relaxed);
        self.blocked_on_full_ns
            .fetch_add(since.elapsed().as_nanos() as u64, Ordering::Relaxed);
    }

    /// The stage's active span, first take to last finish, ns; `None`
    /// before it has finished a quote.
    pub fn span_ns(&self) -> Option<u64> {
        let first = self.first_ns.load(Ordering::Relaxed);
        let last = self.last_ns.load(Ordering::Relaxed);
        (first != u64::MAX && last > first).then(|| last - first)
    }

    /// Throughput over the stage's own active span, quotes per second.
    pub fn throughput_events_s(&self) -> f64 {
        let events = self.events.load(Ordering::Relaxed) as f64;
        self.span_ns()
            .map_or(0.0, |span_ns| events / (span_ns as f64 / 1e9))
    }
}

/// What every stage shares: counters, the sink's record of what arrived,
/// and the end-to-end latency histogram.
pub(crate) struct Flow {
    pub shape: Shape,
    /// Stage times count from here.
    pub started: Instant,
    /// `[0]` is the sources, then one per stage in order.
    pub stats: Vec<StageStats>,
    /// Quotes that left the pipeline (filtered out or sunk).
    pub settled: AtomicU64,
    /// Quotes the filter kept.
    pub passed_filter: AtomicU64,
    /// Per quote id: how many times the sink saw it.
    pub delivered: Vec<AtomicU8>,
    /// Sink: time from each quote's arrival to its end, ns. Only the sink
    /// writes it, so the lock is never contended.
    pub latency: Mutex<Histogram<u64>>,
    /// Folds in every sunk quote's work, so none of it can be skipped.
    pub checksum: AtomicU64,
}

impl Flow {
    pub fn new(shape: Shape, stage_names: Vec<String>, quotes: u64) -> Flow {
        Flow {
            shape,
            started: Instant::now(),
            stats: std::iter::once("source".to_string())
                .chain(stage_names)
                .map(StageStats::new)
                .collect(),
            settled: AtomicU64::new(0),
            passed_filter: AtomicU64::new(0),
            delivered: (0..quotes).map(|_| AtomicU8::new(0)).collect(),
            latency: Mutex::new(new_latency_histogram()),
            checksum: AtomicU64::new(0),
        }
    }

    fn since_start_ns(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.started).as_nanos() as u64
    }

    /// Stage `stage` took `count` quotes: counts them and the depth of its
    /// input queue, the quotes taken included.
    fn took(&self, stage: usize, count: u64, at: Instant) {
        let stats = &self.stats[stage];
        let received_before = stats.events.fetch_add(count, Ordering::Relaxed);
        stats.takes.fetch_add(1, Ordering::Relaxed);
        let sent = self.stats[stage - 1].sent.load(Ordering::Relaxed);
        // A sender counts a quote just after the channel took it, so the
        // count can trail what is taken by a quote or two.
        let depth = sent.saturating_sub(received_before).max(count);
        stats.depth_sum.fetch_add(depth, Ordering::Relaxed);
        stats.depth_max.fetch_max(depth, Ordering::Relaxed);
        stats
            .first_ns
            .fetch_min(self.since_start_ns(at), Ordering::Relaxed);
    }

    /// Stage `stage` finished work started at `from`.
    fn done(&self, stage: usize, from: Instant) {
        let now = Instant::now();
        let stats = &self.stats[stage];
        stats.busy_ns.fetch_add(
            now.saturating_duration_since(from).as_nanos() as u64,
            Ordering::Relaxed,
        );
        stats
            .last_ns
            .fetch_max(self.since_start_ns(now), Ordering::Relaxed);
    }

    /// How many inputs (quote ids) have fully left the pipeline.
    pub fn settled(&self) -> u64 {
        self.settled.load(Ordering::Acquire)
    }
}

/// One stage's work on one quote.
pub(crate) enum Operator {
    /// The n-th map stage (0-based).
    Map(usize),
    Filter,
    Window(Window),
    Sink,
}

impl Operator {
    /// The operators of a pipeline of `maps` map stages, and their names.
    pub fn chain(shape: &Shape) -> Vec<(String, Operator)> {
        (0..shape.maps)
            .map(|n| (format!("map{}", n + 1), Operator::Map(n)))
            .chain([
                ("filter".to_string(), Operator::Filter),
                (
                    "window".to_string(),
                    Operator::Window(Window::new(shape.window)),
                ),
                ("sink".to_string(), Operator::Sink),
            ])
            .collect()
    }

    /// Applies the stage to `quote`; `None` when the quote leaves here.
    fn apply(&mut self, mut quote: Quote, flow: &Flow) -> Option<Quote> {
        match self {
            Operator::Map(n) => {
                map(&mut quote, flow.shape.map_steps, *n);
                Some(quote)
            }
            Operator::Filter => {
                if passes(&quote, flow.shape.pass_percent) {
                    flow.passed_filter.fetch_add(1, Ordering::Relaxed);
                    Some(quote)
                } else {
                    flow.settled.fetch_add(1, Ordering::Release);
                    None
                }
            }
            Operator::Window(window) => {
                window.aggregate(&mut quote);
                Some(quote)
            }
            Operator::Sink => {
                let latency_ns = quote.born.elapsed().as_nanos() as u64;
                flow.latency
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .saturating_record(latency_ns.max(1));
                if let Some(slot) = flow.delivered.get(quote.id as usize) {
                    slot.fetch_add(1, Ordering::Relaxed);
                }
                flow.checksum.fetch_xor(
                    quote.checksum ^ quote.vwap.to_bits() ^ quote.notional.to_bits(),
                    Ordering::Relaxed,
                );
                flow.settled.fetch_add(1, Ordering::Release);
                None
            }
        }
    }
}

/// Why a send failed: the pipeline has shut down.
#[derive(Debug)]
pub(crate) struct Closed;

/// Sends on a crossbeam channel, timing any wait for room as `stage`'s
/// backpressure.
pub(crate) fn send_blocking(
    sender: &crossbeam_channel::Sender<Quote>,
    quote: Quote,
    flow: &Flow,
    stage: usize,
) -> Result<(), Closed> {
    let stats = &flow.stats[stage];
    match sender.try_send(quote) {
        Ok(()) => {}
        Err(crossbeam_channel::TrySendError::Full(quote)) => {
            let since = Instant::now();
            let sent = sender.send(quote);
            stats.blocked(since);
            sent.map_err(|_| Closed)?;
        }
        Err(crossbeam_channel::TrySendError::Disconnected(_)) => return Err(Closed),
    }
    stats.sent.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// Sends on a tokio channel, timing any wait for room as `stage`'s
/// backpressure.
pub(crate) async fn send_async(
    sender: &tokio::sync::mpsc::Sender<Quote>,
    quote: Quote,
    flow: &Flow,
    stage: usize,
) -> Result<(), Closed> {
    let stats = &flow.stats[stage];
    match sender.try_send(quote) {
        Ok(()) => {}
        Err(tokio::sync::mpsc::error::TrySendError::Full(quote)) => {
            let since = Instant::now();
            let sent = sender.send(quote).await;
            stats.blocked(since);
            sent.map_err(|_| Closed)?;
        }
        Err(tokio::sync::mpsc::error::TrySendError::Closed(_)) => return Err(Closed),
    }
    stats.sent.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// Where sources put quotes: the first stage's channel.
pub(crate) enum Input {
    Crossbeam(crossbeam_channel::Sender<Quote>),
    Tokio(tokio::sync::mpsc::Sender<Quote>),
}

/// A running pipeline: its input, and what must be stopped when it ends.
pub(crate) struct Running {
    pub input: Input,
    pub threads: Vec<JoinHandle<()>>,
    pub runtime: Option<tokio::runtime::Runtime>,
}

/// How many threads the pipeline's own pools get: one per core.
fn pool_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The threads `implementation` starts beside the sources, as the
/// `start_*` functions below start them.
pub(crate) fn helper_threads(implementation: &str, shape: &Shape) -> usize {
    // Filter, window and sink follow the map stages.
    let after_maps = 3;
    match implementation {
        "tokio" => pool_threads(),
        // One thread hands batches to the pool.
        "rayon" => 1 + pool_threads() + after_maps,
        _ => shape.maps + after_maps,
    }
}

/// Starts one OS thread per stage of `operators`, from stage `first`
/// (stats index) on, reading from `input`.
fn spawn_thread_stages(
    operators: Vec<(String, Operator)>,
    first: usize,
    mut input: crossbeam_channel::Receiver<Quote>,
    flow: &Arc<Flow>,
    threads: &mut Vec<JoinHandle<()>>,
) -> std::io::Result<()> {
    let count = operators.len();
    for (offset, (name, mut operator)) in operators.into_iter().enumerate() {
        let stage = first + offset;
        let last = offset + 1 == count;
        let (sender, next) = crossbeam_channel::bounded(flow.shape.bound);
        let receiver = std::mem::replace(&mut input, next);
        let output = (!last).then_some(sender);
        let flow = Arc::clone(flow);
        threads.push(
            std::thread::Builder::new()
                .name(format!("pipeline-{name}"))
                .spawn(move || {
                    for quote in receiver.iter() {
                        let took = Instant::now();
                        flow.took(stage, 1, took);
                        let out = operator.apply(quote, &flow);
                        flow.done(stage, took);
                        if let (Some(quote), Some(output)) = (out, &output) {
                            if send_blocking(output, quote, &flow, stage).is_err() {
                                return;
                            }
                        }
                    }
                })?,
        );
    }
    Ok(())
}

/// `threads`: one OS thread per stage.
pub(crate) fn start_threads(flow: &Arc<Flow>) -> std::io::Result<Running> {
    let (input, receiver) = crossbeam_channel::bounded(flow.shape.bound);
    let mut threads = Vec::new();
    spawn_thread_stages(
        Operator::chain(&flow.shape),
        1,
        receiver,
        flow,
        &mut threads,
    )?;
    Ok(Running {
        input: Input::Crossbeam(input),
        threads,
        runtime: None,
    })
}

/// `rayon`: one stage maps batches in parallel on a rayon pool; the rest
/// are threads.
pub(crate) fn start_rayon(flow: &Arc<Flow>) -> std::io::Result<Running> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(pool_threads())
        .thread_name(|i| format!("pipeline-map-{i}"))
        .build()
        .map_err(std::io::Error::other)?;
    let (input, receiver) = crossbeam_channel::bounded(flow.shape.bound);
    let (mapped, mapped_receiver) = crossbeam_channel::bounded(flow.shape.bound);
    let mut threads = Vec::new();
    let map_flow = Arc::clone(flow);
    threads.push(
        std::thread::Builder::new()
            .name("pipeline-map".to_string())
            .spawn(move || {
                let flow = map_flow;
                let shape = flow.shape;
                let mut batch = Vec::with_capacity(shape.bound);
                while let Ok(first) = receiver.recv() {
                    batch.push(first);
                    while batch.len() < shape.bound {
                        match receiver.try_recv() {
                            Ok(quote) => batch.push(quote),
                            Err(_) => break,
                        }
                    }
                    let took = Instant::now();
                    flow.took(1, batch.len() as u64, took);
                    pool.install(|| {
                        use rayon::prelude::*;
                        batch.par_iter_mut().for_each(|quote| {
                            for n in 0..shape.maps {
                                map(quote, shape.map_steps, n);
                            }
                        });
                    });
                    flow.done(1, took);
                    for quote in batch.drain(..) {
                        if send_blocking(&mapped, quote, &flow, 1).is_err() {
                            return;
                        }
                    }
                }
            })?,
    );
    let rest = Operator::chain(&flow.shape).split_off(flow.shape.maps);
    spawn_thread_stages(rest, 2, mapped_receiver, flow, &mut threads)?;
    Ok(Running {
        input: Input::Crossbeam(input),
        threads,
        runtime: None,
    })
}

/// `tokio`: one task per stage on the pipeline's own runtime.
pub(crate) fn start_tokio(flow: &Arc<Flow>) -> std::io::Result<Running> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(pool_threads())
        .thread_name("pipeline-tokio")
        .enable_time()
        .build()?;
    let (input, mut receiver) = tokio::sync::mpsc::channel(flow.shape.bound);
    let operators = Operator::chain(&flow.shape);
    let count = operators.len();
    for (offset, (_, mut operator)) in operators.into_iter().enumerate() {
        let stage = 1 + offset;
        let (sender, next) = tokio::sync::mpsc::channel(flow.shape.bound);
        let stage_input = std::mem::replace(&mut receiver, next);
        let output = (offset + 1 < count).then_some(sender);
        let flow = Arc::clone(flow);
        runtime.spawn(async move {
            let mut quotes = futures::stream::unfold(stage_input, |mut input| async move {
                input.recv().await.map(|quote| (quote, input))
            })
            .boxed();
            while let Some(quote) = quotes.next().await {
                let took = Instant::now();
                flow.took(stage, 1, took);
                let out = operator.apply(quote, &flow);
                flow.done(stage, took);
                if let (Some(quote), Some(output)) = (out, &output) {
                    if send_async(output, quote, &flow, stage).await.is_err() {
                        return;
                    }
                }
            }
        });
    }
    Ok(Running {
        input: Input::Tokio(input),
        threads: Vec::new(),
        runtime: Some(runtime),
    })
}

/// The stage names of a pipeline run as `implementation`.
pub(crate) fn stage_names(implementation: &str, shape: &Shape) -> Vec<String> {
    let names = Operator::chain(shape).into_iter().map(|(name, _)| name);
    if implementation == "rayon" {
        std::iter::once("map".to_string())
            .chain(names.skip(shape.maps))
            .collect()
    } else {
        names.collect()
    }
}

/// Waits until every quote sent has left the pipeline, or `limit` passes.
/// Returns whether it drained.
pub(crate) fn drain(flow: &Flow, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        let sent = flow.stats[0].sent.load(Ordering::Acquire);
        if flow.settled() >= sent {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}
