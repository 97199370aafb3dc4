//! Typed, validated workload parameters.
//!
//! Every workload declares its parameters as a static list of [`ParamSpec`]
//! (name, kind with its valid range, default, help text). Parsing a spec
//! string checks each given value against its spec and fills in defaults,
//! producing [`ParamValues`], which the workload reads through typed getters.

use std::collections::BTreeMap;
use std::fmt;

/// The type and valid range of one parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamKind {
    /// A whole number in `min..=max`.
    Int {
        /// Smallest valid value.
        min: i64,
        /// Largest valid value.
        max: i64,
    },
    /// A real number in `min..=max`.
    Float {
        /// Smallest valid value.
        min: f64,
        /// Largest valid value.
        max: f64,
    },
    /// `true` or `false`.
    Bool,
    /// One of a fixed set of words.
    Choice(&'static [&'static str]),
    /// A whole number in `min..=max`, or one word (e.g. `unbounded`).
    IntOr {
        /// Smallest valid number.
        min: i64,
        /// Largest valid number.
        max: i64,
        /// The word also accepted.
        word: &'static str,
    },
}

impl fmt::Display for ParamKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamKind::Int { min, max } => write!(f, "a whole number from {min} to {max}"),
            ParamKind::Float { min, max } => write!(f, "a number from {min} to {max}"),
            ParamKind::Bool => write!(f, "true or false"),
            ParamKind::Choice(words) => write!(f, "one of {}", words.join("|")),
            ParamKind::IntOr { min, max, word } => {
                write!(f, "a whole number from {min} to {max}, or {word}")
            }
        }
    }
}

/// One declared parameter of a workload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamSpec {
    /// The key in `key=value`.
    pub name: &'static str,
    /// Its type and valid range.
    pub kind: ParamKind,
    /// The default, spelled as on the command line.
    pub default: &'static str,
    /// What it means, with its unit.
    pub help: &'static str,
}

/// A parsed parameter value.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// A `Bool` parameter.
    Bool(bool),
    /// An `Int` parameter.
    Int(i64),
    /// A `Float` parameter.
    Float(f64),
    /// A `Choice` parameter.
    Text(String),
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Bool(b) => write!(f, "{b}"),
            ParamValue::Int(i) => write!(f, "{i}"),
            ParamValue::Float(x) => write!(f, "{x}"),
            ParamValue::Text(s) => write!(f, "{s}"),
        }
    }
}

impl ParamSpec {
    /// Parses and validates `raw` against this spec. The error says what is
    /// valid; the caller adds the workload and parameter names.
    pub fn parse(&self, raw: &str) -> Result<ParamValue, String> {
        let invalid = || format!("expected {}", self.kind);
        match self.kind {
            ParamKind::Int { min, max } => {
                let value: i64 = raw.trim().replace('_', "").parse().map_err(|_| invalid())?;
                if (min..=max).contains(&value) {
                    Ok(ParamValue::Int(value))
                } else {
                    Err(invalid())
                }
            }
            ParamKind::Float { min, max } => {
                let value: f64 = raw.trim().parse().map_err(|_| invalid())?;
                if value.is_finite() && value >= min && value <= max {
                    Ok(ParamValue::Float(value))
                } else {
                    Err(invalid())
                }
            }
            ParamKind::Bool => match raw.trim() {
                "true" | "1" | "yes" => Ok(ParamValue::Bool(true)),
                "false" | "0" | "no" => Ok(ParamValue::Bool(false)),
                _ => Err(invalid()),
            },
            ParamKind::Choice(words) => words
                .iter()
                .find(|w| **w == raw.trim())
                .map(|w| ParamValue::Text((*w).to_string()))
                .ok_or_else(invalid),
            ParamKind::IntOr { min, max, word } => {
                if raw.trim() == word {
                    return Ok(ParamValue::Text(word.to_string()));
                }
                ParamSpec {
                    kind: ParamKind::Int { min, max },
                    ..*self
                }
                .parse(raw)
                .map_err(|_| invalid())
            }
        }
    }
}

/// The full set of parameter values of one workload instance, defaults
/// filled in, in name order.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ParamValues(pub BTreeMap<String, ParamValue>);

impl ParamValues {
    /// An integer parameter. Panics only on a programming error: a name the
    /// workload did not declare, which the registry tests catch.
    pub fn int(&self, name: &str) -> i64 {
        match self.0.get(name) {
            Some(ParamValue::Int(v)) => *v,
            other => panic!("parameter {name} is not an int: {other:?}"),
        }
    }

    /// A real parameter (an integer value is widened).
    pub fn float(&self, name: &str) -> f64 {
        match self.0.get(name) {
            Some(ParamValue::Float(v)) => *v,
            Some(ParamValue::Int(v)) => *v as f64,
            other => panic!("parameter {name} is not a number: {other:?}"),
        }
    }

    /// A boolean parameter.
    pub fn bool(&self, name: &str) -> bool {
        match self.0.get(name) {
            Some(ParamValue::Bool(v)) => *v,
            other => panic!("parameter {name} is not a bool: {other:?}"),
        }
    }

    /// An [`ParamKind::IntOr`] parameter: the number, or `None` for the word.
    pub fn int_or_word(&self, name: &str) -> Option<i64> {
        match self.0.get(name) {
            Some(ParamValue::Int(v)) => Some(*v),
            Some(ParamValue::Text(_)) => None,
            other => panic!("parameter {name} is not a number or word: {other:?}"),
        }
    }

    /// A choice parameter.
    pub fn text(&self, name: &str) -> &str {
        match self.0.get(name) {
            Some(ParamValue::Text(v)) => v,
            other => panic!("parameter {name} is not a choice: {other:?}"),
        }
    }
}
