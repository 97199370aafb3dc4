//! Workloads made from closures, for code of your own that needs no
//! parameters: a per-worker set-up that returns the op,
//! `FnMut(op_index) -> Result<(), E>`, optionally with state every worker
//! of a run shares, or an async op for the async models.
//!
//! ```
//! use workloads::custom::Custom;
//! use workloads::Registry;
//!
//! let parse = Custom::from_fn("mine/parse", "parse one number", |_worker| {
//!     |op: u64| op.to_string().parse::<u64>().map(|_| ())
//! });
//! let mut registry = Registry::empty();
//! registry.register_custom(parse).unwrap();
//! assert!(registry.parse_spec("mine/parse").is_ok());
//! ```
//!
//! A closure workload has no parameters (`corebench list` shows none), and
//! its workers share nothing unless it was made with
//! [`Custom::from_fn_shared`]. Under the `process` model each child builds
//! its own: shared state is shared within a process only.

use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;

use crate::params::ParamValues;
use crate::workload::{
    AsyncWorkerOp, BoxFuture, OpError, RunShape, SharedRun, WorkerOp, Workload, WorkloadError,
    WorkloadInfo,
};

/// Builds the shared state of one run, and from it each worker's op.
type MakeRun = dyn Fn(&RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError> + Send + Sync;

/// A workload made from closures, ready to register
/// ([`crate::Registry::register_custom`]).
#[derive(Clone)]
pub struct Custom {
    pub(crate) id: &'static str,
    pub(crate) summary: &'static str,
    make: Arc<MakeRun>,
    async_native: bool,
    io_bound: bool,
    shares_state: bool,
}

impl Custom {
    /// A workload whose workers share nothing: `set_up(worker_index)` runs
    /// on each worker (pinned, outside the timed region) and returns its
    /// op, which is called with each op index it is given.
    pub fn from_fn<S, Op, E>(id: &'static str, summary: &'static str, set_up: S) -> Custom
    where
        S: Fn(usize) -> Op + Send + Sync + 'static,
        Op: FnMut(u64) -> Result<(), E> + Send + 'static,
        E: Display,
    {
        let set_up = Arc::new(set_up);
        Custom::new(id, summary, move |_shape| {
            let set_up = Arc::clone(&set_up);
            Ok(Arc::new(FnRun {
                make: move |index: usize| -> Box<dyn WorkerOp> { Box::new(FnOp(set_up(index))) },
            }) as Arc<dyn SharedRun>)
        })
    }

    /// A workload whose workers share state: `shared(shape)` builds it
    /// once per run (per process under `process`), and
    /// `set_up(&state, worker_index)` builds each worker's op from it.
    pub fn from_fn_shared<T, M, S, Op, E>(
        id: &'static str,
        summary: &'static str,
        shared: M,
        set_up: S,
    ) -> Custom
    where
        T: Send + Sync + 'static,
        M: Fn(&RunShape) -> T + Send + Sync + 'static,
        S: Fn(&Arc<T>, usize) -> Op + Send + Sync + 'static,
        Op: FnMut(u64) -> Result<(), E> + Send + 'static,
        E: Display,
    {
        let set_up = Arc::new(set_up);
        let mut custom = Custom::new(id, summary, move |shape| {
            let state = Arc::new(shared(shape));
            let set_up = Arc::clone(&set_up);
            Ok(Arc::new(FnRun {
                make: move |index: usize| -> Box<dyn WorkerOp> {
                    Box::new(FnOp(set_up(&state, index)))
                },
            }) as Arc<dyn SharedRun>)
        });
        custom.shares_state = true;
        custom
    }

    /// A workload whose op is async: the async models (`tokio`,
    /// `tokio-current`) await it on their runtime; the other models drive
    /// each op to completion on a current-thread tokio runtime of the
    /// worker's own, so it runs under every model.
    pub fn from_async_fn<S, Op, F, E>(id: &'static str, summary: &'static str, set_up: S) -> Custom
    where
        S: Fn(usize) -> Op + Send + Sync + 'static,
        Op: FnMut(u64) -> F + Send + 'static,
        F: Future<Output = Result<(), E>> + Send + 'static,
        E: Display,
    {
        let set_up = Arc::new(set_up);
        let mut custom = Custom::new(id, summary, move |shape| {
            let set_up = Arc::clone(&set_up);
            let blocking = !shape.async_ops;
            Ok(Arc::new(FnRun {
                make: move |index: usize| -> Box<dyn WorkerOp> {
                    Box::new(AsyncFnOp {
                        op: set_up(index),
                        runtime: blocking.then(|| {
                            tokio::runtime::Builder::new_current_thread()
                                .enable_all()
                                .build()
                                .expect("a current-thread runtime builds")
                        }),
                    })
                },
            }) as Arc<dyn SharedRun>)
        });
        custom.async_native = true;
        custom
    }

    /// Marks its ops as mostly waiting on IO: the `auto` worker sweep then
    /// goes past the core count.
    pub fn io_bound(mut self) -> Custom {
        self.io_bound = true;
        self
    }

    fn new(
        id: &'static str,
        summary: &'static str,
        make: impl Fn(&RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError> + Send + Sync + 'static,
    ) -> Custom {
        Custom {
            id,
            summary,
            make: Arc::new(make),
            async_native: false,
            io_bound: false,
            shares_state: false,
        }
    }

    /// The static description the registry keeps. It lives as long as the
    /// program, like every workload's: a registry is built once.
    pub(crate) fn leak_info(&self) -> &'static WorkloadInfo {
        Box::leak(Box::new(WorkloadInfo {
            id: self.id,
            summary: self.summary,
            params: &[],
            in_profiles: true,
            build: |_| Err("a closure workload is built by its registry entry".to_string()),
        }))
    }

    /// An instance, as the registry builds it for a spec.
    pub(crate) fn instance(&self, info: &'static WorkloadInfo) -> Box<dyn Workload> {
        Box::new(CustomWorkload {
            info,
            params: ParamValues::default(),
            custom: self.clone(),
        })
    }
}

struct CustomWorkload {
    info: &'static WorkloadInfo,
    params: ParamValues,
    custom: Custom,
}

impl Workload for CustomWorkload {
    fn info(&self) -> &'static WorkloadInfo {
        self.info
    }

    fn params(&self) -> &ParamValues {
        &self.params
    }

    fn is_async_native(&self) -> bool {
        self.custom.async_native
    }

    fn io_bound(&self) -> bool {
        self.custom.io_bound
    }

    fn shares_state(&self) -> bool {
        self.custom.shares_state
    }

    fn prepare(&self, shape: RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError> {
        (self.custom.make)(&shape)
    }
}

/// A run whose workers' ops come from `make(worker_index)`.
struct FnRun<M> {
    make: M,
}

impl<M: Fn(usize) -> Box<dyn WorkerOp> + Send + Sync + 'static> SharedRun for FnRun<M> {
    fn worker(self: Arc<Self>, index: usize) -> Result<Box<dyn WorkerOp>, WorkloadError> {
        Ok((self.make)(index))
    }
}

