//! One run of a foreign program: spawned in a process group of its own
//! with the run's CPU mask, timed from spawn to the moment it exits (a
//! thread blocked in `waitid` sees the exit at once), reaped with `wait4`
//! (so the CPU time of the whole child tree comes back), killed with its
//! group at the time limit or when corebench is asked to stop, and every
//! descendant that left the group found and killed too (corebench is a
//! child subreaper while `exec` runs).
//!
//! The program's stderr is read as it comes, in the same loop that
//! watches the clock, so neither a flood (only the last
//! [`STDERR_KEPT_BYTES`] are kept) nor a descendant that holds the pipe
//! open after the program exits can hold corebench past its limit.

use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::failure::Failure;
use crate::os::usage::CpuTime;

/// The most of a program's stderr kept in memory: the last 64 KiB.
pub const STDERR_KEPT_BYTES: usize = 64 << 10;
/// The most of a failed program's stderr a record keeps.
const STDERR_TAIL_BYTES: usize = 2000;
/// How long stderr is still read after the program is gone (and its
/// leftovers killed) before corebench stops waiting for its end.
const STDERR_GRACE: Duration = Duration::from_millis(200);
/// The most of a bad ops-file line an error quotes.
pub const BAD_LINE_SHOWN_BYTES: usize = 200;

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

/// The last bytes of a stream, at most `cap` of them, and how many came
/// in all.
#[derive(Debug)]
struct Tail {
    kept: std::collections::VecDeque<u8>,
    cap: usize,
    total: u64,
}

impl Tail {
    fn new(cap: usize) -> Tail {
        Tail {
            kept: std::collections::VecDeque::new(),
            cap,
            total: 0,
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        self.total += bytes.len() as u64;
        let bytes = &bytes[bytes.len().saturating_sub(self.cap)..];
        let overflow = (self.kept.len() + bytes.len()).saturating_sub(self.cap);
        self.kept.drain(..overflow);
        self.kept.extend(bytes);
    }

    /// `; stderr: ...` with the end of what came, or nothing, saying how
    /// much was cut.
    fn describe(&self) -> String {
        let bytes: Vec<u8> = self.kept.iter().copied().collect();
        tail_of(&bytes, self.total)
    }
}

/// How a run of the program ended, as far as waiting for it goes.
enum Ended {
    /// It exited: when, and its wait status and usage.
    Exited(Instant, i32, crate::os::process::ChildUsage),
    /// It was still running at the limit.
    TimedOut,
    /// corebench was asked to stop (SIGINT, SIGTERM).
    Stopped(i32),
}

/// Where a program's stdout goes (`exec --output`, `--show-output`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum StdoutTo {
    /// Nowhere (the default): printing costs the program nothing.
    #[default]
    Null,
    /// corebench's own stdout.
    Inherit,
    /// Appended to a file.
    Append(std::path::PathBuf),
    /// Into a file of its own, whose end a failure quotes.
    Capture(std::path::PathBuf),
}

impl StdoutTo {
    fn stdio(&self) -> std::io::Result<Stdio> {
        Ok(match self {
            StdoutTo::Null => Stdio::null(),
            StdoutTo::Inherit => Stdio::inherit(),
            StdoutTo::Append(path) => std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?
                .into(),
            StdoutTo::Capture(path) => std::fs::File::create(path)?.into(),
        })
    }

    /// The end of a captured stdout, for a failure's message.
    fn captured_tail(&self) -> String {
        let StdoutTo::Capture(path) = self else {
            return String::new();
        };
        let Ok(bytes) = read_tail(path, STDERR_TAIL_BYTES as u64) else {
            return String::new();
        };
        let text = String::from_utf8_lossy(&bytes);
        let text = text.trim();
        if text.is_empty() {
            "; its stdout was empty".to_string()
        } else {
            format!("; its stdout ended: {text}")
        }
    }
}

