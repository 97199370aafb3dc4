//! The registry: which workloads a run can name, and building one from a
//! spec string.
//!
//! A [`Registry`] is a value, not a global: the harness's plan carries one,
//! and the `process` model's child builds the same one, so a workload a
//! user registers runs in child processes too. Each entry is a
//! [`WorkloadInfo`] (id, summary, parameters) and a constructor, either the
//! info's own `build` function or any boxed closure.
//!
//! Adding a built-in workload means writing its module and adding its
//! `INFO` to [`Registry::builtin`]; `corebench list`, spec parsing and the
//! default profile all read the registry.

use std::sync::Arc;

use crate::params::ParamValues;
use crate::spec::{bind_params, split_id, split_spec_list, SpecError};
use crate::workload::{Workload, WorkloadInfo};

/// Builds a workload from validated parameters (defaults filled in), or
/// says why the combination of values is invalid.
pub type BuildFn = dyn Fn(ParamValues) -> Result<Box<dyn Workload>, String> + Send + Sync;

/// Why a workload could not be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// Another workload already has this id.
    #[error("a workload with id '{0}' is registered already")]
    Duplicate(String),
    /// The id is not of the form `group/name`.
    #[error("bad workload id '{0}': expected group/name, e.g. mine/parse-json")]
    BadId(String),
}

/// One registered workload.
#[derive(Clone)]
pub struct Entry {
    /// Its description: id, summary, parameters.
    pub info: &'static WorkloadInfo,
    build: Arc<BuildFn>,
}

/// The workloads a run can name, in the order `corebench list` prints them.
#[derive(Clone, Default)]
pub struct Registry {
    entries: Vec<Entry>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.ids()).finish()
    }
}

impl Registry {
    /// A registry with no workloads.
    pub fn empty() -> Self {
        Registry::default()
    }

    /// Every workload corebench ships.
    pub fn builtin() -> Self {
        let mut registry = Registry::empty();
        for info in [
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
        ] {
            registry
                .register(info)
                .expect("built-in ids are unique and well formed");
        }
        registry
    }

    /// The workloads the harness itself needs in every run, whatever else
    /// is registered: `synthetic/noop` (each model's dispatch floor) and
    /// `cpu/calibrate` (the single-core reference of comparisons).
    pub fn harness_own() -> Self {
        let mut registry = Registry::empty();
        for info in [&crate::cpu::calibrate::INFO, &crate::synthetic::noop::INFO] {
            registry
                .register(info)
                .expect("built-in ids are unique and well formed");
        }
        registry
    }

    /// Adds a workload built by its info's own `build` function.
    pub fn register(&mut self, info: &'static WorkloadInfo) -> Result<&mut Self, RegistryError> {
        self.register_with(info, info.build)
    }

    /// Adds a workload built by `build`, which may be a closure holding
    /// state of its own.
    pub fn register_with(
        &mut self,
        info: &'static WorkloadInfo,
        build: impl Fn(ParamValues) -> Result<Box<dyn Workload>, String> + Send + Sync + 'static,
    ) -> Result<&mut Self, RegistryError> {
        let well_formed = info
            .id
            .split_once('/')
            .is_some_and(|(group, name)| !group.is_empty() && !name.is_empty());
        if !well_formed || info.id.contains([':', ',']) {
            return Err(RegistryError::BadId(info.id.to_string()));
        }
        if self.find(info.id).is_some() {
            return Err(RegistryError::Duplicate(info.id.to_string()));
        }
        self.entries.push(Entry {
            info,
            build: Arc::new(build),
        });
        Ok(self)
    }

    /// Adds a workload made from closures ([`crate::custom::Custom`]).
    pub fn register_custom(
        &mut self,
        custom: crate::custom::Custom,
    ) -> Result<&mut Self, RegistryError> {
        if self.find(custom.id).is_some() {
            return Err(RegistryError::Duplicate(custom.id.to_string()));
        }
        let info = custom.leak_info();
        self.register_with(info, move |_values| Ok(custom.instance(info)))
    }

