//! This process's threads as the kernel sees them, from `/proc/self/task`:
//! which exist, and whether one is on a CPU (state `R`).

use std::fs;

/// The ids of this process's threads now.
pub fn thread_ids() -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    let mut ids: Vec<u32> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    ids.sort_unstable();
    ids
}

/// The calling thread's id.
#[cfg(target_os = "linux")]
pub fn current_tid() -> u32 {
    // SAFETY: gettid has no arguments and cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) as u32 }
}

/// Elsewhere: a number of corebench's own, unique per thread, which only
/// matches threads up (there is no `/proc/self/task` to read).
#[cfg(not(target_os = "linux"))]
pub fn current_tid() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(1);
    thread_local!(static TID: u32 = NEXT.fetch_add(1, Ordering::Relaxed));
    TID.with(|tid| *tid)
}

/// One thread's scheduler state and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadState {
    /// The thread id.
    pub tid: u32,
    /// Its name (`comm`), e.g. `corebench-threads0`.
    pub name: String,
    /// The state letter: `R` running or runnable, `S` sleeping, `D` in
    /// uninterruptible wait, ...
    pub state: char,
}

impl ThreadState {
    /// Whether it is on a CPU or waiting for one: it still costs CPU time.
    pub fn is_running(&self) -> bool {
        self.state == 'R'
    }
}

/// Moves thread `tid` of this process to the idle scheduling class
/// (`SCHED_IDLE`, and nice 19 where that is refused), so it runs only on
/// a CPU no other thread wants: what the supervisor does with threads it
/// abandoned and cannot stop. Whether the kernel took it.
#[cfg(target_os = "linux")]
pub fn demote(tid: u32) -> bool {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: plain syscalls on a thread id of this process; a thread that
    // has exited meanwhile makes them fail with ESRCH, which is harmless.
    unsafe {
        let idle = libc::sched_setscheduler(tid as libc::pid_t, libc::SCHED_IDLE, &param) == 0;
        let nice = libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 19) == 0;
        idle || nice
    }
}

/// Elsewhere there is no per-thread scheduling class to change.
#[cfg(not(target_os = "linux"))]
pub fn demote(_tid: u32) -> bool {
    false
}

/// The time thread `tid` of this process has spent on a CPU so far, ns
/// (the first field of its `schedstat`, exact where the tick counts of
/// `stat` are 10 ms coarse), or `None` when it has exited.
pub fn on_cpu_ns(tid: u32) -> Option<u64> {
    let text = fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")).ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Thread `tid` of this process, or `None` when it has exited.
pub fn thread_state(tid: u32) -> Option<ThreadState> {
    let stat = fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
    parse_stat(tid, &stat)
}

/// The fields of a `/proc/.../stat` line after the command name, the
/// state (field 3 of proc(5)) first, so field N is at index N - 3. The name
/// may hold spaces and parentheses, so it ends at the last `)`.
pub fn stat_fields(stat: &str) -> Option<Vec<&str>> {
    Some(
        stat.get(stat.rfind(')')? + 1..)?
            .split_whitespace()
            .collect(),
    )
}

/// Parses `TID (NAME) STATE ...`.
fn parse_stat(tid: u32, stat: &str) -> Option<ThreadState> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?.to_string();
    let state = stat_fields(stat)?.first()?.chars().next()?;
    Some(ThreadState { tid, name, state })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_with_spaces_and_parentheses() {
        let state = parse_stat(7, "7 (a (b) c) R 1 2 3").unwrap();
        assert_eq!((state.name.as_str(), state.state), ("a (b) c", 'R'));
        assert!(state.is_running());
        assert!(parse_stat(7, "garbage").is_none());
    }

    #[test]
    fn a_sleeping_thread_is_seen_as_not_running_and_an_ended_one_as_gone() {
        let (sender, receiver) = std::sync::mpsc::channel::<()>();
        let (tid_sender, tid_receiver) = std::sync::mpsc::channel();
        let handle = std::thread::spawn(move || {
            tid_sender.send(current_tid()).unwrap();
            let _ = receiver.recv();
        });
        let tid = tid_receiver.recv().unwrap();
        assert!(thread_ids().contains(&tid));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while thread_state(tid).is_some_and(|s| s.is_running()) {
            assert!(std::time::Instant::now() < deadline, "never went to sleep");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        drop(sender);
        handle.join().unwrap();
        assert!(thread_state(tid).is_none());
    }
}
