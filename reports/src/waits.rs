//! Wait sites from wall-clock profiles: the one place folded wall stacks
//! (`profiles/CELL.wall.folded`, written by `run --wall-profile`) are read.
//! The harness reads each trial's samples with it for the record's
//! `wait_sites`; `corebench profile` reads a cell's file per thread.
//!
//! A folded wall stack is `STATE;THREAD;outermost;...;innermost;[SYSCALL]`,
//! the syscall leaf on blocked samples only. A blocked sample's site is the
//! function the innermost frame of the caller's own code called (the
//! outermost frame of the library code below it), and its primitive is
//! read from that library code's frames, or from the syscall where they
//! say nothing more.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::schema::{Record, WaitPrimitive, WaitSite, WallProfile};

/// Root frame of a sample taken on a CPU.
pub const ROOT_ON_CPU: &str = "on-cpu";
/// Root frame of a sample of a runnable thread that waited for a CPU.
pub const ROOT_RUNQUEUE: &str = "runqueue";
/// Root frame of a sample of a thread asleep.
pub const ROOT_BLOCKED: &str = "blocked";

/// Wait sites a record keeps.
pub const RECORD_SITES: usize = 5;

/// Crates whose frames are library code: a wait site is the call from the
/// caller's own code into them.
const LIBRARY_CRATES: &[&str] = &[
    "std::",
    "core::",
    "alloc::",
    "crossbeam",
    "parking_lot",
    "lock_api",
    "tokio::",
    "mio::",
    "futures",
    "flume::",
    "rayon",
    "hashbrown::",
    "hyper",
    "backtrace::",
    "ureq",
    "http::",
    "httparse::",
    "rustls",
    "socket2::",
    "flate2::",
    "miniz_oxide::",
    "sha2::",
    "serde",
    "hdrhistogram::",
    "memchr::",
    "bytes::",
    "libc::",
    "signal_hook",
];

/// What one set of folded wall stacks says.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitReading {
    /// How the samples split.
    pub profile: WallProfile,
    /// Blocked sites, most samples first.
    pub sites: Vec<WaitSite>,
}

/// A cell's wall-clock profile over its trials, pooled: every trial's
/// samples count alike.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellWaits {
    /// How the samples split.
    pub profile: WallProfile,
    /// Its top blocked sites, most samples first (at most [`RECORD_SITES`]),
    /// with shares of the pooled samples.
    pub sites: Vec<WaitSite>,
}

/// Pools the wall profiles of `trials` (those without one are left out);
/// `None` when none has samples.
pub fn pooled(trials: &[&Record]) -> Option<CellWaits> {
    let profiled: Vec<(&WallProfile, &[WaitSite])> = trials
        .iter()
        .filter_map(|r| Some((r.wall_profile.as_ref()?, r.wait_sites.as_slice())))
        .filter(|(p, _)| p.samples > 0)
        .collect();
    let total: u64 = profiled.iter().map(|(p, _)| p.samples).sum();
    if total == 0 {
        return None;
    }
    let weighted = |f: &dyn Fn(&WallProfile) -> f64| {
        profiled
            .iter()
            .map(|(p, _)| f(p) * p.samples as f64)
            .sum::<f64>()
            / total as f64
    };
    let blocked = weighted(&|p| p.blocked_fraction);
    let mut sites: Vec<WaitSite> = Vec::new();
    for site in profiled.iter().flat_map(|(_, sites)| sites.iter()) {
        match sites.iter_mut().find(|s| {
            (s.primitive, &s.function, &s.caller, s.in_async_task)
                == (
                    site.primitive,
                    &site.function,
                    &site.caller,
                    site.in_async_task,
                )
        }) {
            Some(same) => same.samples += site.samples,
            None => sites.push(site.clone()),
        }
    }
    for site in &mut sites {
        site.share_of_time = site.samples as f64 / total as f64;
        site.share_of_blocked = if blocked > 0.0 {
            site.share_of_time / blocked
        } else {
            0.0
        };
    }
    sites.sort_by(|a, b| {
        b.samples
            .cmp(&a.samples)
            .then_with(|| a.function.cmp(&b.function))
    });
    sites.truncate(RECORD_SITES);
    let in_tasks = profiled
        .iter()
        .any(|(p, _)| p.blocked_in_tasks_fraction.is_some());
    Some(CellWaits {
        profile: WallProfile {
            asked_hz: profiled.iter().map(|(p, _)| p.asked_hz).max().unwrap_or(0),
            samples: total,
            on_cpu_fraction: weighted(&|p| p.on_cpu_fraction),
            runqueue_fraction: weighted(&|p| p.runqueue_fraction),
            blocked_fraction: blocked,
            blocked_in_tasks_fraction: in_tasks
                .then(|| weighted(&|p| p.blocked_in_tasks_fraction.unwrap_or(0.0))),
        },
        sites,
    })
}

