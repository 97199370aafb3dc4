//! `cargo bench -p own-workload-example`: the same suite as a
//! `harness = false` bench target. `cargo bench` passes `--bench`, which
//! the suite takes to mean `run`, so this writes a results folder and its
//! report under `corebench-results/`.

fn main() -> std::process::ExitCode {
    own_workload_example::suite().main()
}
