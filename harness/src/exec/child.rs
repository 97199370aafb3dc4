//! One run of a foreign program: spawned in a process group of its own
//! with the run's CPU mask, waited for with `wait4` (so the CPU time of
//! the whole child tree comes back), killed with its group at the time
//! limit, and every descendant that left the group found and killed too
//! (corebench is a child subreaper while `exec` runs).

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::failure::Failure;
use crate::os::usage::CpuTime;

/// The most of a failed program's stderr a record keeps.
const STDERR_TAIL_BYTES: usize = 2000;

/// What one run of the program measured.
#[derive(Debug, Clone)]
pub struct ProgramRun {
    /// Its pid.
    pub pid: u32,
    /// From spawn to exit, ns.
    pub wall_ns: u64,
    /// The child tree's CPU time (`wait4` rusage).
    pub cpu: CpuTime,
    /// `ru_maxrss` of the child, KiB: an upper bound, since a forked child
    /// starts from corebench's own peak and exec keeps it.
    pub maxrss_upper_bound_kib: u64,
    /// The child tree's exact peak memory, KiB, from `memory.peak` of a
    /// cgroup of its own, where one could be made.
    pub peak_kib: Option<u64>,
}

/// Runs `argv` with `env` added, on the CPUs in `mask` (all when empty),
/// for at most `limit`.
pub fn run_program(
    argv: &[String],
    env: &[(String, String)],
    mask: &[usize],
    limit: Duration,
) -> Result<ProgramRun, Failure> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| Failure::failed("the command is empty"))?;
    let mut command = Command::new(program);
    command
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    set_up_child(&mut command, mask.to_vec());
    let cgroup = PeakCgroup::create();
    if let Some(cgroup) = &cgroup {
        cgroup.join_in_child(&mut command);
    }
    let start = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| Failure::failed(format!("could not start '{program}': {e}")))?;
    let pid = child.id();
    let mut stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        if let Some(stderr) = stderr.as_mut() {
            let _ = stderr.read_to_end(&mut text);
        }
        text
    });
    let waited = wait_with_limit(pid, start + limit);
    let wall_ns = start.elapsed().as_nanos() as u64;
    // Whatever it left behind goes with it: its group, and descendants
    // that left the group and were handed to us as their subreaper.
    crate::os::process::kill_group(pid);
    crate::os::process::kill_orphans();
    let stderr = reader.join().unwrap_or_default();
    let tail = tail_of(&stderr);
    let (status, usage) = match waited {
        Some(result) => result,
        None => {
            return Err(Failure::timeout(format!(
                "no exit after {:.0} s; its process group was killed{tail}",
                limit.as_secs_f64()
            )))
        }
    };
    if let Some(why) = crate::os::process::exit_failure(status) {
        return Err(Failure::failed(format!("the program {why}{tail}")));
    }
    Ok(ProgramRun {
        pid,
        wall_ns,
        cpu: CpuTime {
            user_ns: usage.user_ns,
            sys_ns: usage.sys_ns,
        },
        maxrss_upper_bound_kib: usage.maxrss_kib,
        peak_kib: cgroup.as_ref().and_then(PeakCgroup::peak_kib),
    })
}

/// A cgroup v2 of its own for one run of the program, made where this
/// process may make one with the memory controller on (its cgroup's
/// `cgroup.subtree_control` lists `memory`): its `memory.peak` is then the
/// exact peak of the program's whole tree. Removed on drop. Elsewhere
/// (cgroup v1, as on the VM this was written on, or no delegation) there
/// is none, and only the `ru_maxrss` upper bound is recorded.
struct PeakCgroup {
    dir: std::path::PathBuf,
    procs: std::ffi::CString,
}

