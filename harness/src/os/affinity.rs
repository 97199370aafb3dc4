//! Affinity: which CPUs a thread may run on, read with `sched_getaffinity`
//! and set with `core_affinity` (one thread) or `sched_setaffinity` (the
//! calling thread's mask, which threads and children started later
//! inherit).

/// The calling thread's affinity mask, from `sched_getaffinity`.
// core_affinity can set affinity but has no documented way to read it back,
// which is the point here, so this one call goes to libc directly.
#[cfg(target_os = "linux")]
pub fn current_thread_affinity() -> Vec<usize> {
    // SAFETY: cpu_set_t is plain data; zeroed is a valid empty set, and the
    // size passed is the size of the set handed in.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&cpu| libc::CPU_ISSET(cpu, &set))
            .collect()
    }
}

/// Elsewhere the mask cannot be read: every CPU the standard library
/// counts.
#[cfg(not(target_os = "linux"))]
pub fn current_thread_affinity() -> Vec<usize> {
    (0..std::thread::available_parallelism().map_or(1, |n| n.get())).collect()
}

/// Pins the calling thread to one CPU; false when the OS refused.
pub fn pin_current_thread(cpu: usize) -> bool {
    core_affinity::set_for_current(core_affinity::CoreId { id: cpu })
}

/// Sets the calling thread's mask to `cpus`; every thread and child
/// process it starts afterwards inherits it. Each CPU must be below
/// `CPU_SETSIZE` (any CPU of the current mask is).
#[cfg(target_os = "linux")]
pub fn set_current_thread_mask(cpus: &[usize]) -> std::io::Result<()> {
    if let Some(bad) = cpus.iter().find(|&&c| c >= libc::CPU_SETSIZE as usize) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("cpu {bad} is beyond the kernel's CPU_SETSIZE"),
        ));
    }
    // SAFETY: cpu_set_t is plain data; every index set is below
    // CPU_SETSIZE (checked above).
    let result = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &cpu in cpus {
            libc::CPU_SET(cpu, &mut set);
        }
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    if result == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Elsewhere a mask cannot be set.
#[cfg(not(target_os = "linux"))]
pub fn set_current_thread_mask(_cpus: &[usize]) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "setting a CPU mask is Linux-only here",
    ))
}
