//! The CLI tests that check what a command does, not how fast it runs:
//! one test binary (one link, and its tests run side by side), a module
//! per subject. The tests that read how workers share the CPUs, or leave
//! threads spinning on them, are binaries of their own beside this folder
//! (`breakdown`, `disturbance`, `never_return`, `reliability`), and so is
//! `alloc`, which installs a counting allocator: cargo runs one test
//! binary at a time, so those run with the machine to themselves.

mod common;

mod commands;
mod exec;
mod exec_safety;
mod failures;
mod fuzz;
mod human;
mod io;
mod models;
mod out_folder;
mod plans;
mod stream;
mod sync;
mod untrusted_input;

/// Three tests per CPU run at once unless `RUST_TEST_THREADS` says
/// otherwise. These tests spend most of their time waiting on the
/// processes they start (trial limits, sleeps, servers, Python), so
/// libtest's default of one per CPU left the CPUs half idle: this binary
/// took 46 s at 2 at once and 30 s at 6, here on 2 CPUs.
/// libtest reads its thread count before any test runs, with no hook of
/// its own, so this is set from `.init_array`, before `main`. The `ctor`
/// crate does the same through a proc-macro that every test build would
/// then compile, for these few lines. The tests that need the CPUs to
/// themselves are other binaries (above), which keep libtest's default.
#[used]
#[link_section = ".init_array"]
static THREE_TESTS_PER_CPU: extern "C" fn() = three_tests_per_cpu;

extern "C" fn three_tests_per_cpu() {
    if std::env::var_os("RUST_TEST_THREADS").is_none() {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        // Before main: one thread, nothing else reading the environment.
        std::env::set_var("RUST_TEST_THREADS", (3 * cpus).to_string());
    }
}
