//! The test binaries that include this module run four tests per CPU at
//! once (the CLI tests and `reliability`).

/// Four tests per CPU run at once unless `RUST_TEST_THREADS` says
/// otherwise. These tests spend much of their time waiting on the
/// processes they start (trial limits, sleeps, servers, Python), so
/// libtest's default of one per CPU left the CPUs half idle: here on 2
/// CPUs the CLI binary took 46 s at 2 at once and 30 s at 6, and
/// `reliability` 12 s and 8.3 s. With lighter tests, the CLI binary took
/// a median 15.9 s at 6 and 14.4 s at 8 (three runs each), and no less
/// at 12.
/// libtest reads its thread count before any test runs, with no hook of
/// its own, so this is set from `.init_array`, before `main`. The `ctor`
/// crate does the same through a proc-macro that every test build would
/// then compile, for these few lines. The test binaries that read how
/// workers share the CPUs keep libtest's default and do not use this.
#[used]
#[link_section = ".init_array"]
static FOUR_TESTS_PER_CPU: extern "C" fn() = four_tests_per_cpu;

extern "C" fn four_tests_per_cpu() {
    if std::env::var_os("RUST_TEST_THREADS").is_none() {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        // Before main: one thread, nothing else reading the environment.
        std::env::set_var("RUST_TEST_THREADS", (4 * cpus).to_string());
    }
}
