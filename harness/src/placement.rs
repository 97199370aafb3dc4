//! Placement: which core each worker runs on, pinning, and reading the
//! effective affinity back from the OS.
//!
//! `--pin none|compact|scatter|cores=LIST` names a [`Placement`]. It is
//! resolved against the cores this process may use ([`CpuSet`], from the OS
//! affinity mask and `/sys` topology) into one optional core per placeable
//! unit (a worker thread, a child process, or a runtime thread of an async
//! model). Workers pin themselves with `core_affinity` and then read their
//! real affinity back with `sched_getaffinity`, which is what records show:
//! what the OS did, not what we asked for.

use std::fmt;

use crate::error::UsageError;
use crate::os::affinity::{current_thread_affinity, pin_current_thread, set_current_thread_mask};
use crate::os::topology::{parse_cpu_range, read_cpu_topology};

/// A placement strategy, an axis of the experiment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// No pinning: the OS scheduler decides.
    None,
    /// Pack workers onto neighbouring logical CPUs: SMT siblings of one
    /// physical core first, then the next core.
    Compact,
    /// Spread workers: one per physical core first, SMT siblings last.
    Scatter,
    /// Worker i runs on `cores[i % len]`.
    Cores(Vec<usize>),
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Placement::None => write!(f, "none"),
            Placement::Compact => write!(f, "compact"),
            Placement::Scatter => write!(f, "scatter"),
            Placement::Cores(cores) => {
                let list: Vec<String> = cores.iter().map(usize::to_string).collect();
                write!(f, "cores={}", list.join(","))
            }
        }
    }
}

const VALID_PLACEMENTS: &str = "none, compact, scatter, cores=LIST (e.g. cores=0,2 or cores=0-3)";

/// Parses `--pin`: comma-separated placements, where the numbers after a
/// `cores=` belong to it: `none,cores=0,1,compact` is three placements.
pub fn parse_placement_list(text: &str) -> Result<Vec<Placement>, UsageError> {
    let mut placements: Vec<Placement> = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let continues_cores = matches!(placements.last(), Some(Placement::Cores(_)))
            && item.chars().next().is_some_and(|c| c.is_ascii_digit());
        if continues_cores {
            if let Some(Placement::Cores(cores)) = placements.last_mut() {
                cores.extend(parse_core_range(item, &format!("--pin {text}"))?);
            }
            continue;
        }
        let placement = match item {
            "none" => Placement::None,
            "compact" => Placement::Compact,
            "scatter" => Placement::Scatter,
            _ => match item.strip_prefix("cores=") {
                Some(first) => Placement::Cores(parse_core_range(first, &format!("--pin {text}"))?),
                None => {
                    return Err(UsageError::new(format!(
                        "unknown placement '{item}' in --pin {text}; valid: {VALID_PLACEMENTS}"
                    )))
                }
            },
        };
        placements.push(placement);
    }
    if placements.is_empty() {
        return Err(UsageError::new(format!(
            "--pin is empty; valid: {VALID_PLACEMENTS}"
        )));
    }
    Ok(placements)
}

/// The largest CPU number an affinity mask can hold: ranges are checked
/// against it before they are expanded.
const MAX_CPU_ID: usize = libc::CPU_SETSIZE as usize - 1;

fn parse_core_range(item: &str, whole: &str) -> Result<Vec<usize>, UsageError> {
    let range = parse_cpu_range(item).ok_or_else(|| {
        UsageError::new(format!(
            "bad core list '{item}' in {whole}; expected core numbers or ranges like 0,2 or 0-3"
        ))
    })?;
    if *range.end() > MAX_CPU_ID {
        return Err(UsageError::new(format!(
            "core {} in {whole} does not exist: cores are numbered 0 to at most {MAX_CPU_ID}; this process may use {}",
            range.end(),
            join(&current_thread_affinity())
        )));
    }
    Ok(range.collect())
}

/// Parses a core list: numbers and ranges, comma-separated (`0,2`, `0-3`).
pub fn parse_core_list(text: &str, flag: &str) -> Result<Vec<usize>, UsageError> {
    let mut cores = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        cores.extend(parse_core_range(item, &format!("{flag} {text}"))?);
    }
    if cores.is_empty() {
        return Err(UsageError::new(format!(
            "{flag} is empty; expected core numbers or ranges like 0,2 or 0-3"
        )));
    }
    cores.sort_unstable();
    cores.dedup();
    Ok(cores)
}