/// Reads `stacks` (folded line, count); `asked_hz` is only reported.
/// `None` without samples.
pub fn read(stacks: &[(String, u64)], asked_hz: u32) -> Option<WaitReading> {
    let mut counts = [0u64; 3];
    let mut in_tasks = 0;
    let mut any_task = false;
    let mut sites: HashMap<(WaitPrimitive, String, Option<String>, bool), u64> = HashMap::new();
    for (stack, count) in stacks {
        let mut frames = stack.split(';');
        let root = frames.next().unwrap_or_default();
        let _thread = frames.next();
        let frames: Vec<&str> = frames.collect();
        let in_task = in_async_task(&frames);
        any_task |= frames.iter().any(|f| f.contains("tokio::runtime::"));
        match root {
            ROOT_ON_CPU => counts[0] += count,
            ROOT_RUNQUEUE => counts[1] += count,
            ROOT_BLOCKED => {
                counts[2] += count;
                let site = classify(&frames, in_task);
                in_tasks += if site.3 { *count } else { 0 };
                *sites.entry(site).or_insert(0) += count;
            }
            _ => {}
        }
    }
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let blocked = counts[2];
    let mut sites: Vec<WaitSite> = sites
        .into_iter()
        .map(
            |((primitive, function, caller, in_async_task), samples)| WaitSite {
                primitive,
                function,
                caller,
                in_async_task,
                samples,
                share_of_blocked: samples as f64 / blocked as f64,
                share_of_time: samples as f64 / total as f64,
            },
        )
        .collect();
    sites.sort_by(|a, b| {
        b.samples
            .cmp(&a.samples)
            .then_with(|| a.function.cmp(&b.function))
            .then_with(|| a.caller.cmp(&b.caller))
    });
    let share = |n: u64| n as f64 / total as f64;
    Some(WaitReading {
        profile: WallProfile {
            asked_hz,
            samples: total,
            on_cpu_fraction: share(counts[0]),
            runqueue_fraction: share(counts[1]),
            blocked_fraction: share(blocked),
            blocked_in_tasks_fraction: any_task.then(|| share(in_tasks)),
        },
        sites,
    })
}

/// [`read`] per thread (the second frame): `corebench profile`'s table.
pub fn read_per_thread(stacks: &[(String, u64)]) -> BTreeMap<String, WaitReading> {
    let mut threads: BTreeMap<String, Vec<(String, u64)>> = BTreeMap::new();
    for (stack, count) in stacks {
        let thread = stack.split(';').nth(1).unwrap_or_default().to_string();
        threads
            .entry(thread)
            .or_default()
            .push((stack.clone(), *count));
    }
    threads
        .into_iter()
        .filter_map(|(thread, stacks)| Some((thread, read(&stacks, 0)?)))
        .collect()
}

/// Parses a folded file's text into (stack, count) pairs; lines that are
/// not `STACK COUNT` are skipped.
pub fn parse_folded(text: &str) -> Vec<(String, u64)> {
    text.lines()
        .filter_map(|line| {
            let (stack, count) = line.rsplit_once(' ')?;
            Some((stack.to_string(), count.parse().ok()?))
        })
        .collect()
}

