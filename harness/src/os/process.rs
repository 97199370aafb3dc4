//! This process's ties to its parent.

/// Asks the kernel to kill this process when the thread that started it
/// exits (`PR_SET_PDEATHSIG`), so a helper such as `corebench serve` never
/// outlives the run that needs it.
pub fn die_with_parent() {
    // SAFETY: PR_SET_PDEATHSIG takes a signal number and affects only this
    // process.
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
