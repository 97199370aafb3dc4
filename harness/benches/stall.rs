//! The coordinated-omission benchmark: `corebench run` (the real binary)
//! sends `io/http` at 1,000 ops/s for 2 s of open load while the loopback
//! server pauses every response for 100 ms once (at op 1,000), and prints
//! the p99 counted from each op's due time (corrected) against the p99
//! from each op's actual start (uncorrected, what a closed-loop client
//! reports). The corrected p99 must show the stall, at least 10x the
//! uncorrected one; the benchmark fails otherwise. Four workers, so the
//! handful of ops caught mid-request by the stall stay under 1% of the
//! 2,000 and the uncorrected p99 does not see it.
//!
//! `cargo bench -p corebench --bench stall`

use std::process::Command;

fn main() {
    let out = tempfile::tempdir().expect("temporary folder");
    let results = out.path().join("results");
    let status = Command::new(env!("CARGO_BIN_EXE_corebench"))
        .args([
            "run",
            "--workloads",
            "io/http:delay_ms=0,stall_ms=100,stall_at_op=1000",
            "--models",
            "threads,tokio",
            "--workers",
            "4",
            "--load",
            "open:1000",
            "--ops",
            "2000",
            "--trials",
            "3",
            "--no-calibration",
            "--no-progress",
        ])
        .arg("--out")
        .arg(&results)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("corebench runs");
    assert!(status.success(), "corebench run failed");
    let folder = reports::folder::ResultsFolder::open(&results).expect("results read");
    println!("model     trial  achieved ops/s  p99 corrected  p99 uncorrected  ratio  pacing p99  late starts");
    let mut worst_ratio = f64::INFINITY;
    for record in &folder.records {
        let corrected = record.latency.as_ref().expect("latency").p99_ns as f64;
        let open = record.open_loop.as_ref().expect("open-loop record");
        let uncorrected = open
            .uncorrected_latency
            .as_ref()
            .expect("uncorrected")
            .p99_ns as f64;
        let ratio = corrected / uncorrected;
        worst_ratio = worst_ratio.min(ratio);
        println!(
            "{:<9} {:>5}  {:>14.0}  {:>10.2} ms  {:>12.3} ms  {:>5.0}x  {:>7.1} µs  {:>11}",
            record.model,
            record.trial,
            record.throughput_ops_s,
            corrected / 1e6,
            uncorrected / 1e6,
            ratio,
            open.pacing_error
                .as_ref()
                .map_or(0.0, |p| p.p99_ns as f64 / 1e3),
            open.late_starts
        );
    }
    assert!(
        worst_ratio >= 10.0,
        "the corrected p99 must be at least 10x the uncorrected one; the worst trial gave {worst_ratio:.1}x"
    );
    println!("worst corrected/uncorrected p99 ratio: {worst_ratio:.0}x (must be >= 10x)");
}
