//! The loopback HTTP/1.1 server the IO workloads talk to.
//!
//! corebench starts one [`LoopbackServer`] per run (in a child process,
//! `corebench serve`, so its CPU time is not counted as the clients'), on
//! 127.0.0.1 with a free port, on its own tokio runtime with a set number
//! of threads (on a small machine those threads compete with the clients,
//! so the count is recorded in host.json). It is built on hyper, keeps connections alive,
//! and sets `TCP_NODELAY` so small responses are not held back by Nagle.
//! Dropping the server stops it and frees the port.
//!
//! Endpoints (every one honours a pending stall first, see below):
//!
//! - `GET /work?delay_ms=F&size_bytes=N&cpu_us=F` waits `delay_ms` on the
//!   runtime's timer (a remote backend that costs no CPU), then spins
//!   `cpu_us` of CPU, then answers with `size_bytes` of body.
//! - `GET /site/N?pages=P&links=K` is page N of a generated site of P
//!   linked pages (see [`site_links`]), for the crawler.
//! - `GET /status/CODE` answers with that status, for error handling tests.
//!
//! Any request may carry `stall_ms=F`: from its arrival every response of
//! the server is held until `stall_ms` have passed. This is the one-off
//! server pause that exposes coordinated omission in closed-loop clients.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

/// The largest body `/work` will send.
pub const MAX_BODY_BYTES: u64 = 64 << 20;
/// The longest service delay `/work` will wait, ms.
pub const MAX_DELAY_MS: f64 = 60_000.0;
/// The most CPU `/work` will spin for one request, µs.
pub const MAX_CPU_US: f64 = 1_000_000.0;
/// The longest stall one request may ask for, ms. The stall holds every
/// response (that is its point), so it is bounded like the rest: a
/// request cannot hold the server past this.
pub const MAX_STALL_MS: f64 = 60_000.0;
/// Requests that may wait out their service delay at once (threads of the
/// blocking pool).
const MAX_WAITING_REQUESTS: usize = 4096;
/// The largest generated site.
pub const MAX_SITE_PAGES: u64 = 100_000_000;

/// A running loopback server. Dropping it stops it.
pub struct LoopbackServer {
    addr: SocketAddr,
    threads: usize,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// State every connection shares.
struct ServerState {
    /// When the clock below reads past this (ns since `epoch`), stalls end.
    stall_until_ns: AtomicU64,
    epoch: Instant,
}

impl LoopbackServer {
    /// Starts a server on 127.0.0.1 with a free port, on a runtime of
    /// `threads` worker threads.
    pub fn start(threads: usize) -> std::io::Result<LoopbackServer> {
        Self::start_on(0, threads)
    }