struct FnOp<Op>(Op);

impl<Op, E> WorkerOp for FnOp<Op>
where
    Op: FnMut(u64) -> Result<(), E> + Send,
    E: Display,
{
    fn run_op(&mut self, op_index: u64) -> Result<u64, OpError> {
        (self.0)(op_index)
            .map(|()| op_index)
            .map_err(|e| OpError::new(e.to_string()))
    }
}

struct AsyncFnOp<Op> {
    op: Op,
    /// For models that call ops blocking: drives each op to completion.
    runtime: Option<tokio::runtime::Runtime>,
}

impl<Op, F, E> WorkerOp for AsyncFnOp<Op>
where
    Op: FnMut(u64) -> F + Send,
    F: Future<Output = Result<(), E>> + Send + 'static,
    E: Display,
{
    fn run_op(&mut self, op_index: u64) -> Result<u64, OpError> {
        let future = (self.op)(op_index);
        let result = match &self.runtime {
            Some(runtime) => runtime.block_on(future),
            None => {
                return Err(OpError::new(
                    "an async op was called blocking on a runtime thread",
                ))
            }
        };
        result
            .map(|()| op_index)
            .map_err(|e| OpError::new(e.to_string()))
    }

    fn as_async(&mut self) -> Option<&mut dyn AsyncWorkerOp> {
        Some(self)
    }
}

impl<Op, F, E> AsyncWorkerOp for AsyncFnOp<Op>
where
    Op: FnMut(u64) -> F + Send,
    F: Future<Output = Result<(), E>> + Send + 'static,
    E: Display,
{
    fn run_op_async(&mut self, op_index: u64) -> BoxFuture<'_, Result<u64, OpError>> {
        let future = (self.op)(op_index);
        Box::pin(async move {
            future
                .await
                .map(|()| op_index)
                .map_err(|e| OpError::new(e.to_string()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scaling;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn run_ops(workload: &dyn Workload, shape: RunShape, ops: u64) -> Vec<Result<u64, OpError>> {
        let shared = workload.prepare(shape).unwrap();
        let mut op = Arc::clone(&shared).worker(0).unwrap();
        (0..ops).map(|i| op.run_op(i)).collect()
    }

    #[test]
    fn a_closure_op_runs_and_its_error_is_an_op_error() {
        let custom = Custom::from_fn("mine/even", "fails on odd ops", |_| {
            |op: u64| {
                if op % 2 == 0 {
                    Ok(())
                } else {
                    Err(format!("op {op} is odd"))
                }
            }
        });
        let workload = custom.instance(custom.leak_info());
        let results = run_ops(workload.as_ref(), RunShape::new(1, Scaling::Strong, 2), 2);
        assert_eq!(results[0], Ok(0));
        assert_eq!(results[1], Err(OpError::new("op 1 is odd")));
        assert_eq!(workload.spec(), "mine/even");
    }

    #[test]
    fn shared_state_is_shared_by_the_workers_of_a_run() {
        let total = Arc::new(AtomicU64::new(0));
        let seen = Arc::clone(&total);
        let custom = Custom::from_fn_shared(
            "mine/count",
            "count ops in shared state",
            move |_shape| Arc::clone(&seen),
            |count: &Arc<Arc<AtomicU64>>, _worker| {
                let count = Arc::clone(count);
                move |_op: u64| {
                    count.fetch_add(1, Ordering::Relaxed);
                    Ok::<(), String>(())
                }
            },
        );
        let workload = custom.instance(custom.leak_info());
        let shared = workload
            .prepare(RunShape::new(2, Scaling::Strong, 4))
            .unwrap();
        let mut a = Arc::clone(&shared).worker(0).unwrap();
        let mut b = Arc::clone(&shared).worker(1).unwrap();
        for i in 0..2 {
            a.run_op(i).unwrap();
            b.run_op(i + 2).unwrap();
        }
        assert_eq!(total.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn an_async_op_also_runs_blocking() {
        let custom = Custom::from_async_fn("mine/sleep", "sleeps a little", |_| {
            |_op: u64| async {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                Ok::<(), String>(())
            }
        });
        let workload = custom.instance(custom.leak_info());
        assert!(workload.is_async_native());
        let results = run_ops(workload.as_ref(), RunShape::new(1, Scaling::Strong, 3), 3);
        assert!(results.iter().all(Result::is_ok), "{results:?}");
    }
}
