//! `stream/pipeline`: simulated market quotes through map -> filter ->
//! window -> sink, stages joined by bounded channels.
//!
//! The harness's workers are the sources: each op makes one quote and puts
//! it into the first stage's channel, blocking while it is full, so the op's
//! latency is the source's view of backpressure. `--load open:RATE` makes
//! the arrivals open-loop; each quote is then stamped with its due time, so
//! a source held up by a full channel does not hide the wait from the
//! end-to-end latency. The stages run on the pipeline's own threads, tasks
//! or rayon pool (`impl`), started when the trial is prepared and stopped
//! when it ends; the sink records each quote's end-to-end latency.
//!
//! After the last op the run waits (up to [`DRAIN_LIMIT`]) for the quotes
//! still in the channels to come out, then reports:
//!
//! - `events`, `events_passed_filter`, `events_at_sink`, and the checks
//!   `events_lost` (passed the filter, never reached the sink) and
//!   `events_duplicated`, which must both be 0;
//! - `event_latency_{p50,p99,p99_9,max}_ns`, and the whole histogram as
//!   `event_latency`;
//! - per stage (`source`, `map1`.., or `map` for rayon's fused parallel map,
//!   `filter`, `window`, `sink`): `STAGE_events`,
//!   `STAGE_throughput_events_s` over the stage's active span,
//!   `STAGE_queue_depth_mean` and `_max` (quotes in its input channel at
//!   each take, the ones taken included, so a stage that keeps up sees 1),
//!   `STAGE_busy_ratio` (time on quotes over the active span), and
//!   `STAGE_blocked_on_full_ns` / `STAGE_blocked_sends` (backpressure).

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::operators::{id_passes, quote};
use super::stages::{self, send_async, send_blocking, Flow, Input, Running, Shape};
use crate::latency::add_quantile_counters;
use crate::params::{ParamKind, ParamSpec};
use crate::{
    AsyncWorkerOp, BoxFuture, OpError, Requirements, RunShape, SharedRun, WorkerOp, WorkloadError,
    WorkloadInfo,
};

/// How long the run waits after the last op for quotes still in flight.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(30);

/// Registry entry.
pub static INFO: WorkloadInfo = WorkloadInfo {
    id: "stream/pipeline",
    summary: "quotes through map -> filter -> window(VWAP) -> sink over bounded channels, as threads, tokio tasks or a rayon map stage; end-to-end latency, per-stage throughput, queue depth and backpressure",
    params: &[
        ParamSpec {
            name: "impl",
            kind: ParamKind::Choice(&["threads", "tokio", "rayon"]),
            default: "threads",
            help: "one thread per stage, one tokio task per stage, or the map stages as one rayon-parallel stage",
        },
        ParamSpec {
            name: "stages",
            kind: ParamKind::Int { min: 4, max: 64 },
            default: "4",
            help: "stages in all: stages-3 map stages, then filter, window and sink",
        },
        ParamSpec {
            name: "map_steps",
            kind: ParamKind::Int { min: 0, max: 1_000_000_000 },
            default: "2000",
            help: "CPU work per quote in each map stage, in spin steps",
        },
        ParamSpec {
            name: "pass_percent",
            kind: ParamKind::Int { min: 0, max: 100 },
            default: "50",
            help: "share of quotes the filter keeps (the largest sizes)",
        },
        ParamSpec {
            name: "window",
            kind: ParamKind::Int { min: 1, max: 1_000_000 },
            default: "32",
            help: "quotes per symbol in the sliding VWAP window",
        },
        ParamSpec {
            name: "bound",
            kind: ParamKind::Int { min: 1, max: 1 << 20 },
            default: "64",
            help: "quotes each channel holds before a send blocks",
        },
        ParamSpec {
            name: "symbols",
            kind: ParamKind::Int { min: 1, max: 1_000_000 },
            default: "64",
            help: "instruments quoted",
        },
    ],
    in_profiles: false,
    build: |params| Ok(Box::new(Pipeline { params })),
};

