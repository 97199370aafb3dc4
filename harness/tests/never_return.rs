//! Ops that never return are contained: an op that computes forever is
//! moved to the idle scheduling class, so later cells measure beside it
//! unharmed, and every such thread is named; a workload whose op never
//! returned is not run again, so blocked threads do not pile up; an op
//! whose allocation fails fails its cell instead of aborting the run.
//! Every test runs the real binary on a tiny plan.

#[path = "cli/common/mod.rs"]
mod common;

use common::*;
use reports::schema::Status;

/// The spinning test runs alone: it reads how long workers waited for a
/// CPU, which the other tests' runs would lengthen. The others, which
/// check what fails, may run beside each other.
static SPINNING_ALONE: std::sync::RwLock<()> = std::sync::RwLock::new(());

type Ran = (tempfile::TempDir, std::path::PathBuf, std::process::Output);

/// [`run_exactly`] with no other test's run beside it.
fn run_alone(args: &[&str]) -> Ran {
    let _alone = SPINNING_ALONE.write().unwrap_or_else(|e| e.into_inner());
    run(args)
}

/// `corebench run` of exactly `args` (no default trials or ops) into a
/// fresh folder, never beside [`run_alone`]'s.
fn run_exactly(args: &[&str]) -> Ran {
    let _beside = SPINNING_ALONE.read().unwrap_or_else(|e| e.into_inner());
    run(args)
}

fn run(args: &[&str]) -> Ran {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let output = corebench()
        .args(["run", "--no-progress", "--no-calibration", "--out"])
        .arg(&out)
        .args(args)
        .output()
        .unwrap();
    (dir, out, output)
}

#[test]
fn a_spinning_op_is_demoted_named_and_leaves_later_cells_their_cpus() {
    // Two workers spin forever in the warm-up of the first cell; the
    // second cell is measured while they still spin. Workers are pinned
    // one per core: unpinned, the kernel at times kept both measured
    // workers on one core for a whole 40 ms trial while the other ran only
    // the idle-class spinners (1 run in 4 here, run-queue share 0.47), a
    // placement the product does not choose.
    let (_dir, out, output) = run_alone(&[
        "--workloads",
        "synthetic/faulty:mode=spin,cpu/primes",
        "--models",
        "threads",
        "--pin",
        "scatter",
        "--workers",
        "2",
        "--ops",
        "3000",
        "--trials",
        "3",
        "--trial-timeout-s",
        "1",
        "--keep-going",
    ]);
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let warning = stderr
        .lines()
        .find(|l| l.contains("warning: not clean"))
        .unwrap_or_else(|| panic!("a warning: {stderr}"));
    assert_eq!(
        warning.matches("(tid ").count(),
        2,
        "both spinning workers are named: {warning}"
    );
    assert!(warning.contains("idle scheduling class"), "{warning}");
    let folder = read(&out);
    let primes = records_of(&folder, "cpu/primes");
    assert_eq!(primes.len(), 3);
    let mut waits: Vec<f64> = primes
        .iter()
        .map(|r| {
            assert_eq!(r.status, Status::Ok, "{:?}", r.error);
            assert!(r.notes.iter().any(|n| n.contains("not clean")));
            r.breakdown.as_ref().unwrap().runqueue_fraction
        })
        .collect();
    waits.sort_by(f64::total_cmp);
    // Beside two spinners of equal priority, two workers on two cores
    // wait about half their time for a CPU; beside idle-class ones, hardly
    // at all.
    assert!(waits[1] < 0.2, "run-queue share of the workers: {waits:?}");
}

#[test]
fn a_workload_whose_op_never_returned_is_not_run_again() {
    let (_dir, out, output) = run_exactly(&[
        "--workloads",
        "synthetic/faulty:mode=hang",
        "--models",
        "threads,pool",
        "--workers",
        "1,2",
        "--ops",
        "100",
        "--trial-timeout-s",
        "1",
        "--keep-going",
    ]);
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let folder = read(&out);
    let records = records_of(&folder, "synthetic/faulty");
    assert_eq!(records.len(), 4, "one record per cell");
    let errors: Vec<&str> = records
        .iter()
        .map(|r| {
            assert_eq!(r.status, Status::Timeout);
            r.error.as_deref().unwrap_or("")
        })
        .collect();
    let abandoned = errors
        .iter()
        .filter(|e| e.contains("no result after"))
        .count();
    let not_run = errors
        .iter()
        .filter(|e| e.contains("not run: its op never returned under threads at 1 worker"))
        .count();
    assert_eq!((abandoned, not_run), (1, 3), "{errors:#?}");
}

#[test]
fn an_op_that_cannot_allocate_fails_its_cell_and_the_run_goes_on() {
    // No --ops: the op count is calibrated, and calibration meets the
    // failing allocation first. Quick trials, flagged if disturbed: this
    // checks what fails, not how fast the rest runs.
    let (_dir, out, output) = run_exactly(&[
        "--profile",
        "quick",
        "--on-disturbance",
        "flag",
        "--workloads",
        "synthetic/faulty:mode=alloc,at_op=3,cpu/primes:span=20",
        "--models",
        "seq,threads,pool,rayon,tokio,process",
        "--workers",
        "1",
        "--trials",
        "2",
        "--keep-going",
    ]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(out.join("report/index.html").is_file(), "{stderr}");
    let folder = read(&out);
    let faulty = records_of(&folder, "synthetic/faulty");
    assert_eq!(faulty.len(), 6, "one failed record per model");
    for record in faulty {
        assert_eq!(record.status, Status::Failed, "{}", record.model);
        let error = record.error.as_deref().unwrap_or("");
        let expected = if record.model == "process" {
            "SIGABRT"
        } else {
            "out of memory: an allocation of 70368744177664 bytes failed"
        };
        assert!(error.contains(expected), "{}: {error}", record.model);
    }
    let primes = records_of(&folder, "cpu/primes");
    assert_eq!(primes.len(), 12);
    assert!(primes.iter().all(|r| r.status == Status::Ok));
}
