//! What a thread is doing at one moment, as the kernel shows it: on a CPU
//! (or waiting for one), or blocked, and in which syscall.
//! `/proc/self/task/TID/syscall` says `running` for a thread that is not
//! blocked, `-1 ...` for one blocked outside a syscall (a page fault), and
//! the syscall's number and arguments for one asleep in a syscall. Where
//! that file is missing (kernels without it), the state letter of `stat`
//! says only running or not.

use std::fs::File;
use std::os::unix::fs::FileExt;

/// A thread's state when the sampler looked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Running or runnable.
    Running,
    /// Asleep.
    Blocked {
        /// The syscall's number, or `None` outside one.
        syscall: Option<i64>,
    },
}

/// One thread's `/proc` file, kept open: `pread` at 0 re-reads it.
pub struct StateReader {
    file: Option<File>,
    tid: i32,
}

impl StateReader {
    /// Opens thread `tid`'s `syscall` file (or notes it cannot).
    pub fn open(tid: i32) -> Self {
        StateReader {
            file: File::open(format!("/proc/self/task/{tid}/syscall")).ok(),
            tid,
        }
    }

    /// The thread's state now; `None` when it has exited.
    pub fn read(&self) -> Option<Seen> {
        let mut buffer = [0u8; 256];
        match &self.file {
            Some(file) => {
                let read = file.read_at(&mut buffer, 0).ok()?;
                parse_syscall(std::str::from_utf8(&buffer[..read]).ok()?)
            }
            None => {
                let stat =
                    std::fs::read_to_string(format!("/proc/self/task/{}/stat", self.tid)).ok()?;
                let state = crate::os::threads::stat_fields(&stat)?
                    .first()?
                    .chars()
                    .next()?;
                Some(if state == 'R' {
                    Seen::Running
                } else {
                    Seen::Blocked { syscall: None }
                })
            }
        }
    }
}

/// Parses a `syscall` file.
fn parse_syscall(text: &str) -> Option<Seen> {
    let first = text.split_whitespace().next()?;
    if first == "running" {
        return Some(Seen::Running);
    }
    let nr: i64 = first.parse().ok()?;
    Some(Seen::Blocked {
        syscall: (nr >= 0).then_some(nr),
    })
}

/// The leaf frame a blocked sample gets for its syscall: `[futex]`,
/// `[read]`, ... (`[syscall_N]` for the rest, `[blocked]` outside one),
/// the way perf marks kernel frames. The wait-site reader
/// (`reports::waits`) reads the primitive from it where the user-space
/// frames do not say. No spaces: a folded line's count follows the last.
pub fn syscall_frame(syscall: Option<i64>) -> String {
    let Some(nr) = syscall else {
        return "[blocked]".to_string();
    };
    let name = match nr {
        n if n == libc::SYS_futex => "futex",
        n if n == libc::SYS_read || n == libc::SYS_readv || n == libc::SYS_pread64 => "read",
        n if n == libc::SYS_recvfrom || n == libc::SYS_recvmsg => "recv",
        n if n == libc::SYS_write || n == libc::SYS_writev || n == libc::SYS_pwrite64 => "write",
        n if n == libc::SYS_sendto || n == libc::SYS_sendmsg => "send",
        n if n == libc::SYS_ppoll || n == libc::SYS_pselect6 => "poll",
        n if n == libc::SYS_epoll_pwait => "epoll_wait",
        n if n == libc::SYS_clock_nanosleep => "nanosleep",
        n if n == libc::SYS_wait4 || n == libc::SYS_waitid => "wait4",
        n if n == libc::SYS_accept4 || n == libc::SYS_connect => "accept",
        n if n == libc::SYS_fsync || n == libc::SYS_fdatasync => "fsync",
        _ => return other_syscall_frame(nr),
    };
    format!("[{name}]")
}

/// The syscalls only some architectures have.
#[cfg(target_arch = "x86_64")]
fn other_syscall_frame(nr: i64) -> String {
    let name = match nr {
        n if n == libc::SYS_poll || n == libc::SYS_select => "poll",
        n if n == libc::SYS_epoll_wait => "epoll_wait",
        n if n == libc::SYS_nanosleep => "nanosleep",
        n if n == libc::SYS_accept => "accept",
        _ => return format!("[syscall_{nr}]"),
    };
    format!("[{name}]")
}

/// The syscalls only some architectures have.
#[cfg(not(target_arch = "x86_64"))]
fn other_syscall_frame(nr: i64) -> String {
    format!("[syscall_{nr}]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_running_blocked_and_blocked_outside_a_syscall() {
        assert_eq!(parse_syscall("running\n"), Some(Seen::Running));
        assert_eq!(
            parse_syscall("202 0x7f 0x80 0x1 0x0 0x0 0x0 0x7ffd 0x7fc3\n"),
            Some(Seen::Blocked {
                syscall: Some(libc::SYS_futex)
            })
        );
        assert_eq!(
            parse_syscall("-1 0x7ffd 0x7fc3\n"),
            Some(Seen::Blocked { syscall: None })
        );
        assert_eq!(parse_syscall(""), None);
        assert_eq!(syscall_frame(Some(libc::SYS_futex)), "[futex]");
        assert_eq!(syscall_frame(None), "[blocked]");
    }

    #[test]
    fn a_sleeping_thread_reads_as_blocked_in_its_sleep() {
        let (tid_sender, tid_receiver) = std::sync::mpsc::channel();
        let handle = std::thread::spawn(move || {
            tid_sender.send(crate::os::threads::current_tid()).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(300));
        });
        let tid = tid_receiver.recv().unwrap() as i32;
        let reader = StateReader::open(tid);
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(250);
        let mut seen = reader.read();
        while seen == Some(Seen::Running) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
            seen = reader.read();
        }
        let Some(Seen::Blocked { syscall }) = seen else {
            panic!("not seen asleep: {seen:?}");
        };
        assert_eq!(syscall_frame(syscall), "[nanosleep]");
        handle.join().unwrap();
    }
}
