//! HTTP clients for the IO workloads: one keep-alive connection per worker.
//!
//! A worker whose model runs ops on a plain thread (seq, threads, pool,
//! rayon, process) gets a blocking [`ureq`] agent allowed one idle
//! connection, so every request reuses the same socket. A worker whose
//! model awaits async ops (the tokio models; see
//! [`crate::RunShape::async_ops`]) gets a hyper HTTP/1.1 connection over a
//! tokio socket, driven by a task on its runtime. Both connect while the
//! worker is set up, outside the timed region, take the same URLs
//! ([`HttpUrl`]), read at most [`MAX_REPLY_BYTES`] of a body, and open a
//! new connection when the server closes the old one (`Connection: close`,
//! or an idle connection it dropped).
//!
//! Non-2xx answers are not errors here: the caller gets the status and
//! counts it, so a target that fails some requests is measured, not fatal.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

use super::url::HttpUrl;

/// How long a request may take before it fails the op. Generous: a stall
/// under test lasts 100 ms; a hung server should fail a cell, not a run.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The most of a body either client reads: the loopback server's largest
/// answer and some room for headers. A longer body fails the op instead of
/// taking the machine's memory.
pub const MAX_REPLY_BYTES: u64 = super::server::MAX_BODY_BYTES + 1024;

/// One worker's connection to an HTTP server.
pub enum HttpClient {
    /// A blocking agent (one kept-alive connection).
    Blocking {
        /// The agent.
        agent: ureq::Agent,
        /// Where it sends requests.
        url: HttpUrl,
    },
    /// An async hyper connection on the worker's runtime.
    Async(AsyncConnection),
}

/// A hyper HTTP/1.1 connection, opened again when the server closes it.
pub struct AsyncConnection {
    /// The request half, `None` once the server said it closes.
    sender: Option<SendRequest<Empty<Bytes>>>,
    /// Where it sends requests.
    url: HttpUrl,
}

/// A response: its status and body.
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Bytes,
}

impl HttpClient {
    /// A client for `url`'s server: async when the model awaits async ops
    /// (`async_ops`), which needs the calling worker to be on a tokio
    /// runtime; blocking otherwise. The TCP connection is made now.
    pub fn for_worker(url: &HttpUrl, async_ops: bool) -> Result<HttpClient, String> {
        if async_ops {
            if tokio::runtime::Handle::try_current().is_err() {
                return Err(
                    "the model asked for async ops, but this worker is not on a tokio runtime"
                        .to_string(),
                );
            }
            let mut connection = AsyncConnection {
                sender: None,
                url: url.clone(),
            };
            connection.connect()?;
            Ok(HttpClient::Async(connection))
        } else {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_idle_connections(1)
                .max_idle_connections_per_host(1)
                .timeout_global(Some(REQUEST_TIMEOUT))
                .build()
                .into();
            let client = HttpClient::Blocking {
                agent,
                url: url.clone(),
            };
            // Opens the connection the agent will keep alive.
            client.get("/status/204")?;
            Ok(client)
        }
    }

    /// GETs `path_and_query` and reads the whole body (blocking client).
    pub fn get(&self, path_and_query: &str) -> Result<Reply, String> {
        match self {
            HttpClient::Blocking { agent, url } => {
                let target = format!("{}{path_and_query}", url.base());
                let mut request = agent.get(&target);
                if let Some(authorization) = url.authorization() {
                    request = request.header("Authorization", &authorization);
                }
                let mut response = request.call().map_err(|e| format!("GET {target}: {e}"))?;
                let status = response.status().as_u16();
                let body = response
                    .body_mut()
                    .with_config()
                    .limit(MAX_REPLY_BYTES)
                    .read_to_vec()
                    .map_err(|e| format!("GET {target}: reading the body: {e}"))?;
                Ok(Reply {
                    status,
                    body: Bytes::from(body),
                })
            }
            HttpClient::Async(_) => Err("the async client cannot block; call get_async".into()),
        }
    }

    /// GETs `path_and_query` and reads the whole body, awaiting (async
    /// client); the blocking client blocks here instead.
    pub async fn get_async(&mut self, path_and_query: &str) -> Result<Reply, String> {
        match self {
            HttpClient::Async(connection) => connection.get(path_and_query).await,
            blocking @ HttpClient::Blocking { .. } => blocking.get(path_and_query),
        }
    }
}

impl AsyncConnection {
    /// Opens a new connection and starts its task on the current runtime.
    fn connect(&mut self) -> Result<(), String> {
        let authority = self.url.authority();
        let stream = std::net::TcpStream::connect((self.url.host.as_str(), self.url.port))
            .map_err(|e| format!("cannot connect to {authority}: {e}"))?;
        stream
            .set_nodelay(true)
            .and_then(|_| stream.set_nonblocking(true))
            .map_err(|e| format!("socket set-up: {e}"))?;
        let stream =
            tokio::net::TcpStream::from_std(stream).map_err(|e| format!("socket set-up: {e}"))?;
        // The HTTP/1 handshake does no IO: it only builds the two halves,
        // so it completes on the first poll.
        let (sender, connection) = futures::executor::block_on(
            hyper::client::conn::http1::handshake(TokioIo::new(stream)),
        )
        .map_err(|e| format!("HTTP handshake with {authority}: {e}"))?;
        tokio::spawn(connection);
        self.sender = Some(sender);
        Ok(())
    }