impl PeakCgroup {
    fn create() -> Option<PeakCgroup> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
        let path = own.lines().find_map(|l| l.strip_prefix("0::"))?;
        let parent = Path::new("/sys/fs/cgroup").join(path.trim_start_matches('/'));
        let controls = std::fs::read_to_string(parent.join("cgroup.subtree_control")).ok()?;
        if !controls.split_whitespace().any(|c| c == "memory") {
            return None;
        }
        let dir = parent.join(format!(
            "corebench-exec-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&dir).ok()?;
        let cgroup = PeakCgroup {
            procs: std::ffi::CString::new(
                dir.join("cgroup.procs")
                    .into_os_string()
                    .into_encoded_bytes(),
            )
            .ok()?,
            dir,
        };
        cgroup.dir.join("memory.peak").exists().then_some(cgroup)
    }

    /// Moves the child into the cgroup between fork and exec, so all it
    /// starts is counted.
    fn join_in_child(&self, command: &mut Command) {
        use std::os::unix::process::CommandExt;
        let procs = self.procs.clone();
        // SAFETY: open, write and close are async-signal-safe; the path
        // was built before the fork.
        unsafe {
            command.pre_exec(move || {
                let fd = libc::open(procs.as_ptr(), libc::O_WRONLY);
                if fd < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                let written = libc::write(fd, b"0".as_ptr().cast(), 1);
                libc::close(fd);
                if written != 1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }

    fn peak_kib(&self) -> Option<u64> {
        let bytes: u64 = std::fs::read_to_string(self.dir.join("memory.peak"))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        Some(bytes / 1024)
    }
}

impl Drop for PeakCgroup {
    fn drop(&mut self) {
        // Empty by now: the program and everything it left were killed.
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// Reads the latencies a program wrote to its ops file: one number of
/// nanoseconds per line (blank lines skipped).
pub fn read_ops_file(path: &Path) -> Result<Option<Vec<u64>>, Failure> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Failure::failed(format!("reading {}: {e}", path.display()))),
    };
    let mut latencies = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let ns = line
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0);
        match ns {
            Some(ns) => latencies.push(ns.round() as u64),
            None => {
                return Err(Failure::failed(format!(
                    "{}:{}: '{line}' is not a latency in nanoseconds",
                    path.display(),
                    number + 1
                )))
            }
        }
    }
    Ok((!latencies.is_empty()).then_some(latencies))
}

/// `; stderr: ...` with the end of `stderr`, or nothing.
fn tail_of(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    let cut = text
        .char_indices()
        .map(|(i, _)| i)
        .find(|&i| text.len() - i <= STDERR_TAIL_BYTES)
        .unwrap_or(0);
    format!(
        "; stderr: {}{}",
        if cut > 0 { "…" } else { "" },
        &text[cut..]
    )
}

/// In the child between fork and exec: a process group of its own and
/// the CPU mask, which every thread it starts inherits.
fn set_up_child(command: &mut Command, mask: Vec<usize>) {
    use std::os::unix::process::CommandExt;
    command.process_group(0);
    crate::os::process::kill_with_parent(command);
    if !mask.is_empty() {
        // SAFETY: sched_setaffinity on the calling (child) process only,
        // with a set built before the fork; no allocation in the child.
        #[cfg(target_os = "linux")]
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            for &cpu in &mask {
                libc::CPU_SET(cpu, &mut set);
            }
            command.pre_exec(move || {
                if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
}

/// Waits for `pid` until `deadline`; `None` when it was still running
/// (it is then killed and reaped).
fn wait_with_limit(pid: u32, deadline: Instant) -> Option<(i32, crate::os::process::ChildUsage)> {
    loop {
        if let Some(done) = crate::os::process::wait4(pid, false) {
            return Some(done);
        }
        if Instant::now() >= deadline {
            crate::os::process::kill_group(pid);
            let _ = crate::os::process::wait4(pid, true);
            return None;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stderr_tail_keeps_the_end() {
        assert_eq!(tail_of(b"  \n"), "");
        let long = "x".repeat(3000) + "the end";
        let tail = tail_of(long.as_bytes());
        assert!(tail.ends_with("the end") && tail.starts_with("; stderr: …"));
        assert!(tail.len() < 2100);
    }

    #[test]
    fn an_ops_file_holds_one_latency_per_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ops");
        assert_eq!(read_ops_file(&path).unwrap(), None);
        std::fs::write(&path, "100\n\n2.5e3\n").unwrap();
        assert_eq!(read_ops_file(&path).unwrap(), Some(vec![100, 2500]));
        std::fs::write(&path, "100\nfast\n").unwrap();
        assert!(read_ops_file(&path)
            .unwrap_err()
            .message
            .contains(":2: 'fast'"));
    }
}
