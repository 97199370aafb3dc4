//! `exec --parameter NAME=V1,V2,...`, as hyperfine's `-L`: every
//! combination of the values is a parameter set, its own workload section
//! (`exec/NAME:size=10`), with `{size}` replaced in the commands and
//! `COREBENCH_PARAM_SIZE` set. `{workers}` stays the sweep.

use std::collections::BTreeMap;

use workloads::{ParamValue, ParamValues};

use crate::error::UsageError;

/// One combination of the parameters' values, by name.
pub type ParamSet = BTreeMap<String, String>;

/// Parses every `--parameter` into the sets to run, every combination of
/// their values, the first parameter's changing slowest. No parameter is
/// one empty set.
pub fn parameter_sets(given: &[String]) -> Result<Vec<ParamSet>, UsageError> {
    let mut sets = vec![ParamSet::new()];
    for text in given {
        let (name, values) = parse(text, &sets[0])?;
        let mut next = Vec::with_capacity(sets.len() * values.len());
        for set in &sets {
            for value in &values {
                let mut set = set.clone();
                set.insert(name.clone(), value.clone());
                next.push(set);
            }
        }
        sets = next;
    }
    Ok(sets)
}

/// One `NAME=V1,V2,...`; `seen` holds the names before it.
fn parse(text: &str, seen: &ParamSet) -> Result<(String, Vec<String>), UsageError> {
    let bad = |why: &str| {
        UsageError::new(format!(
            "bad --parameter '{text}': {why}; expected NAME=V1,V2,... with NAME of letters, digits and _, e.g. size=10,100"
        ))
    };
    let (name, values) = text.split_once('=').ok_or_else(|| bad("no '='"))?;
    let name = name.trim();
    let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(bad("not a name"));
    }
    if name == "workers" {
        return Err(bad("{workers} is the sweep (-n)"));
    }
    if seen.contains_key(name) {
        return Err(bad("given twice"));
    }
    let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
    if values
        .iter()
        .any(|v| v.is_empty() || v.contains([':', ' ']))
    {
        return Err(bad("an empty value, or one with ':' or a space"));
    }
    Ok((name.to_string(), values))
}

/// `text` with every `{NAME}` of `set` replaced by its value.
pub fn substitute(text: &str, set: &ParamSet) -> String {
    set.iter().fold(text.to_string(), |text, (name, value)| {
        text.replace(&format!("{{{name}}}"), value)
    })
}

/// The environment a set gives its programs: `COREBENCH_PARAM_NAME=value`.
pub fn environment(set: &ParamSet) -> Vec<(String, String)> {
    set.iter()
        .map(|(name, value)| {
            (
                format!("COREBENCH_PARAM_{}", name.to_ascii_uppercase()),
                value.clone(),
            )
        })
        .collect()
}

/// The set as a workload's parameters, so its spec names it.
pub fn as_workload_params(set: &ParamSet) -> ParamValues {
    ParamValues(
        set.iter()
            .map(|(name, value)| (name.clone(), ParamValue::Text(value.clone())))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_combination_is_a_set_and_bad_ones_name_the_flag() {
        let sets = parameter_sets(&["size=10,100".into(), "mode=a,b".into()]).unwrap();
        assert_eq!(sets.len(), 4);
        assert_eq!(
            substitute("x {size} {mode} {workers}", &sets[1]),
            "x 10 b {workers}"
        );
        assert_eq!(
            environment(&sets[3]),
            [
                ("COREBENCH_PARAM_MODE".to_string(), "b".to_string()),
                ("COREBENCH_PARAM_SIZE".to_string(), "100".to_string())
            ]
        );
        assert_eq!(parameter_sets(&[]).unwrap(), vec![ParamSet::new()]);
        for bad in ["size", "9x=1", "workers=1,2", "size=1,,2"] {
            let e = parameter_sets(&[bad.into()]).unwrap_err().to_string();
            assert!(e.starts_with(&format!("bad --parameter '{bad}'")), "{e}");
        }
        let twice = parameter_sets(&["a=1".into(), "a=2".into()]).unwrap_err();
        assert!(twice.to_string().contains("given twice"));
    }
}