    /// The request half, connecting again when the server has closed the
    /// last connection.
    async fn ready_sender(&mut self) -> Result<&mut SendRequest<Empty<Bytes>>, String> {
        let usable = match self.sender.as_mut() {
            Some(sender) => !sender.is_closed() && sender.ready().await.is_ok(),
            None => false,
        };
        if !usable {
            self.connect()?;
        }
        let sender = self.sender.as_mut().expect("connect sets the sender");
        sender
            .ready()
            .await
            .map_err(|e| format!("connection to {} closed: {e}", self.url.authority()))?;
        Ok(sender)
    }

    /// One GET with the whole (bounded) body, within [`REQUEST_TIMEOUT`].
    async fn get(&mut self, path_and_query: &str) -> Result<Reply, String> {
        let authority = self.url.authority();
        let mut request =
            hyper::Request::get(path_and_query).header(hyper::header::HOST, &authority);
        if let Some(authorization) = self.url.authorization() {
            request = request.header(hyper::header::AUTHORIZATION, authorization);
        }
        let request = request
            .body(Empty::<Bytes>::new())
            .map_err(|e| format!("bad request {path_and_query}: {e}"))?;
        let exchange = async {
            let sender = self.ready_sender().await?;
            let response = sender
                .send_request(request)
                .await
                .map_err(|e| format!("GET {path_and_query} from {authority}: {e}"))?;
            let closes = response
                .headers()
                .get(hyper::header::CONNECTION)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("close"));
            let status = response.status().as_u16();
            let body = Limited::new(response.into_body(), MAX_REPLY_BYTES as usize)
                .collect()
                .await
                .map_err(|e| {
                    format!("GET {path_and_query}: reading the body (at most {MAX_REPLY_BYTES} bytes): {e}")
                })?
                .to_bytes();
            if closes {
                // The server ends this connection: the next request opens
                // another.
                self.sender = None;
            }
            Ok(Reply { status, body })
        };
        tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "GET {path_and_query}: no answer in {REQUEST_TIMEOUT:?}"
                ))
            })
    }
}

/// GETs `url` once with a fresh connection and returns the status: a
/// check that a server answers there at all.
pub fn probe(url: &HttpUrl, timeout: Duration) -> Result<u16, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into();
    let mut request = agent.get(&url.redacted());
    if let Some(authorization) = url.authorization() {
        request = request.header("Authorization", &authorization);
    }
    request
        .call()
        .map(|response| response.status().as_u16())
        .map_err(|e| super::url::redact(&e.to_string()))
}

/// Non-2xx answers, counted per status code and shared by a run's workers.
/// Touched only when an answer is an error, so the success path shares
/// nothing.
#[derive(Default)]
pub struct StatusTally {
    errors: std::sync::atomic::AtomicU64,
    by_status: std::sync::Mutex<std::collections::BTreeMap<u16, u64>>,
}

impl StatusTally {
    /// Counts `status` if it is an error; returns the run's error count.
    pub fn count(&self, status: u16) -> u64 {
        if (200..400).contains(&status) {
            return self.errors.load(std::sync::atomic::Ordering::Relaxed);
        }
        *self
            .by_status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(status)
            .or_default() += 1;
        self.errors
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1
    }

    /// `http_status_CODE` counters, plus `http_errors` in all.
    pub fn counters(&self) -> std::collections::BTreeMap<String, f64> {
        let by_status = self.by_status.lock().unwrap_or_else(|p| p.into_inner());
        let mut counters: std::collections::BTreeMap<String, f64> = by_status
            .iter()
            .map(|(status, n)| (format!("http_status_{status}"), *n as f64))
            .collect();
        counters.insert(
            "http_errors".into(),
            self.errors.load(std::sync::atomic::Ordering::Relaxed) as f64,
        );
        counters
    }

    /// The error counts as text, e.g. `503: 12, 500: 1`.
    pub fn describe(&self) -> String {
        let by_status = self.by_status.lock().unwrap_or_else(|p| p.into_inner());
        by_status
            .iter()
            .map(|(status, n)| format!("{status}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_errors_are_counted() {
        let tally = StatusTally::default();
        assert_eq!(tally.count(200), 0);
        assert_eq!(tally.count(503), 1);
        assert_eq!(tally.count(503), 2);
        assert_eq!(tally.count(404), 3);
        assert_eq!(tally.describe(), "404: 1, 503: 2");
        assert_eq!(tally.counters()["http_status_503"], 2.0);
        assert_eq!(tally.counters()["http_errors"], 3.0);
    }
}
