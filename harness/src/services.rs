//! What a run's IO workloads need outside their workers: the loopback HTTP
//! server, or the `--target` server, checked once before anything runs so
//! that an unreachable one is bad input rather than a run of failed cells.
//!
//! The loopback server runs in a child process (`corebench serve`), not in
//! corebench itself: a trial's CPU time is read for the whole process, and
//! the server's share must not be counted as the clients'. The child is
//! killed when [`RunServices`] drops, on every path out of `run`, and asks
//! the kernel to kill it if corebench dies first (`PR_SET_PDEATHSIG`).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use reports::schema::HttpServer;
use workloads::io::url::HttpUrl;
use workloads::{HttpUse, IoEnv, Workload};

use crate::error::UsageError;

/// How long the `--target` check waits for an answer.
const TARGET_CHECK_TIMEOUT: Duration = Duration::from_secs(5);
/// How long `corebench serve` may take to say where it listens.
const SERVER_START_TIMEOUT: Duration = Duration::from_secs(10);
/// The line `corebench serve` prints first, before its URL.
pub const LISTENING_PREFIX: &str = "listening on ";

/// The services of one run. Dropping it stops the loopback server.
pub struct RunServices {
    /// What the workloads are told.
    pub io: IoEnv,
    /// What host.json records about the server.
    pub http_server: Option<HttpServer>,
    server: Option<ServerProcess>,
}

/// A `corebench serve` child, killed on drop.
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ServerProcess {
    /// Starts `corebench serve --port 0 --threads N` and waits for its URL.
    pub fn start(threads: usize) -> anyhow::Result<ServerProcess> {
        let exe = crate::models::process::corebench_binary().map_err(anyhow::Error::msg)?;
        let mut command = Command::new(&exe);
        command
            .args(["serve", "--port", "0"])
            .args(["--threads", &threads.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        crate::os::process::kill_with_parent(&mut command);
        let mut child = command
            .spawn()
            .map_err(|e| anyhow::anyhow!("could not start {} serve: {e}", exe.display()))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        // The first line says where it listens; read it on a thread so a
        // server that never answers cannot hang the run.
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = sender.send(line);
        });
        let mut server = ServerProcess {
            child,
            url: String::new(),
        };
        let line = receiver
            .recv_timeout(SERVER_START_TIMEOUT)
            .unwrap_or_default();
        match line.trim().strip_prefix(LISTENING_PREFIX) {
            Some(url) => {
                server.url = url.to_string();
                Ok(server)
            }
            None => Err(anyhow::anyhow!(
                "the loopback HTTP server did not start (it said {:?})",
                line.trim()
            )),
        }
    }
}

/// Starts what `workloads` need: the loopback server when one needs it
/// (unless `target` serves all of them) or `for_programs` (exec programs
/// given `{http_url}`), on `server_threads` threads.
/// IO workloads' files go under `output_dir`. Check `target` first with
/// [`check_target`]; what is recorded of it has no user information.
pub fn start_services(
    workloads: &[Arc<dyn Workload>],
    target: Option<&str>,
    server_threads: usize,
    output_dir: &std::path::Path,
    for_programs: bool,
) -> anyhow::Result<RunServices> {
    let needs_loopback = for_programs
        || workloads.iter().any(|w| match w.http_use() {
            HttpUse::None => false,
            HttpUse::AnyServer => target.is_none(),
            HttpUse::LoopbackServer => true,
        });
    let mut io = IoEnv {
        server_url: None,
        target_url: None,
        output_dir: Some(output_dir.to_path_buf()),
    };
    let mut http_server = None;
    if let Some(url) = target {
        io.target_url = Some(url.to_string());
        http_server = Some(HttpServer {
            url: workloads::io::url::redact(url),
            kind: "target".into(),
            threads: None,
        });
    }
    let server = if needs_loopback {
        let server = ServerProcess::start(server_threads)?;
        io.server_url = Some(server.url.clone());
        if target.is_none() {
            http_server = Some(HttpServer {
                url: server.url.clone(),
                kind: "loopback".into(),
                threads: Some(server_threads as u32),
            });
        }
        Some(server)
    } else {
        None
    };
    Ok(RunServices {
        io,
        http_server,
        server,
    })
}

impl RunServices {
    /// The loopback server's URL, if one runs.
    pub fn server_url(&self) -> Option<&str> {
        self.server.as_ref().map(|s| s.url.as_str())
    }
}

/// Checks that `url` is an http:// URL that answers; any status will do
/// (error answers are counted by the workload, not refused here).
pub fn check_target(url: &str) -> Result<(), UsageError> {
    let parsed = HttpUrl::parse(url).map_err(|e| {
        UsageError::new(format!(
            "bad --target: {e}; expected http://HOST[:PORT][/PATH]"
        ))
    })?;
    workloads::io::client::probe(&parsed, TARGET_CHECK_TIMEOUT)
        .map(|_| ())
        .map_err(|e| {
            UsageError::new(format!(
                "cannot reach --target {}: {e}; start the server or give another URL",
                parsed.redacted()
            ))
        })
}

/// `corebench serve`: runs the loopback server until killed, printing
/// `listening on URL` first. With `exit_with_parent` the kernel kills it
/// when the process that started it dies.
pub fn serve(port: u16, threads: usize, exit_with_parent: bool) -> anyhow::Result<()> {
    if exit_with_parent {
        crate::os::process::die_with_parent();
    }
    let server = workloads::io::server::LoopbackServer::start_on(port, threads)
        .map_err(|e| UsageError::new(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
    println!("{LISTENING_PREFIX}{}", server.base_url());
    use std::io::Write;
    std::io::stdout().flush()?;
    loop {
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_target_is_bad_input() {
        // A port that was free a moment ago: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let error = check_target(&format!("http://127.0.0.1:{port}/")).unwrap_err();
        assert!(
            error.to_string().contains("cannot reach --target"),
            "{error}"
        );
        let error = check_target("ftp://x/").unwrap_err();
        assert!(error.to_string().contains("http://"), "{error}");
    }

    #[test]
    fn cpu_workloads_need_no_server() {
        let dir = tempfile::tempdir().unwrap();
        let cpu: Vec<Arc<dyn Workload>> = vec![workloads::parse_spec("cpu/primes").unwrap().into()];
        let services = start_services(&cpu, None, 1, dir.path(), false).unwrap();
        assert!(services.io.server_url.is_none() && services.http_server.is_none());
    }
}
