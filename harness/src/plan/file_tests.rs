//! Plan files: every key round-trips, every shipped plan reads, and every
//! mistake is one line naming the file, the line and the key.
use super::*;

const EVERY_KEY: &str = r#"
title = "Every key"
question = "Does every key survive?"
look_at = "This test."
profile = "quick"
workloads = ["cpu/primes:span=100", "io/sleep:ms=1"]
models = ["seq", "threads"]
workers = [1, 2]
io_workers = [1, 2, 8]
pin = ["none"]
cores = "0-1"
scaling = "strong"
trials = 2
warmup = 0
ops = 100
target_trial_ms = 30
runtime_threads = 2
trial_timeout_s = 30.0
record = "batch"
calibration = false
load = "closed"
seed = 7
flamegraph_hz = 99
wall_profile_hz = 50

[disturbance]
on = "flag"
max_retries = 2
rule = "others=0.2"

[[exec]]
name = "echo"
variants = ["sh=sh -c 'echo {size}'"]
workers = [1]
trials = 2
warmup = 0
setup = ["true"]
prepare = ["true"]
cleanup = ["true"]
parameters = ["size=1,2"]
io_bound = true
trial_timeout_s = 5.0
"#;

#[test]
fn a_plan_file_with_every_key_round_trips() {
    let loaded = Loaded::parse(EVERY_KEY, "every.toml").unwrap();
    let text = to_text(&loaded.plan);
    let again = Loaded::parse(&text, "again.toml").unwrap();
    assert_eq!(loaded.plan, again.plan);
    let input = input_from(&loaded.plan, &Registry::builtin()).unwrap();
    assert_eq!(input.trials, Some(2));
    assert_eq!(input.io_workers.as_deref(), Some("1,2,8"));
    assert_eq!(input.recording, Recording::Batch);
    assert_eq!(input.disturbance.on_disturbance, OnDisturbance::Flag);
    assert_eq!(input.disturbance.rule.max_others_share, 0.2);
    assert_eq!(input.exec_programs, 1);
}

#[test]
fn every_shipped_plan_reads_and_names_real_workloads() {
    let registry = Registry::builtin();
    for plan in SHIPPED {
        let loaded = Loaded::parse(plan.text, plan.name).unwrap();
        input_from(&loaded.plan, &registry)
            .unwrap_or_else(|e| panic!("plans/{}.toml: {}", plan.name, e.message));
        assert!(
            loaded.plan.title.is_some(),
            "plans/{}.toml has no title",
            plan.name
        );
    }
    // Every file in plans/ is shipped.
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plans");
    for entry in std::fs::read_dir(folder).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let name = name.trim_end_matches(".toml");
        assert!(
            shipped(name).is_some(),
            "plans/{name}.toml is not in SHIPPED"
        );
    }
}

#[test]
fn the_profiles_are_their_plan_files() {
    assert_eq!(
        profile_defaults(Profile::Quick),
        (3, Duration::from_millis(90))
    );
    assert_eq!(
        profile_defaults(Profile::Default),
        (5, Duration::from_millis(450))
    );
    assert_eq!(
        profile_defaults(Profile::Full),
        (10, Duration::from_millis(1000))
    );
}

/// One line, naming the file, the line and the key, and the valid values.
fn mistake(text: &str, registry: &Registry) -> String {
    let error = match Loaded::parse(text, "bad.toml") {
        Err(e) => e.to_string(),
        Ok(loaded) => loaded
            .error(input_from(&loaded.plan, registry).unwrap_err())
            .to_string(),
    };
    assert!(!error.contains('\n'), "{error}");
    error
}

#[test]
fn each_mistake_is_one_line_with_file_line_and_key() {
    let registry = Registry::builtin();
    // One mistake a line: the file, the place it names, a valid value.
    #[rustfmt::skip]
    let cases = [
        ("trials = 2\nmodles = [\"threads\"]\n", "line 2, key modles", "models"),
        ("trials = \"five\"\n", "line 1, key trials", "u32"),
        ("title = \"x\"\nmodels = [\"thread\"]\n", "line 2, key models", "threads"),
        ("workloads = [\"cpu/nope\"]\n", "line 1, key workloads", "cpu/primes"),
        ("\nworkers = \"many\"\n", "line 2, key workers", "auto"),
        ("workers = [0]\n", "line 1, key workers", "from 1"),
        ("record = \"sometimes\"\n", "line 1, key record", "per-op, batch"),
        ("profile = \"fast\"\n", "line 1, key profile", "quick, default, full"),
        ("load = \"open:0\"\n", "line 1, key load", "closed"),
        ("[disturbance]\non = \"panic\"\n", "line 2, key disturbance.on", "retry"),
        ("pin = [\"everywhere\"]\n", "line 1, key pin", "compact"),
        ("workloads = []\n", "line 1, key workloads", "list"),
        ("ops = 0\n", "line 1, key ops", "from 1"),
        ("runtime_threads = 0\n", "line 1, key runtime_threads", "from 1"),
        ("target_trial_ms = 0\n", "line 1, key target_trial_ms", ">= 1"),
        ("flamegraph_hz = 0\n", "line 1, key flamegraph_hz", "from 1"),
    ];

    for (text, place, valid) in cases {
        let error = mistake(text, &registry);
        assert!(error.starts_with("bad plan file bad.toml"), "{error}");
        assert!(error.contains(place), "{place} not in: {error}");
        assert!(error.contains(valid), "{valid} not in: {error}");
    }
}

#[test]
fn a_line_is_found_in_the_right_exec_table() {
    let text = "[[exec]]\nname = \"a\"\nvariants = [\"x=true\"]\n\n[[exec]]\nname = \"b\"\nvariants = [\"bad\"]\n";
    assert_eq!(line_of(text, "variants", Some(1)), Some(7));
    assert_eq!(line_of(text, "name", Some(0)), Some(2));
}