impl Pipeline {
    fn shape(&self) -> Shape {
        let int = |name| self.params.int(name);
        Shape {
            maps: int("stages") as usize - 3,
            map_steps: int("map_steps") as u64,
            pass_percent: int("pass_percent") as u32,
            window: int("window") as usize,
            bound: int("bound") as usize,
            symbols: int("symbols") as u32,
        }
    }
}

workload_type! {
    Pipeline = INFO;
    fn requirements(&self) -> Requirements {
        Requirements::shared("the sources feed stages that run in this process")
    }
    fn is_async_native(&self) -> bool {
        self.params.text("impl") == "tokio"
    }
    fn helper_threads(&self) -> usize {
        stages::helper_threads(self.params.text("impl"), &self.shape())
    }
    fn prepare(&self, shape: RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError> {
        let implementation = self.params.text("impl");
        let pipeline = self.shape();
        let flow = Arc::new(Flow::new(
            pipeline,
            stages::stage_names(implementation, &pipeline),
            shape.total_ops,
        ));
        let running = match implementation {
            "tokio" => stages::start_tokio(&flow),
            "rayon" => stages::start_rayon(&flow),
            _ => stages::start_threads(&flow),
        }
        .map_err(|e| WorkloadError::Setup {
            workload: INFO.id,
            reason: format!("starting the stages: {e}"),
        })?;
        Ok(Arc::new(PipelineRun {
            flow,
            running: Some(running),
        }))
    }
}

struct PipelineRun {
    flow: Arc<Flow>,
    /// `None` only while dropping.
    running: Option<Running>,
}

impl PipelineRun {
    fn input(&self) -> &Input {
        &self.running.as_ref().expect("running until dropped").input
    }
}

impl Drop for PipelineRun {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            // Closing the input ends the first stage, which closes the next.
            drop(running.input);
            for thread in running.threads {
                let _ = thread.join();
            }
            if let Some(runtime) = running.runtime {
                // Never blocks, so it is safe inside another runtime.
                runtime.shutdown_background();
            }
        }
    }
}

fn closed() -> OpError {
    OpError::new("the pipeline has stopped")
}

impl SharedRun for PipelineRun {
    fn worker(self: Arc<Self>, _index: usize) -> Result<Box<dyn WorkerOp>, WorkloadError> {
        Ok(Box::new(SourceOp {
            run: self,
            due: None,
        }))
    }

    fn counters(&self) -> BTreeMap<String, f64> {
        let flow = &self.flow;
        let drained = stages::drain(flow, DRAIN_LIMIT);
        let sent = flow.stats[0].sent.load(Ordering::Relaxed);
        let delivered = |pred: fn(u8) -> bool| {
            flow.delivered
                .iter()
                .enumerate()
                .filter(|(id, d)| {
                    id_passes(*id as u64, flow.shape.pass_percent)
                        && pred(d.load(Ordering::Relaxed))
                })
                .count() as f64
        };
        // Sources send ids 0..total_ops (a slot each in `delivered`); when a
        // run stops early the ids not sent are not lost.
        let total_ops = flow.delivered.len() as u64;
        let not_sent = if sent < total_ops {
            (sent..total_ops)
                .filter(|id| id_passes(*id, flow.shape.pass_percent))
                .count() as f64
        } else {
            0.0
        };
        let latency = flow.latency.lock().unwrap_or_else(|p| p.into_inner());
        let mut counters = BTreeMap::from([
            ("events".to_string(), sent as f64),
            (
                "events_passed_filter".to_string(),
                flow.passed_filter.load(Ordering::Relaxed) as f64,
            ),
            ("events_at_sink".to_string(), latency.len() as f64),
            (
                "events_lost".to_string(),
                (delivered(|d| d == 0) - not_sent).max(0.0),
            ),
            ("events_duplicated".to_string(), delivered(|d| d >= 2)),
            ("drained".to_string(), f64::from(u8::from(drained))),
        ]);
        add_quantile_counters(&mut counters, "event_latency", &latency);
        for stats in &flow.stats {
            let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed) as f64;
            let name = &stats.name;
            // A source's quotes are the ones it got into the pipeline.
            let events = if name == "source" {
                load(&stats.sent)
            } else {
                load(&stats.events)
            };
            counters.insert(format!("{name}_events"), events);
            counters.insert(
                format!("{name}_blocked_on_full_ns"),
                load(&stats.blocked_on_full_ns),
            );
            counters.insert(format!("{name}_blocked_sends"), load(&stats.blocked_sends));
            if name == "source" {
                continue;
            }
            counters.insert(
                format!("{name}_throughput_events_s"),
                stats.throughput_events_s(),
            );
            let takes = load(&stats.takes);
            if takes > 0.0 {
                counters.insert(
                    format!("{name}_queue_depth_mean"),
                    load(&stats.depth_sum) / takes,
                );
            }
            counters.insert(format!("{name}_queue_depth_max"), load(&stats.depth_max));
            if let Some(span_ns) = stats.span_ns() {
                counters.insert(
                    format!("{name}_busy_ratio"),
                    load(&stats.busy_ns) / span_ns as f64,
                );
            }
        }
        counters
    }

    fn histograms(&self) -> BTreeMap<String, Histogram<u64>> {
        stages::drain(&self.flow, DRAIN_LIMIT);
        let latency = self.flow.latency.lock().unwrap_or_else(|p| p.into_inner());
        if latency.is_empty() {
            return BTreeMap::new();
        }
        BTreeMap::from([("event_latency".to_string(), latency.clone())])
    }
}