/// Restricts this process to the cores of `list` (`--cores`): the calling
/// thread's affinity is set before any worker exists, and every thread and
/// child process started later inherits it.
pub fn restrict_process_to(list: &str) -> Result<(), UsageError> {
    let cores = parse_core_list(list, "--cores")?;
    let available = current_thread_affinity();
    if let Some(bad) = cores.iter().find(|c| !available.contains(c)) {
        return Err(UsageError::new(format!(
            "core {bad} in --cores {list} is not available to this process; available cores: {}",
            join(&available)
        )));
    }
    set_current_thread_mask(&cores)
        .map_err(|e| UsageError::new(format!("the OS refused --cores {list}: {e}")))
}

/// One logical CPU this process may run on, with its physical core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cpu {
    /// Logical CPU number.
    pub id: usize,
    /// (package, core) it belongs to; SMT siblings share it.
    pub physical: (u32, u32),
}

/// The logical CPUs this process may use, in topology order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuSet {
    /// Sorted by (package, core, cpu).
    pub cpus: Vec<Cpu>,
    /// The cgroup's CPU quota in whole cores, when one limits the process.
    pub quota_cores: Option<u32>,
}

impl CpuSet {
    /// The CPUs in this process's affinity mask, with topology from `/sys`.
    pub fn of_this_process() -> Self {
        let allowed = current_thread_affinity();
        let allowed = if allowed.is_empty() {
            (0..std::thread::available_parallelism().map_or(1, |n| n.get())).collect()
        } else {
            allowed
        };
        let cpus = allowed
            .into_iter()
            .map(|id| {
                let topo = read_cpu_topology(id as u32);
                Cpu {
                    id,
                    physical: (
                        topo.package_id.unwrap_or(0),
                        topo.core_id.unwrap_or(id as u32),
                    ),
                }
            })
            .collect();
        let mut set = Self::from_cpus(cpus);
        set.quota_cores = crate::os::machine::cgroup_quota_cores();
        set
    }

    /// A set from explicit CPUs (for tests with a made-up topology).
    pub fn from_cpus(mut cpus: Vec<Cpu>) -> Self {
        cpus.sort_by_key(|c| (c.physical, c.id));
        CpuSet {
            cpus,
            quota_cores: None,
        }
    }

    /// CPUs `0..cores.len()` on one package, CPU i on physical core
    /// `cores[i]` (CPUs on the same core are SMT siblings).
    pub fn on_cores(cores: &[u32]) -> Self {
        Self::from_cpus(
            cores
                .iter()
                .enumerate()
                .map(|(id, &core)| Cpu {
                    id,
                    physical: (0, core),
                })
                .collect(),
        )
    }

    /// The logical CPU ids, ascending.
    pub fn ids(&self) -> Vec<usize> {
        let mut ids: Vec<usize> = self.cpus.iter().map(|c| c.id).collect();
        ids.sort_unstable();
        ids
    }

    /// How many logical CPUs.
    pub fn len(&self) -> usize {
        self.cpus.len()
    }

    /// How many cores the run can use: the CPUs, or fewer when a cgroup
    /// quota allows fewer (a container limited to 2 CPUs on a 64-core host
    /// has 2). The `auto` sweeps, the tokio runtime's default size and the
    /// disturbance rule count these.
    pub fn core_count(&self) -> usize {
        let quota = self.quota_cores.map_or(usize::MAX, |q| q.max(1) as usize);
        self.cpus.len().min(quota).max(1)
    }

    /// Whether there are none (never, on a running machine).
    pub fn is_empty(&self) -> bool {
        self.cpus.is_empty()
    }

    /// Checks that every core a `cores=` placement names is usable.
    pub fn validate(&self, placement: &Placement) -> Result<(), UsageError> {
        if let Placement::Cores(cores) = placement {
            let ids = self.ids();
            if let Some(bad) = cores.iter().find(|c| !ids.contains(c)) {
                return Err(UsageError::new(format!(
                    "core {bad} in --pin {placement} is not available to this process; available cores: {}",
                    join(&ids)
                )));
            }
        }
        Ok(())
    }