    /// Starts a server on 127.0.0.1:`port` (0: a free port).
    pub fn start_on(port: u16, threads: usize) -> std::io::Result<LoopbackServer> {
        let threads = threads.max(1);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .max_blocking_threads(MAX_WAITING_REQUESTS)
            .thread_name("corebench-server")
            .on_thread_start(super::lower_timer_slack)
            .enable_all()
            .build()?;
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = Arc::new(ServerState {
            stall_until_ns: AtomicU64::new(0),
            epoch: Instant::now(),
        });
        let thread = std::thread::Builder::new()
            .name("corebench-server-main".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    tokio::select! {
                        _ = accept_loop(listener, state) => {}
                        _ = stopped => {}
                    }
                });
                // Connections still open are dropped with the runtime.
                runtime.shutdown_timeout(Duration::from_secs(1));
            })?;
        Ok(LoopbackServer {
            addr,
            threads,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Runtime threads serving requests.
    pub fn threads(&self) -> usize {
        self.threads
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept_loop(listener: tokio::net::TcpListener, state: Arc<ServerState>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors, say: back off rather than spin.
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let state = Arc::clone(&state);
                async move { Ok::<_, Infallible>(respond(&state, request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The query parameters of a request, as `(key, value)` pairs.
fn query_pairs(request: &Request<Incoming>) -> Vec<(&str, &str)> {
    request
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .collect()
}

/// Query parameter `key` as a number in `0..=max`: `Ok(None)` when it is
/// absent, and an error naming the value and the valid range when it is
/// not a number or out of range (the request is then refused with 400).
fn number(pairs: &[(&str, &str)], key: &str, max: f64) -> Result<Option<f64>, String> {
    let Some((_, text)) = pairs.iter().find(|(k, _)| *k == key) else {
        return Ok(None);
    };
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=max).contains(&v) => Ok(Some(v)),
        _ => Err(format!(
            "bad {key}={text}: expected a number from 0 to {max}\n"
        )),
    }
}

async fn respond(state: &ServerState, request: Request<Incoming>) -> Response<Full<Bytes>> {
    match respond_checked(state, request).await {
        Ok(response) => response,
        Err(why) => plain(StatusCode::BAD_REQUEST, Bytes::from(why)),
    }
}

async fn respond_checked(
    state: &ServerState,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, String> {
    let pairs = query_pairs(&request);
    if let Some(stall_ms) = number(&pairs, "stall_ms", MAX_STALL_MS)?.filter(|ms| *ms > 0.0) {
        let until = state.epoch.elapsed().as_nanos() as u64 + (stall_ms * 1e6) as u64;
        state.stall_until_ns.fetch_max(until, Ordering::Relaxed);
    }
    let until_ns = state.stall_until_ns.load(Ordering::Relaxed);
    let now_ns = state.epoch.elapsed().as_nanos() as u64;
    if until_ns > now_ns {
        tokio::time::sleep(Duration::from_nanos(until_ns - now_ns)).await;
    }

    let path = request.uri().path();
    if path == "/work" {
        let delay_ms = number(&pairs, "delay_ms", MAX_DELAY_MS)?.unwrap_or(0.0);
        let cpu_us = number(&pairs, "cpu_us", MAX_CPU_US)?.unwrap_or(0.0);
        let size = number(&pairs, "size_bytes", MAX_BODY_BYTES as f64)?.unwrap_or(0.0) as u64;
        if delay_ms > 0.0 {
            service_delay(Duration::from_secs_f64(delay_ms / 1e3)).await;
        }
        if cpu_us > 0.0 {
            spin_for(Duration::from_secs_f64(cpu_us / 1e6));
        }
        return Ok(plain(
            StatusCode::OK,
            Bytes::from(vec![b'x'; size as usize]),
        ));
    }
    if let Some(page) = path.strip_prefix("/site/") {
        let pages =
            number(&pairs, "pages", MAX_SITE_PAGES as f64)?.map_or(1, |p| (p as u64).max(1));
        let links = number(&pairs, "links", 64.0)?.map_or(4, |k| k as u64);
        return Ok(match page.parse::<u64>() {
            Ok(page) if page < pages => plain(
                StatusCode::OK,
                Bytes::from(site_page(page, pages, links as usize)),
            ),
            _ => plain(StatusCode::NOT_FOUND, Bytes::from_static(b"no such page\n")),
        });
    }
    if let Some(code) = path.strip_prefix("/status/") {
        if let Some(status) = code
            .parse::<u16>()
            .ok()
            .and_then(|c| StatusCode::from_u16(c).ok())
        {
            return Ok(plain(status, Bytes::from(format!("status {code}\n"))));
        }
    }
    Ok(plain(
        StatusCode::NOT_FOUND,
        Bytes::from_static(b"not found\n"),
    ))
}

/// Waits `delay` without using CPU, to within about 50 µs. tokio's timer
/// would round every wait up to its next millisecond tick (a 1 ms delay
/// becomes 1 to 2 ms), so the wait is a sleep on the blocking pool, whose
/// threads run with a timer slack of 1 ns. A sleeping thread costs memory
/// and two context switches, no CPU.
async fn service_delay(delay: Duration) {
    if tokio::task::spawn_blocking(move || std::thread::sleep(delay))
        .await
        .is_err()
    {
        tokio::time::sleep(delay).await;
    }
}

fn plain(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
}

/// CPU work the server does for a request: a busy loop on the clock, so
/// its length does not depend on the machine's speed.
fn spin_for(duration: Duration) {
    let start = Instant::now();
    while start.elapsed() < duration {
        std::hint::spin_loop();
    }
}

/// The pages page `page` of a `pages`-page site links to: its two children
/// in a binary tree (so every page is reachable from page 0), then
/// `links - 2` pseudo-random pages anywhere in the site (so crawlers meet
/// pages they have seen already and must not visit them twice).
pub fn site_links(page: u64, pages: u64, links: usize) -> Vec<u64> {
    let mut out: Vec<u64> = [2 * page + 1, 2 * page + 2]
        .into_iter()
        .filter(|child| *child < pages)
        .collect();
    let mut state = page.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    for _ in 0..links.saturating_sub(2) {
        // SplitMix64: deterministic, so the site is the same every time.
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        out.push((z ^ (z >> 31)) % pages);
    }
    out
}

/// The HTML of one site page: a title, some text, and its links.
pub fn site_page(page: u64, pages: u64, links: usize) -> String {
    let mut html = format!(
        "<!doctype html><html><head><title>page {page}</title></head><body><h1>page {page}</h1><p>"
    );
    for word in 0..64u64 {
        html.push_str(["lorem ", "ipsum ", "dolor ", "sit "][((page + word) % 4) as usize]);
    }
    html.push_str("</p><ul>");
    for link in site_links(page, pages, links) {
        html.push_str(&format!(
            "<li><a href=\"/site/{link}?pages={pages}&amp;links={links}\">page {link}</a></li>"
        ));
    }
    html.push_str("</ul></body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_is_reachable_from_page_zero() {
        let pages = 1000;
        let mut seen = vec![false; pages as usize];
        let mut frontier = vec![0u64];
        seen[0] = true;
        while let Some(page) = frontier.pop() {
            for link in site_links(page, pages, 5) {
                assert!(link < pages);
                if !std::mem::replace(&mut seen[link as usize], true) {
                    frontier.push(link);
                }
            }
        }
        assert!(seen.iter().all(|s| *s));
    }

    #[test]
    fn server_answers_and_stops() {
        let server = LoopbackServer::start(1).unwrap();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let url = format!("{}/work?size_bytes=10", server.base_url());
        let mut response = agent.get(&url).call().unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.body_mut().read_to_vec().unwrap(), b"xxxxxxxxxx");
        let url = format!("{}/status/503", server.base_url());
        assert_eq!(agent.get(&url).call().unwrap().status(), 503);
        let addr = server.addr();
        drop(server);
        assert!(std::net::TcpStream::connect(addr).is_err());
    }

    #[test]
    fn out_of_range_parameters_are_refused_and_never_stall_the_server() {
        let server = LoopbackServer::start(1).unwrap();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(20)))
            .build()
            .into();
        for query in [
            "stall_ms=1e9",
            "delay_ms=1e300",
            "cpu_us=1e300",
            "size_bytes=1e300",
            "delay_ms=-1",
            "cpu_us=NaN",
            "stall_ms=inf",
        ] {
            let url = format!("{}/work?{query}", server.base_url());
            let mut response = agent.get(&url).call().unwrap();
            assert_eq!(response.status(), 400, "{query}");
            let body = response.body_mut().read_to_string().unwrap();
            let key = query.split('=').next().unwrap();
            assert!(body.contains(key) && body.contains("from 0 to"), "{body}");
        }
        // The server still answers at once.
        let url = format!("{}/work?size_bytes=3", server.base_url());
        let start = Instant::now();
        let mut response = agent.get(&url).call().unwrap();
        assert_eq!(response.body_mut().read_to_vec().unwrap(), b"xxx");
        assert!(start.elapsed() < Duration::from_secs(10), "not stalled");
        let addr = server.addr();
        drop(server);
        assert!(std::net::TcpStream::connect(addr).is_err());
    }
}
