//! HTTP clients for the IO workloads: one keep-alive connection per worker.
//!
//! A worker on a plain thread (seq, threads, pool, rayon, process) gets a
//! blocking [`ureq`] agent allowed one idle connection, so every request
//! reuses the same socket. A worker on a tokio runtime (the async models)
//! gets a hyper HTTP/1.1 connection over a tokio socket, driven by a task
//! on that runtime, and awaits its responses. [`HttpClient::for_worker`]
//! tells the two apart by whether it is called inside a runtime. Both
//! connect while the worker is set up, outside the timed region.
//!
//! Non-2xx answers are not errors here: the caller gets the status and
//! counts it, so a target that fails some requests is measured, not fatal.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

/// How long a request may take before it fails the op. Generous: a stall
/// under test lasts 100 ms; a hung server should fail a cell, not a run.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// One worker's connection to an HTTP server.
pub enum HttpClient {
    /// A blocking agent (one kept-alive connection).
    Blocking {
        /// The agent.
        agent: ureq::Agent,
        /// `http://host:port`.
        base: String,
    },
    /// An async hyper connection on the worker's runtime.
    Async {
        /// The request half; the connection half runs as a task.
        sender: SendRequest<Empty<Bytes>>,
        /// `host:port`, for the Host header.
        authority: String,
    },
}

/// A response: its status and body.
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Bytes,
}

impl HttpClient {
    /// A client for `base` (`http://host:port`): async when the model
    /// awaits async ops (`async_ops`, see [`crate::RunShape::async_ops`]),
    /// which needs the calling worker to be on a tokio runtime; blocking
    /// otherwise. The TCP connection is made now.
    pub fn for_worker(base: &str, async_ops: bool) -> Result<HttpClient, String> {
        let authority = base
            .strip_prefix("http://")
            .ok_or_else(|| format!("only http:// URLs are supported, not '{base}'"))?
            .trim_end_matches('/')
            .to_string();
        if async_ops {
            if tokio::runtime::Handle::try_current().is_err() {
                return Err(
                    "the model asked for async ops, but this worker is not on a tokio runtime"
                        .to_string(),
                );
            }
            let stream = std::net::TcpStream::connect(&authority)
                .map_err(|e| format!("cannot connect to {authority}: {e}"))?;
            stream
                .set_nodelay(true)
                .and_then(|_| stream.set_nonblocking(true))
                .map_err(|e| format!("socket set-up: {e}"))?;
            let stream = tokio::net::TcpStream::from_std(stream)
                .map_err(|e| format!("socket set-up: {e}"))?;
            // The HTTP/1 handshake does no IO: it only builds the two
            // halves, so it completes on the first poll.
            let (sender, connection) = futures::executor::block_on(
                hyper::client::conn::http1::handshake(TokioIo::new(stream)),
            )
            .map_err(|e| format!("HTTP handshake with {authority}: {e}"))?;
            tokio::spawn(connection);
            Ok(HttpClient::Async { sender, authority })
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
                base: format!("http://{authority}"),
            };
            // Opens the connection the agent will keep alive.
            client.get("/status/204")?;
            Ok(client)
        }
    }

    /// GETs `path_and_query` and reads the whole body (blocking client).
    pub fn get(&self, path_and_query: &str) -> Result<Reply, String> {
        match self {
            HttpClient::Blocking { agent, base } => {
                let url = format!("{base}{path_and_query}");
                let mut response = agent
                    .get(&url)
                    .call()
                    .map_err(|e| format!("GET {url}: {e}"))?;
                let status = response.status().as_u16();
                let body = response
                    .body_mut()
                    .with_config()
                    .limit(super::server::MAX_BODY_BYTES + 1024)
                    .read_to_vec()
                    .map_err(|e| format!("GET {url}: reading the body: {e}"))?;
                Ok(Reply {
                    status,
                    body: Bytes::from(body),
                })
            }
            HttpClient::Async { .. } => {
                Err("the async client cannot block; call get_async".to_string())
            }
        }
    }

    /// GETs `path_and_query` and reads the whole body, awaiting (async
    /// client); the blocking client blocks here instead.
    pub async fn get_async(&mut self, path_and_query: &str) -> Result<Reply, String> {
        let (sender, authority) = match self {
            HttpClient::Async { sender, authority } => (sender, authority),
            blocking @ HttpClient::Blocking { .. } => return blocking.get(path_and_query),
        };
        let request = hyper::Request::get(path_and_query)
            .header(hyper::header::HOST, authority.as_str())
            .body(Empty::<Bytes>::new())
            .map_err(|e| format!("bad request {path_and_query}: {e}"))?;
        let exchange = async {
            sender
                .ready()
                .await
                .map_err(|e| format!("connection to {authority} closed: {e}"))?;
            let response = sender
                .send_request(request)
                .await
                .map_err(|e| format!("GET {path_and_query} from {authority}: {e}"))?;
            let status = response.status().as_u16();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("GET {path_and_query}: reading the body: {e}"))?
                .to_bytes();
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
/// check that a server answers there at all. Check the URL's form first
/// with [`split_url`], which names what is wrong with it.
pub fn probe(url: &str, timeout: Duration) -> Result<u16, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into();
    agent
        .get(url)
        .call()
        .map(|response| response.status().as_u16())
        .map_err(|e| e.to_string())
}

/// Splits `http://host:port/path?query` into `http://host:port` and
/// `/path?query` (`/` when there is no path).
pub fn split_url(url: &str) -> Result<(String, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("'{url}' is not an http:// URL (https is not supported)"))?;
    let (authority, path) = match rest.find('/') {
        Some(slash) => (&rest[..slash], &rest[slash..]),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(format!("'{url}' has no host"));
    }
    Ok((format!("http://{authority}"), path.to_string()))
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
    fn urls_split_into_base_and_path() {
        assert_eq!(
            split_url("http://127.0.0.1:8080/a/b?c=1").unwrap(),
            ("http://127.0.0.1:8080".into(), "/a/b?c=1".into())
        );
        assert_eq!(
            split_url("http://localhost:80").unwrap(),
            ("http://localhost:80".into(), "/".into())
        );
        assert!(split_url("https://x/").is_err());
        assert!(split_url("http:///x").is_err());
    }

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