    /// The core for each of `count` units, `None` where not pinned. More
    /// units than cores wrap around (oversubscription).
    pub fn resolve(&self, placement: &Placement, count: usize) -> Vec<Option<usize>> {
        let order: Vec<usize> = match placement {
            Placement::None => return vec![None; count],
            Placement::Compact => self.cpus.iter().map(|c| c.id).collect(),
            Placement::Scatter => self.scatter_order(),
            Placement::Cores(cores) => cores.clone(),
        };
        if order.is_empty() {
            return vec![None; count];
        }
        (0..count).map(|i| Some(order[i % order.len()])).collect()
    }

    /// One logical CPU per physical core first (the first sibling of each),
    /// then the second siblings, and so on.
    fn scatter_order(&self) -> Vec<usize> {
        let mut by_core: Vec<((u32, u32), Vec<usize>)> = Vec::new();
        for cpu in &self.cpus {
            match by_core.iter_mut().find(|(p, _)| *p == cpu.physical) {
                Some((_, ids)) => ids.push(cpu.id),
                None => by_core.push((cpu.physical, vec![cpu.id])),
            }
        }
        let depth = by_core.iter().map(|(_, ids)| ids.len()).max().unwrap_or(0);
        (0..depth)
            .flat_map(|level| {
                by_core
                    .iter()
                    .filter_map(move |(_, ids)| ids.get(level).copied())
            })
            .collect()
    }
}

/// What a pinned (or unpinned) unit ended up allowed to run on.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Placed {
    /// The single allowed core, if exactly one.
    pub core: Option<u32>,
    /// Every allowed core, read back from the OS.
    pub cpus_allowed: Vec<u32>,
}

/// Pins the calling thread to `core` (if any) and reads back its affinity.
pub fn place_current_thread(core: Option<usize>) -> Result<Placed, String> {
    if let Some(id) = core {
        if !pin_current_thread(id) {
            return Err(format!("the OS refused to pin a worker to core {id}"));
        }
    }
    let allowed: Vec<u32> = current_thread_affinity()
        .into_iter()
        .map(|c| c as u32)
        .collect();
    if let Some(id) = core {
        if allowed != [id as u32] {
            return Err(format!(
                "asked to pin to core {id} but the OS reports cores {allowed:?}"
            ));
        }
    }
    Ok(Placed {
        core: (allowed.len() == 1).then(|| allowed[0]),
        cpus_allowed: allowed,
    })
}

fn join(ids: &[usize]) -> String {
    ids.iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two physical cores with two SMT siblings each: cpus 0,2 on core 0
    /// and 1,3 on core 1 (the usual Linux numbering).
    fn smt_machine() -> CpuSet {
        CpuSet::on_cores(&[0, 1, 0, 1])
    }

    #[test]
    fn compact_fills_siblings_first_and_scatter_spreads() {
        let cpus = smt_machine();
        assert_eq!(
            cpus.resolve(&Placement::Compact, 4),
            vec![Some(0), Some(2), Some(1), Some(3)]
        );
        assert_eq!(
            cpus.resolve(&Placement::Scatter, 4),
            vec![Some(0), Some(1), Some(2), Some(3)]
        );
        assert_eq!(cpus.resolve(&Placement::None, 2), vec![None, None]);
        assert_eq!(
            cpus.resolve(&Placement::Compact, 5)[4],
            Some(0),
            "oversubscription wraps"
        );
    }

    #[test]
    fn parses_lists_with_core_sets() {
        assert_eq!(
            parse_placement_list("none,cores=0,1,compact,cores=2-3").unwrap(),
            vec![
                Placement::None,
                Placement::Cores(vec![0, 1]),
                Placement::Compact,
                Placement::Cores(vec![2, 3])
            ]
        );
        let err = parse_placement_list("sideways").unwrap_err().to_string();
        assert!(err.contains("sideways") && err.contains("compact"), "{err}");
        assert!(parse_placement_list("cores=a").is_err());
    }

    #[test]
    fn refuses_cores_outside_the_mask() {
        let cpus = smt_machine();
        let err = cpus
            .validate(&Placement::Cores(vec![9]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("core 9") && err.contains("0,1,2,3"), "{err}");
    }
}
