//! The list of every workload corebench knows, and lookup by id.
//!
//! Adding a workload means writing its module and adding its
//! [`WorkloadInfo`] to [`all_workloads`]; `corebench list`, spec parsing and
//! the default profile all read this one list.

use crate::params::{ParamSpec, ParamValues};
use crate::Workload;

/// The static description of one workload.
pub struct WorkloadInfo {
    /// The id, `group/name`, e.g. `cpu/primes`.
    pub id: &'static str,
    /// One line saying what one op does and what the workload shows.
    pub summary: &'static str,
    /// Its parameters, with defaults and help.
    pub params: &'static [ParamSpec],
    /// Whether the `quick`/`default`/`full` profiles include it. Workloads
    /// that exist to test the harness itself (failure injection, the empty
    /// op used for dispatch floors) are left out.
    pub in_profiles: bool,
    /// Builds an instance from validated parameters (defaults filled in).
    /// Returns a reason when the combination of values is invalid.
    pub build: fn(ParamValues) -> Result<Box<dyn Workload>, String>,
}

impl std::fmt::Debug for WorkloadInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkloadInfo")
            .field("id", &self.id)
            .finish()
    }
}

/// Every workload, in the order `corebench list` prints them.
pub fn all_workloads() -> &'static [&'static WorkloadInfo] {
    static ALL: [&WorkloadInfo; 23] = [
        &crate::cpu::primes::INFO,
        &crate::cpu::mandelbrot::INFO,
        &crate::cpu::sha256::INFO,
        &crate::cpu::calibrate::INFO,
        &crate::synthetic::amdahl::INFO,
        &crate::synthetic::gil::INFO,
        &crate::sync::counter::INFO,
        &crate::sync::rwlock::INFO,
        &crate::sync::pingpong::INFO,
        &crate::sync::barrier::INFO,
        &crate::sync::semaphore::INFO,
        &crate::comm::channel::INFO,
        &crate::comm::queue::INFO,
        &crate::stream::pipeline::INFO,
        &crate::race::lost_update::INFO,
        &crate::deadlock::lock_order::INFO,
        &crate::io::http::INFO,
        &crate::io::file::INFO,
        &crate::io::sleep::INFO,
        &crate::mixed::crawl::INFO,
        &crate::mixed::compress::INFO,
        &crate::synthetic::faulty::INFO,
        &crate::synthetic::noop::INFO,
    ];
    &ALL
}

/// The workload with this id, if any.
pub fn find_workload(id: &str) -> Option<&'static WorkloadInfo> {
    all_workloads().iter().copied().find(|w| w.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RunShape, Scaling};

    #[test]
    fn every_default_parses_and_every_workload_runs_an_op() {
        let server = crate::io::server::LoopbackServer::start(1).unwrap();
        for info in all_workloads() {
            let w = crate::parse_spec(info.id).expect(info.id);
            assert_eq!(w.info().id, info.id);
            if info.id == "synthetic/faulty" {
                continue;
            }
            let mut shape = RunShape::new(1, Scaling::Strong, 1000);
            shape.io.server_url = Some(server.base_url());
            let shared = w.prepare(shape).expect(info.id);
            let mut op = shared.worker(0).expect(info.id);
            op.run_op(0).expect(info.id);
        }
    }

    #[test]
    fn ids_are_unique_and_grouped() {
        let mut ids: Vec<_> = all_workloads().iter().map(|w| w.id).collect();
        assert!(ids.iter().all(|id| id.contains('/')));
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), all_workloads().len());
    }
}