/// A source: each op makes one quote and puts it into the pipeline.
struct SourceOp {
    run: Arc<PipelineRun>,
    /// The due time of the next op under open load.
    due: Option<Instant>,
}

impl SourceOp {
    fn next_quote(&mut self, op_index: u64) -> super::operators::Quote {
        let now = Instant::now();
        let born = self.due.take().map_or(now, |due| due.min(now));
        quote(op_index, self.run.flow.shape.symbols, born)
    }
}

impl WorkerOp for SourceOp {
    fn run_op(&mut self, op_index: u64) -> Result<u64, OpError> {
        let quote = self.next_quote(op_index);
        let flow = &self.run.flow;
        match self.run.input() {
            Input::Crossbeam(sender) => send_blocking(sender, quote, flow, 0),
            // `blocking_send` panics inside a runtime (a harness's tokio
            // worker running the sync op); `block_on` works on any thread.
            Input::Tokio(sender) => futures::executor::block_on(send_async(sender, quote, flow, 0)),
        }
        .map_err(|_| closed())?;
        Ok(op_index)
    }

    fn note_due(&mut self, due: Instant) {
        self.due = Some(due);
    }

    fn as_async(&mut self) -> Option<&mut dyn AsyncWorkerOp> {
        matches!(self.run.input(), Input::Tokio(_)).then_some(self as &mut dyn AsyncWorkerOp)
    }
}