/// A blocked sample's site: primitive, function, caller, in a task.
fn classify(frames: &[&str], in_task: bool) -> (WaitPrimitive, String, Option<String>, bool) {
    let syscall = frames.last().filter(|f| f.starts_with('['));
    let code: &[&str] = match syscall {
        Some(_) => &frames[..frames.len() - 1],
        None => frames,
    };
    let user = code.iter().rposition(|f| is_own_code(f));
    let library = &code[user.map_or(0, |u| u + 1)..];
    let primitive = primitive_of(library, syscall.copied(), in_task);
    // With no caller of its own (a runtime or pool thread with nothing to
    // run), the site is the innermost frame above the OS wrappers.
    let function = match user {
        Some(_) => library.first(),
        None => library
            .iter()
            .rev()
            .find(|f| f.contains("::") && !f.starts_with("std::sys::") && !f.starts_with("core::"))
            .or_else(|| library.iter().rev().find(|f| f.contains("::"))),
    }
    .or(syscall)
    .map_or_else(|| "?".to_string(), |f| f.to_string());
    let caller = user.map(|u| code[u].to_string());
    (primitive, function, caller, in_task)
}

/// Whether the innermost runtime frame is a task's poll: the thread was
/// running a task, not parked by its scheduler (whose own loop runs
/// inside a task of its own, further out).
fn in_async_task(frames: &[&str]) -> bool {
    frames
        .iter()
        .rev()
        .find(|f| f.contains("tokio::runtime::"))
        .is_some_and(|f| f.contains("::task::") || f.contains("::coop::"))
}

/// Whether a frame is the caller's own code, not a library's.
fn is_own_code(frame: &str) -> bool {
    let path = frame.trim_start_matches('<');
    path.contains("::") && !LIBRARY_CRATES.iter().any(|c| path.starts_with(c))
}

/// The primitive the library frames (outermost first) wait in.
fn primitive_of(library: &[&str], syscall: Option<&str>, in_task: bool) -> WaitPrimitive {
    let has = |word: &str| library.iter().any(|f| f.to_lowercase().contains(word));
    // A runtime or pool with nothing to run parks through condvars and
    // futexes of its own: that is idleness, not a lock.
    if (!in_task && has("tokio::runtime")) || has("rayon_core::sleep") {
        return WaitPrimitive::Park;
    }
    let by_frames = [
        ("barrier", WaitPrimitive::Barrier),
        ("channel", WaitPrimitive::Channel),
        ("mpsc", WaitPrimitive::Channel),
        ("mpmc", WaitPrimitive::Channel),
        ("flume", WaitPrimitive::Channel),
        ("condvar", WaitPrimitive::Condvar),
        ("rwlock", WaitPrimitive::Rwlock),
        ("mutex", WaitPrimitive::Mutex),
        ("lock_contended", WaitPrimitive::Mutex),
        ("thread::sleep", WaitPrimitive::Sleep),
        ("process::child", WaitPrimitive::ChildProcess),
        ("thread::park", WaitPrimitive::Park),
    ];
    if let Some((_, primitive)) = by_frames.iter().find(|(word, _)| has(word)) {
        return *primitive;
    }
    match syscall.unwrap_or_default() {
        "[futex]" => WaitPrimitive::Futex,
        "[read]" | "[recv]" => WaitPrimitive::IoRead,
        "[write]" | "[send]" | "[fsync]" => WaitPrimitive::IoWrite,
        "[poll]" | "[epoll_wait]" | "[accept]" => WaitPrimitive::IoReadiness,
        "[nanosleep]" => WaitPrimitive::Sleep,
        "[wait4]" => WaitPrimitive::ChildProcess,
        _ => WaitPrimitive::Other,
    }
}

