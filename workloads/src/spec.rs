//! Spec strings: `ID[:key=value,...]`.
//!
//! A spec names a workload and sets some of its parameters; the rest take
//! their defaults. A list of specs is comma-separated too, so in a list a new
//! spec starts at every item holding a `/` (every id does: `cpu/primes`), and
//! `key=value` items belong to the spec before them:
//! `cpu/primes:span=500,cpu/sha256` is two specs.

use std::collections::BTreeMap;

use crate::params::ParamValues;
use crate::workload::WorkloadInfo;

/// Why a spec string was refused. Every message names the bad value and the
/// valid ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// The id is not a known workload.
    #[error("unknown workload '{id}'; valid workloads: {valid}")]
    UnknownWorkload {
        /// What was asked for.
        id: String,
        /// Every valid id, comma-separated.
        valid: String,
    },
    /// The parameter name is not one of the workload's.
    #[error("unknown parameter '{param}' for {workload}; valid parameters: {valid}")]
    UnknownParam {
        /// The workload id.
        workload: String,
        /// What was given.
        param: String,
        /// Its valid parameter names.
        valid: String,
    },
    /// The value is out of range or of the wrong type.
    #[error("bad value {param}={value} for {workload}: {expected}")]
    BadValue {
        /// The workload id.
        workload: String,
        /// The parameter.
        param: String,
        /// What was given.
        value: String,
        /// What is valid.
        expected: String,
    },
    /// The text is not of the form `ID[:key=value,...]`.
    #[error("malformed workload spec '{spec}': {reason} (expected ID[:key=value,...], e.g. synthetic/amdahl:serial_fraction=0.3)")]
    Malformed {
        /// The whole spec.
        spec: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Splits a spec into its id and the `key=value` list after the colon.
pub fn split_id(spec: &str) -> (&str, Option<&str>) {
    let spec = spec.trim();
    match spec.split_once(':') {
        Some((id, rest)) => (id.trim(), Some(rest)),
        None => (spec, None),
    }
}

/// Checks the `key=value` list of `spec` against `info`'s parameters and
/// fills in the defaults of the rest.
pub fn bind_params(
    info: &WorkloadInfo,
    spec: &str,
    rest: Option<&str>,
) -> Result<ParamValues, SpecError> {
    let spec = spec.trim();
    let mut given: BTreeMap<&str, &str> = BTreeMap::new();
    for item in rest.into_iter().flat_map(|r| r.split(',')) {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let (key, value) = item.split_once('=').ok_or_else(|| SpecError::Malformed {
            spec: spec.to_string(),
            reason: format!("'{item}' is not key=value"),
        })?;
        if given.insert(key.trim(), value.trim()).is_some() {
            return Err(SpecError::Malformed {
                spec: spec.to_string(),
                reason: format!("parameter '{}' is given twice", key.trim()),
            });
        }
    }

    let mut values = ParamValues::default();
    for (key, raw) in &given {
        let param =
            info.params
                .iter()
                .find(|p| p.name == *key)
                .ok_or_else(|| SpecError::UnknownParam {
                    workload: info.id.to_string(),
                    param: (*key).to_string(),
                    valid: param_names(info),
                })?;
        let value = param.parse(raw).map_err(|expected| SpecError::BadValue {
            workload: info.id.to_string(),
            param: (*key).to_string(),
            value: (*raw).to_string(),
            expected,
        })?;
        values.0.insert((*key).to_string(), value);
    }
    for param in info.params {
        if !values.0.contains_key(param.name) {
            let value = param
                .parse(param.default)
                .expect("every declared default is valid (registry test)");
            values.0.insert(param.name.to_string(), value);
        }
    }
    Ok(values)
}

/// Splits `a/b:k=v,c/d` into `["a/b:k=v", "c/d"]`.
pub fn split_spec_list(list: &str) -> Vec<String> {
    let mut specs: Vec<String> = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let is_param = !item.contains('/') && item.contains('=');
        match specs.last_mut() {
            Some(last) if is_param => {
                last.push(if last.contains(':') { ',' } else { ':' });
                last.push_str(item);
            }
            _ => specs.push(item.to_string()),
        }
    }
    specs
}

fn param_names(info: &WorkloadInfo) -> String {
    if info.params.is_empty() {
        return "(none)".to_string();
    }
    info.params
        .iter()
        .map(|p| p.name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_spec;

    #[test]
    fn splits_lists_on_ids() {
        assert_eq!(
            split_spec_list("cpu/primes:span=5,from=7,cpu/sha256, synthetic/gil"),
            vec!["cpu/primes:span=5,from=7", "cpu/sha256", "synthetic/gil"]
        );
    }

    #[test]
    fn fills_defaults_and_round_trips() {
        let w = parse_spec("synthetic/amdahl:serial_fraction=0.3").unwrap();
        assert_eq!(w.params().float("serial_fraction"), 0.3);
        let again = parse_spec(&w.spec()).unwrap();
        assert_eq!(again.params(), w.params());
    }

    #[test]
    fn names_bad_values_and_valid_ones() {
        let err = parse_spec("synthetic/amdahl:serial_fraction=1.5")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("serial_fraction=1.5"), "{err}");
        assert!(err.contains("from 0 to 1"), "{err}");

        let err = parse_spec("cpu/nope").err().unwrap().to_string();
        assert!(
            err.contains("cpu/nope") && err.contains("cpu/primes"),
            "{err}"
        );

        let err = parse_spec("cpu/primes:bogus=1").err().unwrap().to_string();
        assert!(err.contains("bogus") && err.contains("span"), "{err}");

        let err = parse_spec("cpu/primes:span").err().unwrap().to_string();
        assert!(err.contains("not key=value"), "{err}");
    }
}
