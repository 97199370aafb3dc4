//! The one error type the binary maps to exit code 2: bad input from the
//! user. Everything else is a runtime failure (exit 1).

/// Bad input: an unknown name, a value out of range, an unwritable path.
/// The message names the bad value and the valid ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl UsageError {
    /// A usage error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        UsageError(message.into())
    }
}