/// A function's name as a reader wants it: the last `segments` parts of
/// its [`plain_name`], closures left out.
/// `<workloads::sync::counter::Op_as_workloads::WorkerOp>::run_op` with
/// 2 is `Op::run_op`.
pub fn short_name(name: &str, segments: usize) -> String {
    let plain = plain_name(name);
    let parts: Vec<&str> = plain
        .split("::")
        .filter(|p| !p.is_empty() && !p.starts_with('{'))
        .collect();
    parts[parts.len().saturating_sub(segments)..].join("::")
}

/// A function's path without generic arguments, and without the trait of
/// a trait method: `<alloc::boxed::Box<F> as core::ops::FnOnce<()>>::call_once`
/// is `alloc::boxed::Box::call_once` (the ` as ` may be folded to `_as_`).
pub fn plain_name(name: &str) -> String {
    let mut path = name.to_string();
    if path.starts_with('<') {
        if let Some(close) = matching_close(&path, 0) {
            let inner = &path[1..close];
            let at = [" as ", "_as_"]
                .iter()
                .filter_map(|sep| top_level_find(inner, sep))
                .min();
            let own = at.map_or(inner, |at| &inner[..at]);
            // `<&T as Read>::read`: the type is T.
            let own = own.trim_start_matches('&').trim_start_matches("mut ");
            let own = own.trim_start_matches("mut_");
            path = format!("{own}{}", &path[close + 1..]);
        }
    }
    let mut plain = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '<' => depth += 1,
            '>' if depth > 0 => depth -= 1,
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    // A turbofish (`wait_while::<F>`) leaves its separator behind.
    plain
        .replace("::::", "::")
        .trim_end_matches("::")
        .to_string()
}

/// Where `pattern` first occurs in `text` outside angle brackets.
fn top_level_find(text: &str, pattern: &str) -> Option<usize> {
    let mut depth = 0i32;
    for (i, c) in text.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            _ if depth == 0 && text[i..].starts_with(pattern) => return Some(i),
            _ => {}
        }
    }
    None
}

