//! Clocks shared across processes.

/// `CLOCK_MONOTONIC` in ns: one clock shared by every process on the
/// machine, so a parent can compare its children's timestamps with its own.
pub fn monotonic_ns() -> u64 {
    // SAFETY: timespec is plain data, filled in by the call.
    let ts = unsafe {
        let mut ts: libc::timespec = std::mem::zeroed();
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts);
        ts
    };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}