    /// Adds every workload of `other` this registry does not have yet.
    pub fn merge(&mut self, other: &Registry) -> &mut Self {
        for entry in &other.entries {
            if self.find(entry.info.id).is_none() {
                self.entries.push(entry.clone());
            }
        }
        self
    }

    /// Every registered workload's description, in order.
    pub fn infos(&self) -> impl Iterator<Item = &'static WorkloadInfo> + '_ {
        self.entries.iter().map(|e| e.info)
    }

    /// Every registered id, in order.
    pub fn ids(&self) -> Vec<&'static str> {
        self.infos().map(|i| i.id).collect()
    }

    /// The entry with this id, if any.
    pub fn find(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.info.id == id)
    }

    /// Parses one spec, e.g. `synthetic/gil:locked_fraction=0.5`.
    pub fn parse_spec(&self, spec: &str) -> Result<Box<dyn Workload>, SpecError> {
        let (id, rest) = split_id(spec);
        let entry = self.find(id).ok_or_else(|| SpecError::UnknownWorkload {
            id: id.to_string(),
            valid: self.ids().join(", "),
        })?;
        let values = bind_params(entry.info, spec, rest)?;
        (entry.build)(values).map_err(|reason| SpecError::Malformed {
            spec: spec.trim().to_string(),
            reason,
        })
    }

    /// Parses a comma-separated list of specs (see [`crate::spec`] for how
    /// parameters and specs are told apart).
    pub fn parse_spec_list(&self, list: &str) -> Result<Vec<Box<dyn Workload>>, SpecError> {
        split_spec_list(list)
            .iter()
            .map(|s| self.parse_spec(s))
            .collect()
    }
}

/// Parses one spec against the built-in workloads.
pub fn parse_spec(spec: &str) -> Result<Box<dyn Workload>, SpecError> {
    Registry::builtin().parse_spec(spec)
}

/// Parses a list of specs against the built-in workloads.
pub fn parse_spec_list(list: &str) -> Result<Vec<Box<dyn Workload>>, SpecError> {
    Registry::builtin().parse_spec_list(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RunShape, Scaling};

    #[test]
    fn every_default_parses_and_every_workload_runs_an_op() {
        let server = crate::io::server::LoopbackServer::start(1).unwrap();
        let registry = Registry::builtin();
        for info in registry.infos() {
            let w = registry.parse_spec(info.id).expect(info.id);
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
        let registry = Registry::builtin();
        let mut ids = registry.ids();
        assert!(ids.iter().all(|id| id.contains('/')));
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), registry.ids().len());
    }

    #[test]
    fn a_closure_registers_and_duplicates_and_bad_ids_are_refused() {
        static MINE: WorkloadInfo = WorkloadInfo {
            id: "mine/noop",
            ..crate::synthetic::noop::INFO
        };
        static NO_GROUP: WorkloadInfo = WorkloadInfo {
            id: "noop",
            ..crate::synthetic::noop::INFO
        };
        let mut registry = Registry::harness_own();
        let built = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = Arc::clone(&built);
        registry
            .register_with(&MINE, move |params| {
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                (crate::synthetic::noop::INFO.build)(params)
            })
            .unwrap();
        assert_eq!(
            registry.ids(),
            vec!["cpu/calibrate", "synthetic/noop", "mine/noop"]
        );
        assert!(registry.parse_spec("mine/noop").is_ok());
        assert_eq!(built.load(std::sync::atomic::Ordering::Relaxed), 1);
        let err = registry.parse_spec("cpu/primes").err().unwrap().to_string();
        assert!(err.contains("mine/noop"), "{err}");
        assert_eq!(
            registry.register(&MINE).err(),
            Some(RegistryError::Duplicate("mine/noop".into()))
        );
        assert_eq!(
            registry.register(&NO_GROUP).err(),
            Some(RegistryError::BadId("noop".into()))
        );
    }
}
