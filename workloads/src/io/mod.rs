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
//! - [`mod@file`]: `io/file`, write, fsync, read back and verify a block.
//! - [`sleep`]: `io/sleep`, a pure timed wait.
//! - [`scratch`]: the temporary folder the file workloads write in.
//! - [`url`]: the HTTP URLs the clients and the `--target` check accept.
//! - [`lower_timer_slack`]: precise sleeps, for the server and the pacers.
//!
//! Every workload here offers an async op, so the tokio models await the
//! IO instead of blocking a runtime thread.

pub mod client;
pub mod file;
pub mod http;
pub mod scratch;
pub mod server;
pub mod sleep;
pub mod url;

use crate::OpError;

/// Sets the calling thread's timer slack to 1 ns, so its sleeps end when
/// asked: Linux lets a sleeping thread overrun by its slack, 50 µs by
/// default. The loopback server's delay threads and the harness's
/// open-loop pacers both need it. Elsewhere there is no slack to lower.
pub fn lower_timer_slack() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_TIMERSLACK takes one integer argument and affects
    // only the calling thread.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0);
    }
}

/// An IO failure during `what`, as an op error.
pub(crate) fn io_error(what: &str, e: std::io::Error) -> OpError {
    OpError::new(format!("{what}: {e}"))
}
