//! Plans built from inputs, with known cells and errors.
use super::*;

fn model(name: &str) -> Model {
    name.parse().unwrap()
}

fn two_cpus() -> CpuSet {
    CpuSet::on_cores(&[0, 1])
}

fn input() -> PlanInput {
    PlanInput {
        profile: Profile::Quick,
        ..PlanInput::default()
    }
}

#[test]
fn auto_workers_doubles_and_ends_at_the_core_count() {
    assert_eq!(auto_workers(1), vec![1]);
    assert_eq!(auto_workers(2), vec![1, 2]);
    assert_eq!(auto_workers(6), vec![1, 2, 4, 6]);
    assert_eq!(auto_workers(64), vec![1, 2, 4, 8, 16, 32, 64]);
    assert_eq!(auto_io_workers(2), vec![1, 2, 4, 8, 16, 32, 64]);
    assert_eq!(auto_io_workers(6), vec![1, 2, 4, 6, 8, 16, 32, 64]);
    assert_eq!(auto_io_workers(96), vec![1, 2, 4, 8, 16, 32, 64, 96]);
}

#[test]
fn default_plan_has_every_profile_workload_and_model_and_seq_once() {
    let plan = Plan::build(&input(), two_cpus()).unwrap();
    // Five CPU workloads, io/http, and the calibration reference.
    assert_eq!(plan.workloads.len(), 7);
    assert_eq!(plan.models.len(), 7);
    let cells = plan.cells();
    // The reference first, then per CPU workload: seq at 1, six models
    // at 1 and 2; io/http: seq at 1, six models at 1, 2, 4, ..., 64.
    assert_eq!(cells.len(), 1 + 5 * (1 + 6 * 2) + (1 + 6 * 7));
    assert_eq!(
        plan.workloads[cells[0].workload].info().id,
        CALIBRATION_WORKLOAD
    );
    assert_eq!((cells[0].model, cells[0].workers), (model("seq"), 1));
    let without = Plan::build(
        &PlanInput {
            calibration: false,
            ..input()
        },
        two_cpus(),
    )
    .unwrap();
    assert_eq!(without.cells().len(), 5 * (1 + 6 * 2) + (1 + 6 * 7));
    assert!(cells
        .iter()
        .all(|c| c.model != model("seq") || c.workers == 1));
}

#[test]
fn bad_inputs_name_the_value_and_the_valid_ones() {
    let check = |f: &dyn Fn(&mut PlanInput), needle: &str| {
        let mut i = input();
        f(&mut i);
        let err = Plan::build(&i, two_cpus()).err().expect(needle).to_string();
        assert!(err.contains(needle), "{err} lacks {needle}");
    };
    check(&|i| i.workers = Some("0".into()), "'0'");
    check(&|i| i.workers = Some("two".into()), "'two'");
    check(&|i| i.models = Some("fibers".into()), "threads");
    check(&|i| i.workloads = Some("cpu/nope".into()), "cpu/primes");
    check(&|i| i.pin = "cores=7".into(), "available cores: 0,1");
    check(&|i| i.trials = Some(0), "--trials 0");
    check(&|i| i.runtime_threads = Some(0), "--runtime-threads 0");
    check(&|i| i.load = "open:0".into(), "'open:0'");
    check(&|i| i.load = "open:-5".into(), "RATE in ops per second > 0");
    check(&|i| i.load = "open".into(), "closed or open:RATE");
    check(&|i| i.load = "poisson:10".into(), "closed or open:RATE");
    check(&|i| i.load = "open:1e-300".into(), "past --trial-timeout-s");
    check(&|i| i.ops = Some(u64::MAX), "--ops 18446744073709551615");
    check(
        &|i| i.pin = "cores=0-99999999999".into(),
        "core 99999999999",
    );
}

#[test]
fn load_modes_parse() {
    assert_eq!("closed".parse::<LoadMode>().unwrap(), LoadMode::Closed);
    assert_eq!(
        "open:1000".parse::<LoadMode>().unwrap(),
        LoadMode::Open { rate_ops_s: 1000.0 }
    );
    assert_eq!(
        "open:2.5".parse::<LoadMode>().unwrap().to_string(),
        "open:2.5"
    );
}

#[test]
fn tokio_threads_default_to_min_of_workers_and_cores() {
    let plan = Plan::build(&input(), two_cpus()).unwrap();
    assert_eq!(plan.runtime_threads_for(model("tokio"), 1), Some(1));
    assert_eq!(plan.runtime_threads_for(model("tokio"), 8), Some(2));
    assert_eq!(plan.runtime_threads_for(model("tokio-current"), 8), Some(1));
    assert_eq!(plan.runtime_threads_for(model("threads"), 8), None);
}

#[test]
fn a_cgroup_quota_sets_the_auto_sweep() {
    let mut cpus = CpuSet::on_cores(&(0..64).collect::<Vec<u32>>());
    cpus.quota_cores = Some(2);
    let plan = Plan::build(&input(), cpus).unwrap();
    assert_eq!(plan.workers, vec![1, 2]);
    assert_eq!(plan.runtime_threads_for(model("tokio"), 8), Some(2));
}
