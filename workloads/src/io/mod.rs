//! IO-bound workloads, and the loopback server and clients they use.
//!
//! - [`server`]: the loopback HTTP/1.1 server (hyper on its own tokio
//!   runtime) that corebench starts for a run: a simulated backend with a
//!   service delay, a response size and CPU work per request, a generated
//!   site for the crawler, and a one-off stall for open-loop tests.
//! - [`client`]: one keep-alive connection per worker, blocking (ureq) on
//!   plain threads and async (hyper) on tokio runtimes; error answers are
//!   counted per status code.
//! - [`http`]: `io/http`, one GET per op.
//! - [`file`]: `io/file`, write, fsync, read back and verify a block.
//! - [`sleep`]: `io/sleep`, a pure timed wait.
//! - [`scratch`]: the temporary folder the file workloads write in.
//!
//! Every workload here offers an async op, so the tokio models await the
//! IO instead of blocking a runtime thread.

pub mod client;
pub mod file;
pub mod http;
pub mod scratch;
pub mod server;
pub mod sleep;
