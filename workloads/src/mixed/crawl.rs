//! `mixed/crawl`: the books' web crawler, against the loopback server's
//! generated site. One op visits one page: take a page from the shared
//! frontier (waiting while it is empty and other workers' fetches are still
//! in flight), fetch it, parse its links, hash the body (the CPU part),
//! queue the links no one has seen, and write one CSV row for the page.
//!
//! The site has one page per op of the run (or `pages`), so a finished
//! run must have visited every page exactly once, whatever the model and
//! worker count. The counters say whether it did: `pages_visited`,
//! `pages_visited_twice` and `pages_unvisited` (both must be 0).
//! The rows go to `crawl-pages.csv` in the results folder (the last run's
//! crawl; rewritten by every run).
//!
//! Workers share the frontier and the seen set, so the `process` model
//! cannot run it.

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::io::client::HttpClient;
use crate::params::{ParamKind, ParamSpec};
use crate::{
    AsyncWorkerOp, BoxFuture, HttpUse, OpError, Requirements, RunShape, SharedRun, WorkerOp,
    WorkloadError, WorkloadInfo,
};

/// Registry entry.
pub static INFO: WorkloadInfo = WorkloadInfo {
    id: "mixed/crawl",
    summary: "crawl a generated site: fetch a page, parse links, hash it, queue unseen links, write a CSV row",
    params: &[
        ParamSpec {
            name: "pages",
            kind: ParamKind::Int { min: 0, max: crate::io::server::MAX_SITE_PAGES as i64 },
            default: "0",
            help: "pages in the site; 0 = one per op of the run, so every page is visited",
        },
        ParamSpec {
            name: "links",
            kind: ParamKind::Int { min: 2, max: 64 },
            default: "4",
            help: "links per page (two lead down a tree, the rest anywhere)",
        },
        ParamSpec {
            name: "hash_rounds",
            kind: ParamKind::Int { min: 0, max: 1_000_000 },
            default: "8",
            help: "SHA-256 passes over each page's body (the CPU part)",
        },
    ],
    in_profiles: false,
    build: |params| Ok(Box::new(CrawlWorkload { params })),
};

/// A worker waiting for the frontier looks again this often, so a failed
/// run's waiters notice and end.
const FRONTIER_POLL: Duration = Duration::from_millis(50);

/// The name of the CSV the crawl writes in the results folder.
pub const CSV_NAME: &str = "crawl-pages.csv";

