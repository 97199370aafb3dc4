//! `own-workload-example`: the corebench command line over this crate's
//! two workloads, e.g.
//! `cargo run --release -p own-workload-example -- run --models all --workers 1,2`.

fn main() -> std::process::ExitCode {
    own_workload_example::suite().main()
}
