//! The one place the parts every workload writes the same way are written:
//! [`workload_type!`] declares a workload's type and the `Workload`
//! methods that only repeat its info, its parameters and its flags.

/// Declares a workload type: a struct holding its parameter values, and an
/// `impl Workload` whose `info` and `params` return its static info and
/// those values. Flags after the info turn on `async_native` (its workers
/// offer an async op) and `io_bound` (its ops mostly wait). The body holds
/// the rest of the impl: `prepare`, and `requirements` or `http_use` where
/// they differ from the defaults.
///
/// ```ignore
/// workload_type! {
///     Primes = INFO;
///     fn prepare(&self, _shape: RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError> {
///         Ok(Arc::new(CloneRun(PrimesOp::new(self.params.int("span")))))
///     }
/// }
/// ```
macro_rules! workload_type {
    ($(#[$meta:meta])* $name:ident = $info:ident $(+ $flag:ident)*; $($body:tt)*) => {
        $(#[$meta])*
        struct $name {
            params: $crate::params::ParamValues,
        }

        impl $crate::Workload for $name {
            fn info(&self) -> &'static $crate::WorkloadInfo {
                &$info
            }
            fn params(&self) -> &$crate::params::ParamValues {
                &self.params
            }
            $(workload_type!(@flag $flag);)*
            $($body)*
        }
    };
    (@flag async_native) => {
        fn is_async_native(&self) -> bool {
            true
        }
    };
    (@flag io_bound) => {
        fn io_bound(&self) -> bool {
            true
        }
    };
}