/// The index of the `>` closing the `<` at `open`.
fn matching_close(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0;
    for (i, c) in text.char_indices().skip(open) {
        match c {
            '<' => depth += 1,
            '>' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// A site in a sentence: "Barrier::wait called from amdahl::Amdahl::round".
pub fn site_phrase(site: &WaitSite) -> String {
    let function = short_name(&site.function, 2);
    if site.primitive == WaitPrimitive::Park && site.caller.is_none() {
        return format!("idle, parked in {function}");
    }
    match &site.caller {
        Some(caller) => format!("{function} called from {}", short_name(caller, 3)),
        None => function,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stacks(lines: &[(&str, u64)]) -> Vec<(String, u64)> {
        lines.iter().map(|(s, n)| (s.to_string(), *n)).collect()
    }

    #[test]
    fn a_barrier_wait_is_its_callers_site_and_the_shares_add_up() {
        let reading = read(
            &stacks(&[
                ("on-cpu;corebench-threads0;std::thread::run;workloads::synthetic::amdahl::spin", 6),
                ("blocked;corebench-threads1;std::thread::run;workloads::synthetic::amdahl::Amdahl::round;std::sync::barrier::Barrier::wait;std::sync::poison::condvar::Condvar::wait;std::sys::pal::unix::futex::futex_wait;[futex]", 3),
                ("runqueue;corebench-threads1;std::thread::run;workloads::synthetic::amdahl::spin", 1),
            ]),
            100,
        )
        .unwrap();
        assert_eq!(reading.profile.samples, 10);
        assert!((reading.profile.blocked_fraction - 0.3).abs() < 1e-9);
        assert!((reading.profile.runqueue_fraction - 0.1).abs() < 1e-9);
        let site = &reading.sites[0];
        assert_eq!(site.primitive, WaitPrimitive::Barrier);
        assert_eq!(site.function, "std::sync::barrier::Barrier::wait");
        assert_eq!(
            site.caller.as_deref(),
            Some("workloads::synthetic::amdahl::Amdahl::round")
        );
        assert!((site.share_of_blocked - 1.0).abs() < 1e-9);
        assert!((site.share_of_time - 0.3).abs() < 1e-9);
        assert_eq!(
            site_phrase(site),
            "Barrier::wait called from amdahl::Amdahl::round"
        );
        assert_eq!(reading.profile.blocked_in_tasks_fraction, None);
    }

    #[test]
    fn primitives_come_from_the_frames_first_and_the_syscall_last() {
        let one = |stack: &str| read(&stacks(&[(stack, 1)]), 0).unwrap().sites[0].primitive;
        assert_eq!(one("blocked;t;workloads::sync::counter::Op::run;std::sync::poison::mutex::Mutex<T>::lock;std::sys::sync::mutex::futex::Mutex::lock_contended;[futex]"), WaitPrimitive::Mutex);
        assert_eq!(one("blocked;t;workloads::comm::channel::send;crossbeam_channel::channel::Sender<T>::send;crossbeam_channel::context::Context::wait_until;std::thread::park;[futex]"), WaitPrimitive::Channel);
        assert_eq!(
            one("blocked;t;workloads::io::sleep::op;std::thread::sleep;[nanosleep]"),
            WaitPrimitive::Sleep
        );
        assert_eq!(one("blocked;t;workloads::io::client::get;<std::net::tcp::TcpStream_as_std::io::Read>::read;[recv]"), WaitPrimitive::IoRead);
        assert_eq!(one("blocked;t;std::thread::run;tokio::runtime::scheduler::multi_thread::worker::Context::park;std::sync::poison::condvar::Condvar::wait;[futex]"), WaitPrimitive::Park);
        assert_eq!(
            one("blocked;t;workloads::x::op;[syscall_999]"),
            WaitPrimitive::Other
        );
    }

    #[test]
    fn a_blocking_call_inside_a_task_is_marked_and_counted() {
        let reading = read(
            &stacks(&[
                ("blocked;corebench-tokio;tokio::runtime::task::raw::poll;workloads::io::sleep::op;std::thread::sleep;[nanosleep]", 3),
                ("blocked;corebench-tokio;tokio::runtime::task::raw::poll;tokio::runtime::scheduler::multi_thread::park::Parker::park;[epoll_wait]", 1),
            ]),
            100,
        )
        .unwrap();
        assert!(reading.sites[0].in_async_task);
        assert_eq!(reading.sites[0].primitive, WaitPrimitive::Sleep);
        assert_eq!(reading.sites[1].primitive, WaitPrimitive::Park);
        assert_eq!(reading.profile.blocked_in_tasks_fraction, Some(0.75));
    }

    #[test]
    fn short_names_drop_paths_generics_and_traits() {
        assert_eq!(
            short_name("std::sync::barrier::Barrier::wait", 2),
            "Barrier::wait"
        );
        assert_eq!(
            short_name(
                "<workloads::sync::counter::Op_as_workloads::WorkerOp>::run_op",
                2
            ),
            "Op::run_op"
        );
        assert_eq!(
            short_name("std::sync::poison::mutex::Mutex<T>::lock", 2),
            "Mutex::lock"
        );
        assert_eq!(short_name("workloads::x::{closure#0}", 2), "workloads::x");
        assert_eq!(
            plain_name("<alloc::boxed::Box<dyn FnOnce<(), Output = ()>> as core::ops::function::FnOnce<()>>::call_once"),
            "alloc::boxed::Box::call_once"
        );
        assert_eq!(plain_name("call_once<std::thread::X, ()>"), "call_once");
        assert_eq!(
            plain_name("std::sync::Condvar::wait_while::<F>"),
            "std::sync::Condvar::wait_while"
        );
        assert_eq!(parse_folded("a;b 3\nbad\n"), vec![("a;b".to_string(), 3)]);
    }
}
