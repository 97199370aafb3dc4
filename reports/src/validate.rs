//! The schema's own check of every record read back: values are finite,
//! counts and times are positive where a measurement needs them, and the
//! record agrees with itself (throughput is ops over wall time, the
//! histogram holds the ops, the workers' ops add up). The rules depend on
//! the status: an `unsupported` record measured nothing (no ops, `wall_ns`
//! 0), an `ok` one needs positive wall time and ops. A record that breaks a
//! rule names the field; [`crate::folder`] adds the file and line.

use crate::histogram::decode;
use crate::schema::{Host, LatencySummary, Record, Status};

/// Why a record (or host.json) is not valid: the field, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The field, as the schema names it (`throughput_ops_s`,
    /// `latency.p99_ns`, `per_worker`).
    pub field: String,
    /// What is wrong with it.
    pub problem: String,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "field `{}`: {}", self.field, self.problem)
    }
}

fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Invalid {
    Invalid {
        field: field.into(),
        problem: problem.into(),
    }
}

/// Relative slack allowed between `throughput_ops_s` and ops / wall time.
const THROUGHPUT_SLACK: f64 = 1e-6;

/// Checks one record against the schema's rules.
pub fn validate_record(record: &Record) -> Result<(), Invalid> {
    if record.workers == 0 {
        return Err(invalid("workers", "is 0; a cell has at least one worker"));
    }
    finite("throughput_ops_s", record.throughput_ops_s)?;
    if record.throughput_ops_s < 0.0 {
        return Err(invalid("throughput_ops_s", "is negative"));
    }
    match record.status {
        Status::Unsupported => {
            if record.ops != 0 || record.wall_ns != 0 {
                return Err(invalid(
                    "ops",
                    "an unsupported record measured nothing: ops and wall_ns must be 0",
                ));
            }
        }
        Status::Ok => {
            if record.ops == 0 {
                return Err(invalid("ops", "is 0 in an ok record"));
            }
            if record.wall_ns == 0 {
                return Err(invalid("wall_ns", "is 0 in an ok record"));
            }
            let expected = record.ops as f64 / (record.wall_ns as f64 / 1e9);
            if (record.throughput_ops_s - expected).abs() > THROUGHPUT_SLACK * expected {
                return Err(invalid(
                    "throughput_ops_s",
                    format!(
                        "is {} but ops / wall time is {expected}",
                        record.throughput_ops_s
                    ),
                ));
            }
            let histogram = record
                .histogram
                .as_deref()
                .ok_or_else(|| invalid("histogram", "is missing from an ok record"))?;
            let histogram = decode(histogram).map_err(|e| invalid("histogram", e.to_string()))?;
            if histogram.len() != record.ops {
                return Err(invalid(
                    "histogram",
                    format!(
                        "holds {} ops, not the {} recorded",
                        histogram.len(),
                        record.ops
                    ),
                ));
            }
            if !record.per_worker.is_empty() {
                let sum: u64 = record.per_worker.iter().map(|w| w.ops).sum();
                if sum != record.ops {
                    return Err(invalid(
                        "per_worker",
                        format!("ops add up to {sum}, not the {} recorded", record.ops),
                    ));
                }
            }
        }
        Status::Failed | Status::Timeout | Status::Deadlocked => {}
    }
    if let Some(latency) = &record.latency {
        latency_summary("latency", latency)?;
    }
    for (name, encoded) in &record.workload_histograms {
        decode(encoded)
            .map_err(|e| invalid(format!("workload_histograms.{name}"), e.to_string()))?;
    }
    for (name, value) in &record.counters {
        finite(&format!("counters.{name}"), *value)?;
    }
    if let Some(floor) = record.model_overhead.dispatch_floor_ns {
        positive("model_overhead.dispatch_floor_ns", floor)?;
    }
    if let Some(fairness) = &record.fairness {
        finite("fairness.jain_index", fairness.jain_index)?;
        if let Some(ratio) = fairness.max_min_ratio {
            positive("fairness.max_min_ratio", ratio)?;
        }
    }
    if let Some(open) = &record.open_loop {
        positive("open_loop.requested_rate_ops_s", open.requested_rate_ops_s)?;
        for (field, summary) in [
            ("open_loop.uncorrected_latency", &open.uncorrected_latency),
            ("open_loop.pacing_error", &open.pacing_error),
        ] {
            if let Some(summary) = summary {
                latency_summary(field, summary)?;
            }
        }
    }
    Ok(())
}

/// Checks host.json's few rules.
pub fn validate_host(host: &Host) -> Result<(), Invalid> {
    if host.logical_cores == 0 {
        return Err(invalid("logical_cores", "is 0"));
    }
    Ok(())
}

fn finite(field: &str, value: f64) -> Result<(), Invalid> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(invalid(field, format!("{value} is not a finite number")))
    }
}

fn positive(field: &str, value: f64) -> Result<(), Invalid> {
    finite(field, value)?;
    if value > 0.0 {
        Ok(())
    } else {
        Err(invalid(field, format!("{value} is not positive")))
    }
}

fn latency_summary(field: &str, s: &LatencySummary) -> Result<(), Invalid> {
    finite(&format!("{field}.mean_ns"), s.mean_ns)?;
    let order = [
        ("min_ns", s.min_ns),
        ("p50_ns", s.p50_ns),
        ("p90_ns", s.p90_ns),
        ("p99_ns", s.p99_ns),
        ("p99_9_ns", s.p99_9_ns),
        ("max_ns", s.max_ns),
    ];
    for pair in order.windows(2) {
        if pair[0].1 > pair[1].1 {
            return Err(invalid(
                format!("{field}.{}", pair[1].0),
                format!("{} is below {} {}", pair[1].1, pair[0].0, pair[0].1),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::test_record;

    fn ok() -> Record {
        let mut record = test_record("threads", 2, 1_000_000, "strong", Status::Ok);
        let mut histogram = hdrhistogram::Histogram::<u64>::new(3).unwrap();
        histogram.record_n(1000, record.ops).unwrap();
        record.histogram = Some(crate::histogram::encode(&histogram).unwrap());
        record.per_worker.clear();
        record
    }

    #[test]
    fn a_consistent_record_passes_and_each_broken_rule_names_its_field() {
        validate_record(&ok()).unwrap();
        type Break = Box<dyn Fn(&mut Record)>;
        let broken: Vec<(&str, Break)> = vec![
            ("throughput_ops_s", Box::new(|r| r.throughput_ops_s = 1e308)),
            ("throughput_ops_s", Box::new(|r| r.throughput_ops_s = -1.0)),
            ("wall_ns", Box::new(|r| r.wall_ns = 0)),
            ("workers", Box::new(|r| r.workers = 0)),
            (
                "histogram",
                Box::new(|r| r.histogram = Some("HISTFAAA".into())),
            ),
            ("ops", Box::new(|r| r.ops = 0)),
        ];
        for (field, breaks) in broken {
            let mut record = ok();
            breaks(&mut record);
            let error = validate_record(&record).unwrap_err();
            assert_eq!(error.field, field, "{error}");
        }
    }

    #[test]
    fn an_unsupported_record_measured_nothing() {
        let mut record = test_record("process", 2, 0, "strong", Status::Unsupported);
        record.ops = 0;
        record.wall_ns = 0;
        record.throughput_ops_s = 0.0;
        record.histogram = None;
        validate_record(&record).unwrap();
        record.ops = 5;
        assert_eq!(validate_record(&record).unwrap_err().field, "ops");
    }
}