/// The last `max_bytes` of the file at `path`.
fn read_tail(path: &Path, max_bytes: u64) -> std::io::Result<Vec<u8>> {
    use std::io::{Seek, SeekFrom};
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(max_bytes)))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Runs `argv` with `env` added, on the CPUs in `mask` (all when empty),
/// for at most `limit`; `spare` are children of corebench's that are not
/// the program's (the run's guardian, `run`'s loopback server), which the
/// orphan hunt leaves alone.
/// `stdout` says where its output goes.
pub fn run_program(
    argv: &[String],
    env: &[(String, String)],
    mask: &[usize],
    limit: Duration,
    spare: &[u32],
    stdout: &StdoutTo,
) -> Result<ProgramRun, Failure> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| Failure::failed("the command is empty"))?;
    let mut command = Command::new(program);
    command
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(stdout.stdio().map_err(|e| {
            Failure::failed(format!(
                "could not open the program's output ({stdout:?}): {e}"
            ))
        })?)
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
    let mut tail = Tail::new(STDERR_KEPT_BYTES);
    let ended = watch(pid, start + limit, stderr.as_mut(), &mut tail);
    // Whatever it left behind goes with it: its group, and descendants
    // that left the group and were handed to us as their subreaper.
    crate::os::process::kill_group(pid);
    crate::os::process::kill_orphans(spare);
    let ended = match ended {
        Ended::Exited(at, status, usage) => Ended::Exited(at, status, usage),
        other => {
            let _ = crate::os::process::wait4(pid, true);
            other
        }
    };
    if let Some(stderr) = stderr.as_mut() {
        drain(stderr, &mut tail, Instant::now() + STDERR_GRACE);
    }
    drop(stderr);
    // Only a failure reads the captured stdout back.
    let described = || tail.describe() + &stdout.captured_tail();
    let (end, status, usage) = match ended {
        Ended::Exited(end, status, usage) => (end, status, usage),
        Ended::TimedOut => {
            return Err(Failure::timeout(format!(
                "no exit after {:.0} s; its process group was killed{}",
                limit.as_secs_f64(),
                described()
            )))
        }
        Ended::Stopped(signal) => {
            return Err(Failure::failed(format!(
                "stopped by {}; the program was killed",
                crate::interrupt::name(signal)
            )))
        }
    };
    if let Some(why) = crate::os::process::exit_failure(status) {
        return Err(Failure::failed(format!("the program {why}{}", described())));
    }
    Ok(ProgramRun {
        pid,
        wall_ns: end.duration_since(start).as_nanos() as u64,
        cpu: CpuTime {
            user_ns: usage.user_ns,
            sys_ns: usage.sys_ns,
        },
        maxrss_upper_bound_kib: usage.maxrss_kib,
        peak_kib: cgroup.as_ref().and_then(PeakCgroup::peak_kib),
    })
}

/// Watches the program until it exits, the deadline passes or corebench
/// is asked to stop, reading its stderr into `tail` meanwhile. A thread
/// blocked in `waitid(WNOWAIT)` notes the moment of exit and wakes this
/// loop by closing its end of a pipe; the child is reaped here, with its
/// usage.
fn watch(
    pid: u32,
    deadline: Instant,
    mut stderr: Option<&mut std::process::ChildStderr>,
    tail: &mut Tail,
) -> Ended {
    let Some((exit_read, exit_write)) = crate::os::process::pipe() else {
        return watch_by_polling(pid, deadline);
    };
    let waiter = std::thread::Builder::new()
        .name("corebench-exec-wait".into())
        .spawn(move || {
            crate::os::process::wait_exit_nowait(pid);
            let at = Instant::now();
            drop(exit_write);
            at
        });
    let Ok(waiter) = waiter else {
        return watch_by_polling(pid, deadline);
    };
    let mut stderr_open = stderr.is_some();
    loop {
        if let Some(signal) = crate::interrupt::requested() {
            return Ended::Stopped(signal);
        }
        let now = Instant::now();
        if now >= deadline {
            return Ended::TimedOut;
        }
        // Short waits, so a stop request is seen within 20 ms.
        let wait = (deadline - now).min(Duration::from_millis(20));
        let mut fds = vec![pollfd(exit_read.as_raw_fd())];
        if let (true, Some(stderr)) = (stderr_open, stderr.as_deref()) {
            fds.push(pollfd(stderr.as_raw_fd()));
        }
        poll(&mut fds, wait);
        if fds.len() > 1 && fds[1].revents != 0 {
            if let Some(stderr) = stderr.as_deref_mut() {
                stderr_open = read_some(stderr, tail);
            }
        }
        if fds[0].revents != 0 {
            let at = waiter.join().unwrap_or_else(|_| Instant::now());
            return match crate::os::process::wait4(pid, true) {
                Some((status, usage)) => Ended::Exited(at, status, usage),
                None => Ended::TimedOut,
            };
        }
    }
}