workload_type! {
    CrawlWorkload = INFO + async_native + io_bound;
    fn requirements(&self) -> Requirements {
        Requirements::shared("its workers share the frontier and the set of seen pages")
    }
    fn http_use(&self) -> HttpUse {
        HttpUse::LoopbackServer
    }
    fn prepare(&self, shape: RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError> {
        let setup = |reason: String| WorkloadError::Setup {
            workload: INFO.id,
            reason,
        };
        let server = shape
            .io
            .server_url
            .as_deref()
            .ok_or_else(|| setup("no loopback server: corebench starts one for `run`".into()))
            .and_then(|url| crate::io::url::HttpUrl::parse(url).map_err(setup))?;
        let pages = match self.params.int("pages") as u64 {
            0 => shape.total_ops.max(1),
            pages if pages < shape.total_ops => {
                return Err(WorkloadError::Shape {
                    workload: INFO.id,
                    workers: shape.workers,
                    reason: format!(
                        "the site has {pages} pages but the run has {} ops (one page each); use pages=0",
                        shape.total_ops
                    ),
                })
            }
            pages => pages,
        };
        // The CSV goes to the results folder; without one, to a temporary
        // folder that goes with the run.
        let scratch = match &shape.io.output_dir {
            Some(_) => None,
            None => Some(crate::io::scratch::scratch_dir(INFO.id, &shape.io)?),
        };
        let csv_path = shape
            .io
            .output_dir
            .as_deref()
            .or(scratch.as_ref().map(|d| d.path()))
            .expect("one of the two is set")
            .join(CSV_NAME);
        let mut csv = BufWriter::new(
            File::create(&csv_path)
                .map_err(|e| setup(format!("cannot create {}: {e}", csv_path.display())))?,
        );
        writeln!(csv, "page,worker,body_bytes,links,new_links,sha256_prefix")
            .map_err(|e| setup(format!("writing {}: {e}", csv_path.display())))?;

        let seen: Vec<AtomicBool> = (0..pages).map(|_| AtomicBool::new(false)).collect();
        seen[0].store(true, Ordering::Relaxed);
        Ok(Arc::new(CrawlRun {
            async_ops: shape.async_ops,
            server,
            pages,
            links: self.params.int("links") as u64,
            hash_rounds: self.params.int("hash_rounds") as u64,
            frontier: Mutex::new(VecDeque::from([0])),
            frontier_grew: Condvar::new(),
            frontier_grew_async: tokio::sync::Notify::new(),
            seen,
            visits: (0..pages).map(|_| AtomicU32::new(0)).collect(),
            visited: AtomicU64::new(0),
            aborted: AtomicBool::new(false),
            csv: Mutex::new(csv),
            _scratch: scratch,
        }))
    }
}

struct CrawlRun {
    async_ops: bool,
    server: crate::io::url::HttpUrl,
    pages: u64,
    links: u64,
    hash_rounds: u64,
    frontier: Mutex<VecDeque<u64>>,
    frontier_grew: Condvar,
    frontier_grew_async: tokio::sync::Notify,
    seen: Vec<AtomicBool>,
    visits: Vec<AtomicU32>,
    visited: AtomicU64,
    /// Set by an op that failed, so workers waiting for pages it would
    /// have queued stop waiting.
    aborted: AtomicBool,
    csv: Mutex<BufWriter<File>>,
    _scratch: Option<tempfile::TempDir>,
}

/// What taking a page from the frontier found.
enum Take {
    Page(u64),
    Wait,
}

impl CrawlRun {
    fn try_take(&self) -> Result<Take, OpError> {
        if self.aborted.load(Ordering::Relaxed) {
            return Err(OpError::new(
                "another worker's op failed; the crawl stopped",
            ));
        }
        let mut frontier = self.frontier.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(page) = frontier.pop_front() {
            return Ok(Take::Page(page));
        }
        if self.visited.load(Ordering::Relaxed) >= self.pages {
            return Err(OpError::new(format!(
                "every one of the site's {} pages is visited; the run has more ops than pages",
                self.pages
            )));
        }
        Ok(Take::Wait)
    }

    /// Blocks until a page is queued (sync models).
    fn take(&self) -> Result<u64, OpError> {
        loop {
            if let Take::Page(page) = self.try_take()? {
                return Ok(page);
            }
            let frontier = self.frontier.lock().unwrap_or_else(|p| p.into_inner());
            if frontier.is_empty() {
                let _ = self.frontier_grew.wait_timeout(frontier, FRONTIER_POLL);
            }
        }
    }

    /// Awaits a queued page (async models): the task yields its thread.
    async fn take_async(&self) -> Result<u64, OpError> {
        loop {
            let grew = self.frontier_grew_async.notified();
            if let Take::Page(page) = self.try_take()? {
                return Ok(page);
            }
            let _ = tokio::time::timeout(FRONTIER_POLL, grew).await;
        }
    }

    fn path_of(&self, page: u64) -> String {
        format!("/site/{page}?pages={}&links={}", self.pages, self.links)
    }

    /// Everything after the fetch: parse, hash, queue, write the row.
    fn visit(&self, worker: usize, page: u64, status: u16, body: &[u8]) -> Result<u64, OpError> {
        if status != 200 {
            return Err(OpError::new(format!("page {page}: status {status}")));
        }
        if self.visits[page as usize].fetch_add(1, Ordering::Relaxed) == 0 {
            self.visited.fetch_add(1, Ordering::Relaxed);
        }
        let links = parse_links(body);
        let mut digest = Sha256::digest(body);
        for _ in 1..self.hash_rounds {
            digest = Sha256::new()
                .chain_update(digest)
                .chain_update(body)
                .finalize();
        }
        let mut new_links = 0;
        for &link in &links {
            let unseen = self
                .seen
                .get(link as usize)
                .is_some_and(|seen| !seen.swap(true, Ordering::Relaxed));
            if unseen {
                self.frontier
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push_back(link);
                self.frontier_grew.notify_one();
                self.frontier_grew_async.notify_one();
                new_links += 1;
            }
        }
        let prefix = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
        writeln!(
            self.csv.lock().unwrap_or_else(|p| p.into_inner()),
            "{page},{worker},{},{},{new_links},{prefix:016x}",
            body.len(),
            links.len()
        )
        .map_err(|e| OpError::new(format!("writing the CSV row of page {page}: {e}")))?;
        Ok(prefix)
    }

    fn fail(&self, error: OpError) -> OpError {
        self.aborted.store(true, Ordering::Relaxed);
        self.frontier_grew.notify_all();
        self.frontier_grew_async.notify_waiters();
        error
    }
}

/// The page numbers of every `href="/site/N..."` in `body`.
pub fn parse_links(body: &[u8]) -> Vec<u64> {
    let text = String::from_utf8_lossy(body);
    text.split("href=\"")
        .skip(1)
        .filter_map(|rest| {
            let target = &rest[..rest.find('"')?];
            let page = target.strip_prefix("/site/")?;
            page[..page.find('?').unwrap_or(page.len())].parse().ok()
        })
        .collect()
}

impl SharedRun for CrawlRun {
    fn worker(self: Arc<Self>, index: usize) -> Result<Box<dyn WorkerOp>, WorkloadError> {
        let client = HttpClient::for_worker(&self.server, self.async_ops).map_err(|reason| {
            WorkloadError::Setup {
                workload: INFO.id,
                reason,
            }
        })?;
        Ok(Box::new(CrawlOp {
            run: self,
            client,
            index,
        }))
    }

    fn counters(&self) -> BTreeMap<String, f64> {
        let _ = self.csv.lock().unwrap_or_else(|p| p.into_inner()).flush();
        let visits = |pred: fn(u32) -> bool| {
            self.visits
                .iter()
                .filter(|v| pred(v.load(Ordering::Relaxed)))
                .count() as f64
        };
        BTreeMap::from([
            ("pages".to_string(), self.pages as f64),
            ("pages_visited".to_string(), visits(|v| v >= 1)),
            ("pages_visited_twice".to_string(), visits(|v| v >= 2)),
            ("pages_unvisited".to_string(), visits(|v| v == 0)),
        ])
    }
}

struct CrawlOp {
    run: Arc<CrawlRun>,
    client: HttpClient,
    index: usize,
}

impl WorkerOp for CrawlOp {
    fn run_op(&mut self, _op_index: u64) -> Result<u64, OpError> {
        let run = &self.run;
        let result = run.take().and_then(|page| {
            let reply = self.client.get(&run.path_of(page)).map_err(OpError::new)?;
            run.visit(self.index, page, reply.status, &reply.body)
        });
        result.map_err(|e| run.fail(e))
    }

    fn as_async(&mut self) -> Option<&mut dyn AsyncWorkerOp> {
        Some(self)
    }
}

impl AsyncWorkerOp for CrawlOp {
    fn run_op_async(&mut self, _op_index: u64) -> BoxFuture<'_, Result<u64, OpError>> {
        Box::pin(async move {
            let run = Arc::clone(&self.run);
            let result = async {
                let page = run.take_async().await?;
                let reply = self
                    .client
                    .get_async(&run.path_of(page))
                    .await
                    .map_err(OpError::new)?;
                run.visit(self.index, page, reply.status, &reply.body)
            }
            .await;
            result.map_err(|e| run.fail(e))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_parsed_from_generated_pages() {
        let html = crate::io::server::site_page(3, 100, 5);
        assert_eq!(
            parse_links(html.as_bytes()),
            crate::io::server::site_links(3, 100, 5)
        );
        assert!(parse_links(b"<a href=\"/other\">x</a>").is_empty());
    }
}