impl AsyncWorkerOp for SourceOp {
    fn run_op_async(&mut self, op_index: u64) -> BoxFuture<'_, Result<u64, OpError>> {
        Box::pin(async move {
            let quote = self.next_quote(op_index);
            let flow = &self.run.flow;
            match self.run.input() {
                Input::Tokio(sender) => send_async(sender, quote, flow, 0).await,
                Input::Crossbeam(sender) => send_blocking(sender, quote, flow, 0),
            }
            .map_err(|_| closed())?;
            Ok(op_index)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_spec, Scaling};

    /// Runs `workers` sources on their own threads, `ops` quotes each, and
    /// returns the counters.
    fn run_sources(spec: &str, workers: usize, ops: u64) -> BTreeMap<String, f64> {
        let shared = crate::test_support::run_on_threads(spec, workers, ops);
        let counters = shared.counters();
        assert_eq!(
            shared.histograms()["event_latency"].len() as f64,
            counters["events_at_sink"],
            "{spec}"
        );
        counters
    }

    #[test]
    fn helper_threads_are_the_threads_each_implementation_starts() {
        for implementation in ["threads", "rayon", "tokio"] {
            let spec = format!("stream/pipeline:impl={implementation},stages=6");
            let workload = parse_spec(&spec).unwrap();
            let pipeline = Pipeline {
                params: workload.params().clone(),
            };
            let shape = pipeline.shape();
            let flow = Arc::new(Flow::new(
                shape,
                stages::stage_names(implementation, &shape),
                1,
            ));
            let running = match implementation {
                "tokio" => stages::start_tokio(&flow),
                "rayon" => stages::start_rayon(&flow),
                _ => stages::start_threads(&flow),
            }
            .unwrap();
            // The rayon map stage's pool has a thread per core beside them.
            let pool = if implementation == "rayon" {
                std::thread::available_parallelism().unwrap().get()
            } else {
                0
            };
            let started = running.threads.len()
                + pool
                + running
                    .runtime
                    .as_ref()
                    .map_or(0, |r| r.metrics().num_workers());
            assert_eq!(workload.helper_threads(), started, "{spec}");
            drop(PipelineRun {
                flow,
                running: Some(running),
            });
        }
    }

    #[test]
    fn the_sink_sees_every_quote_that_passed_the_filter_once() {
        for implementation in ["threads", "tokio", "rayon"] {
            for (stages, bound, pass) in [(4, 1, 50), (6, 64, 30), (5, 3, 100)] {
                let spec = format!(
                    "stream/pipeline:impl={implementation},stages={stages},bound={bound},pass_percent={pass},map_steps=50"
                );
                let counters = run_sources(&spec, 3, 400);
                let expected = (0..1_200u64).filter(|id| id_passes(*id, pass)).count() as f64;
                assert_eq!(counters["events"], 1_200.0, "{spec}");
                assert_eq!(counters["events_passed_filter"], expected, "{spec}");
                assert_eq!(counters["events_at_sink"], expected, "{spec}");
                assert_eq!(counters["events_lost"], 0.0, "{spec}");
                assert_eq!(counters["events_duplicated"], 0.0, "{spec}");
                assert_eq!(counters["drained"], 1.0, "{spec}");
                assert_eq!(counters["sink_events"], expected, "{spec}");
                assert_eq!(counters["filter_events"], 1_200.0, "{spec}");
            }
        }
    }

    #[test]
    fn stages_are_named_and_measured() {
        let counters = run_sources("stream/pipeline:stages=6,bound=1,map_steps=20000", 2, 200);
        for stage in ["map1", "map2", "map3", "filter", "window", "sink"] {
            assert!(
                counters[&format!("{stage}_throughput_events_s")] > 0.0,
                "{stage}"
            );
            assert!(
                counters.contains_key(&format!("{stage}_queue_depth_max")),
                "{stage}"
            );
            let busy = counters[&format!("{stage}_busy_ratio")];
            assert!((0.0..=1.01).contains(&busy), "{stage} busy {busy}");
        }
        // The first map stage is the slowest with a one-slot channel: the
        // sources must have waited for it.
        assert!(counters["source_blocked_sends"] > 0.0);
        assert!(counters["source_blocked_on_full_ns"] > 0.0);
        assert_eq!(counters["source_events"], 400.0);
        assert!(counters["map1_queue_depth_mean"] >= 1.0);
        assert!(
            counters["map1_queue_depth_max"] <= 2.0,
            "bound 1, plus one taken"
        );
        let rayon = run_sources("stream/pipeline:impl=rayon,stages=6", 1, 50);
        assert!(rayon.contains_key("map_events") && !rayon.contains_key("map1_events"));
    }

    #[test]
    fn a_due_time_is_where_latency_starts() {
        let shared = parse_spec("stream/pipeline:pass_percent=100,map_steps=0")
            .unwrap()
            .prepare(RunShape::new(1, Scaling::Strong, 1))
            .unwrap();
        let mut source = Arc::clone(&shared).worker(0).unwrap();
        // Due 50 ms ago: the source started late, and the latency shows it.
        source.note_due(Instant::now() - Duration::from_millis(50));
        source.run_op(0).unwrap();
        let counters = shared.counters();
        assert_eq!(counters["events_at_sink"], 1.0);
        assert!(counters["event_latency_max_ns"] >= 50e6);
    }
}
