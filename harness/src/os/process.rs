//! This process's ties to its parent: `prctl`, so Linux-only; elsewhere
//! they do nothing, and a helper may outlive a killed run.

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
