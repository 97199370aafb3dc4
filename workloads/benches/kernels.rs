//! `cargo bench -p workloads`: the cost of one op of every profile workload
//! at its default parameters, so the op sizes DESIGN.md asks for (about
//! 5 µs or more) can be checked. `io/http` talks to a loopback server the
//! benchmark starts.

// criterion_group! generates undocumented public functions.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use workloads::io::server::LoopbackServer;
use workloads::{Registry, RunShape, Scaling};

fn one_op_of_every_workload(c: &mut Criterion) {
    let mut group = c.benchmark_group("workload_op");
    let server = LoopbackServer::start(1).expect("loopback server starts");
    let registry = Registry::builtin();
    for info in registry.infos().filter(|w| w.in_profiles) {
        let workload = registry.parse_spec(info.id).expect("defaults parse");
        let mut shape = RunShape::new(1, Scaling::Strong, 1_000_000);
        shape.io.server_url = Some(server.base_url());
        let shared = workload.prepare(shape).expect("one worker prepares");
        let mut op = shared.worker(0).expect("worker builds");
        let mut op_index = 0u64;
        group.bench_function(info.id, |b| {
            b.iter(|| {
                op_index += 1;
                black_box(op.run_op(black_box(op_index)).expect("op runs"))
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    targets = one_op_of_every_workload
}
criterion_main!(benches);
