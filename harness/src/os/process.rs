//! Processes: this one's ties to its parent (`prctl`, Linux-only;
//! elsewhere they do nothing, and a helper may outlive a killed run), and
//! the children `corebench exec` runs: waiting with `wait4`, killing
//! process groups, being their subreaper and ending what they leave.

/// Asks the kernel to kill this process when the thread that started it
/// exits (`PR_SET_PDEATHSIG`), so a helper such as `corebench serve` never
/// outlives the run that needs it.
pub fn die_with_parent() {
    // SAFETY: PR_SET_PDEATHSIG takes a signal number and affects only this
    // process.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        );
    }
}

/// Makes the child that `command` starts die with this process: it asks
/// the kernel for `SIGKILL` when its parent goes (`PR_SET_PDEATHSIG`, in
/// the child between fork and exec), and if the parent died before it
/// could ask (its parent pid is no longer ours), it ends at once. The
/// kernel's signal follows the spawning *thread*, so start children from a
/// thread that outlives them.
#[cfg(target_os = "linux")]
pub fn kill_with_parent(command: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs in the forked child before exec and calls
    // only async-signal-safe functions (prctl, getppid, _exit).
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

/// Elsewhere there is no `PR_SET_PDEATHSIG`.
#[cfg(not(target_os = "linux"))]
pub fn kill_with_parent(_command: &mut std::process::Command) {}

/// What `wait4` says a child used: its own and its waited-for
/// descendants' CPU time, and its peak resident set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChildUsage {
    /// User time, ns.
    pub user_ns: u64,
    /// System time, ns.
    pub sys_ns: u64,
    /// `ru_maxrss`, KiB.
    pub maxrss_kib: u64,
}

/// Reaps child `pid` with `wait4`: its raw wait status and usage, or
/// `None` while it runs (when not `blocking`) or when it is not ours.
pub fn wait4(pid: u32, blocking: bool) -> Option<(i32, ChildUsage)> {
    let mut status = 0;
    // SAFETY: rusage is plain data filled in by the call; pid is a child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let flags = if blocking { 0 } else { libc::WNOHANG };
    let reaped = unsafe { libc::wait4(pid as libc::pid_t, &mut status, flags, &mut usage) };
    if reaped != pid as libc::pid_t {
        return None;
    }
    let ns = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1_000;
    Some((
        status,
        ChildUsage {
            user_ns: ns(usage.ru_utime),
            sys_ns: ns(usage.ru_stime),
            maxrss_kib: usage.ru_maxrss.max(0) as u64,
        },
    ))
}

/// Blocks until child `pid` has exited, without reaping it
/// (`waitid(WEXITED | WNOWAIT)`): a later [`wait4`] still gets its status
/// and usage. Returns at once when it is not a child of ours.
pub fn wait_exit_nowait(pid: u32) {
    loop {
        // SAFETY: siginfo is plain data filled in by the call.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let done = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if done == 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return;
        }
    }
}

/// A pipe whose two ends close on exec: (read, write).
pub fn pipe() -> Option<(std::os::fd::OwnedFd, std::os::fd::OwnedFd)> {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two descriptors we then own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return None;
    }
    // SAFETY: both were just opened and are owned by nothing else.
    Some(unsafe {
        (
            std::os::fd::OwnedFd::from_raw_fd(fds[0]),
            std::os::fd::OwnedFd::from_raw_fd(fds[1]),
        )
    })
}

/// Why a wait status is a failure (`exited with status 3`, `was killed
/// by signal 9`), or `None` for a clean exit.
pub fn exit_failure(status: i32) -> Option<String> {
    if libc::WIFEXITED(status) {
        match libc::WEXITSTATUS(status) {
            0 => None,
            code => Some(format!("exited with status {code}")),
        }
    } else if libc::WIFSIGNALED(status) {
        Some(format!("was killed by signal {}", libc::WTERMSIG(status)))
    } else {
        Some(format!("ended with wait status {status}"))
    }
}

/// Sends SIGKILL to process group `group` (nothing if it is gone).
pub fn kill_group(group: u32) {
    // SAFETY: kill with a negative pid signals a process group.
    unsafe {
        libc::kill(-(group as libc::pid_t), libc::SIGKILL);
    }
}

/// Makes this process a child subreaper (`PR_SET_CHILD_SUBREAPER`):
/// descendants orphaned by a program that `exec` ran are handed to it,
/// so [`kill_orphans`] can find and end them.
#[cfg(target_os = "linux")]
pub fn become_subreaper() {
    // SAFETY: one integer argument; affects this process only.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0, 0, 0);
    }
}

/// Elsewhere there is no subreaper.
#[cfg(not(target_os = "linux"))]
pub fn become_subreaper() {}

/// How long [`kill_orphans`] keeps finding new orphans before it gives up
/// on a program that forks as fast as it is killed.
const ORPHAN_HUNT: std::time::Duration = std::time::Duration::from_secs(5);

/// Kills and reaps every child process this one has left but `spare`:
/// descendants a finished program left behind, which reached us as their
/// subreaper. Each one killed hands its own children to us, so this goes
/// on until none is left, at any depth (a chain of `setsid` escapees
/// included), within `ORPHAN_HUNT`. Each orphan's process group goes
/// with it. Only `exec` calls it, where every child but those in `spare`
/// (its guardian, and what ran before the programs: `run`'s loopback
/// server) is a program it ran.
pub fn kill_orphans(spare: &[u32]) {
    let me = std::process::id();
    let start = std::time::Instant::now();
    while start.elapsed() < ORPHAN_HUNT {
        let orphans: Vec<u32> = children_of(me)
            .into_iter()
            .filter(|pid| !spare.contains(pid))
            .collect();
        if orphans.is_empty() {
            return;
        }
        for pid in &orphans {
            // SAFETY: signals a child of ours (and the group it leads, if
            // it leads one), then reaps it.
            unsafe {
                libc::kill(-(*pid as libc::pid_t), libc::SIGKILL);
                libc::kill(*pid as libc::pid_t, libc::SIGKILL);
            }
            let _ = wait4(*pid, true);
        }
    }
}

/// Kills every process but this one whose environment holds `tag`
/// (`NAME=VALUE`), until none is left or `ORPHAN_HUNT` has passed:
/// what `exec`'s guardian does when corebench itself was killed, since the
/// orphans then go to another reaper and only the tag every descendant
/// inherits still finds them. Returns how many it killed.
pub fn kill_tagged(tag: &str) -> usize {
    let needle = format!("{tag}\0");
    let me = std::process::id();
    let start = std::time::Instant::now();
    let mut killed = 0;
    while start.elapsed() < ORPHAN_HUNT {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return killed;
        };
        let tagged: Vec<u32> = entries
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| *pid != me)
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/environ"))
                    .is_ok_and(|env| env.windows(needle.len()).any(|w| w == needle.as_bytes()))
            })
            .collect();
        if tagged.is_empty() {
            return killed;
        }
        for pid in tagged {
            // SAFETY: kill takes a pid and a signal.
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGKILL);
            }
            killed += 1;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    killed
}

/// The pids whose parent is `parent`, from `/proc/*/stat`.
pub fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    // The parent pid is field 4, after the state.
                    super::threads::stat_fields(&stat)?
                        .get(1)?
                        .parse::<u32>()
                        .ok()
                })
                == Some(parent)
        })
        .collect()
}
