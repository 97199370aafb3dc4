//! The CLI tests that check what a command does, not how fast it runs:
//! one test binary (one link, and its tests run side by side), a module
//! per subject. The tests that read how workers share the CPUs, or leave
//! threads spinning on them, are binaries of their own beside this folder
//! (`breakdown`, `disturbance`, `never_return`, `wall`), and so are
//! `reliability`, whose tests leave threads of abandoned trials behind,
//! and `alloc`, which installs a counting allocator: cargo runs one test
//! binary at a time, so those run with the machine to themselves.

mod common;
mod four_tests_per_cpu;

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