/// Where no thread or pipe can be had: wait by polling every 2 ms.
fn watch_by_polling(pid: u32, deadline: Instant) -> Ended {
    loop {
        if let Some((status, usage)) = crate::os::process::wait4(pid, false) {
            return Ended::Exited(Instant::now(), status, usage);
        }
        if let Some(signal) = crate::interrupt::requested() {
            return Ended::Stopped(signal);
        }
        if Instant::now() >= deadline {
            return Ended::TimedOut;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn pollfd(fd: i32) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

/// `poll(2)` for at most `wait`; an interrupted call counts as a timeout.
fn poll(fds: &mut [libc::pollfd], wait: Duration) {
    let ms = wait.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: fds is a valid slice of pollfd for the call's duration.
    unsafe {
        libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms);
    }
}

/// Reads what stderr has now into `tail`; `false` at its end.
fn read_some(stderr: &mut std::process::ChildStderr, tail: &mut Tail) -> bool {
    let mut buffer = [0u8; 16 << 10];
    match stderr.read(&mut buffer) {
        Ok(0) => false,
        Ok(n) => {
            tail.push(&buffer[..n]);
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => true,
        Err(_) => false,
    }
}

/// Reads stderr to its end, or until `deadline` when something still
/// holds it open.
fn drain(stderr: &mut std::process::ChildStderr, tail: &mut Tail, deadline: Instant) {
    loop {
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        let mut fds = [pollfd(stderr.as_raw_fd())];
        poll(&mut fds, deadline - now);
        if fds[0].revents == 0 || !read_some(stderr, tail) {
            return;
        }
    }
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

/// Reads the latencies a program wrote to its ops file, one number of
/// nanoseconds per line (blank lines skipped), line by line into
/// `record`; returns how many, or `None` when there is no file. A bad
/// line fails the trial, quoting at most [`BAD_LINE_SHOWN_BYTES`] of it.
pub fn read_ops_file(path: &Path, mut record: impl FnMut(u64)) -> Result<Option<u64>, Failure> {
    use reports::input::{open_regular, read_line_capped};
    let reading = |e: std::io::Error| Failure::failed(format!("reading {}: {e}", path.display()));
    let file = match open_regular(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(reading(e)),
    };
    let mut reader = std::io::BufReader::new(file);
    let mut line = Vec::new();
    let mut count = 0u64;
    let mut number = 0;
    // A line is kept up to a bound: a number needs a few dozen bytes, and
    // a garbage line must not be held whole.
    while let Some(read) =
        read_line_capped(&mut reader, &mut line, BAD_LINE_SHOWN_BYTES).map_err(reading)?
    {
        number += 1;
        let complete = !read.cut(BAD_LINE_SHOWN_BYTES);
        let text = String::from_utf8_lossy(&line);
        let trimmed = text.trim();
        if complete && trimmed.is_empty() {
            continue;
        }
        let ns = complete
            .then(|| trimmed.parse::<f64>().ok())
            .flatten()
            .filter(|v| v.is_finite() && *v >= 0.0);
        match ns {
            Some(ns) => {
                record(ns.round() as u64);
                count += 1;
            }
            None => {
                let cut = if complete {
                    String::new()
                } else {
                    format!(
                        "… ({} bytes in all; the first {BAD_LINE_SHOWN_BYTES} shown)",
                        read.len_bytes
                    )
                };
                return Err(Failure::failed(format!(
                    "{}:{number}: '{trimmed}'{cut} is not a latency in nanoseconds",
                    path.display(),
                )));
            }
        }
    }
    Ok((count > 0).then_some(count))
}

/// `; stderr: ...` with the end of `stderr` (of `total` bytes that came),
/// or nothing, saying what was cut.
fn tail_of(stderr: &[u8], total: u64) -> String {
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
    let note = if cut > 0 || total > stderr.len() as u64 {
        format!(" (the last {} of {total} bytes)", text.len() - cut)
    } else {
        String::new()
    };
    format!(
        "; stderr{note}: {}{}",
        if cut > 0 || total > stderr.len() as u64 {
            "…"
        } else {
            ""
        },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stderr_tail_keeps_the_end() {
        assert_eq!(tail_of(b"  \n", 3), "");
        let long = "x".repeat(3000) + "the end";
        let tail = tail_of(long.as_bytes(), long.len() as u64);
        assert!(tail.ends_with("the end"), "{tail}");
        assert!(
            tail.starts_with("; stderr (the last 2000 of 3007 bytes): …"),
            "{tail}"
        );
        assert!(tail.len() < 2100);
        let mut kept = Tail::new(10);
        kept.push(b"0123456789abc");
        kept.push(b"de");
        assert_eq!(kept.kept.iter().copied().collect::<Vec<_>>(), b"56789abcde");
        assert_eq!(kept.total, 15);
    }

    #[test]
    fn an_ops_file_holds_one_latency_per_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ops");
        let read = |path: &Path| {
            let mut seen = Vec::new();
            read_ops_file(path, |ns| seen.push(ns)).map(|count| count.map(|_| seen))
        };
        assert_eq!(read(&path).unwrap(), None);
        std::fs::write(&path, "100\n\n2.5e3\n").unwrap();
        assert_eq!(read(&path).unwrap(), Some(vec![100, 2500]));
        std::fs::write(&path, "100\nfast\n").unwrap();
        assert!(read(&path).unwrap_err().message.contains(":2: 'fast'"));
        let garbage = "x".repeat(1 << 20);
        std::fs::write(&path, format!("100\n{garbage}\n200\n")).unwrap();
        let message = read(&path).unwrap_err().message;
        assert!(message.len() < 400, "{}", message.len());
        assert!(
            message.contains(":2: 'xxx") && message.contains("1048576 bytes in all"),
            "{message}"
        );
    }
}
