//! Typed failures: why a trial, or one worker of it, produced no usable
//! measurement. The kind decides the record's status, so nothing downstream
//! matches on error text.

use reports::schema::Status;
use serde::{Deserialize, Serialize};
use workloads::{OpError, OpErrorKind};

/// The kinds of failure a record can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailureKind {
    /// An op, a set-up, a child or the harness failed.
    Failed,
    /// The trial ran past its time limit.
    Timeout,
    /// The workload detected a deadlock: a finding, not a failure.
    Deadlocked,
    /// The model cannot run the workload, for a stated reason.
    Unsupported,
}

impl FailureKind {
    /// The record status this kind of failure is written with.
    pub fn status(self) -> Status {
        match self {
            FailureKind::Failed => Status::Failed,
            FailureKind::Timeout => Status::Timeout,
            FailureKind::Deadlocked => Status::Deadlocked,
            FailureKind::Unsupported => Status::Unsupported,
        }
    }
}

/// A failure with its kind and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// What kind of failure.
    pub kind: FailureKind,
    /// Why, for people.
    pub message: String,
}

impl Failure {
    /// A failure of `kind`.
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Failure {
            kind,
            message: message.into(),
        }
    }

    /// Something failed.
    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(FailureKind::Failed, message)
    }

    /// The trial ran past its time limit.
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(FailureKind::Timeout, message)
    }

    /// The model cannot run the workload.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(FailureKind::Unsupported, message)
    }

    /// The record status to write.
    pub fn status(&self) -> Status {
        self.kind.status()
    }

    /// The same failure with `prefix` before its message (`op 3 `,
    /// `worker 1: `, `warm-up: `).
    pub fn prefixed(self, prefix: &str) -> Self {
        Failure {
            kind: self.kind,
            message: format!("{prefix}{}", self.message),
        }
    }

    /// An op's error: a deadlock it detected, or a failure.
    pub fn of_op(error: OpError) -> Self {
        let kind = match error.kind {
            OpErrorKind::Deadlock => FailureKind::Deadlocked,
            OpErrorKind::Failed => FailureKind::Failed,
        };
        Self::new(kind, format!("failed: {}", error.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadlock_reported_by_an_op_is_a_deadlocked_record() {
        let failure = Failure::of_op(OpError::deadlock("worker 0 holds A")).prefixed("op 7 ");
        assert_eq!(failure.status(), Status::Deadlocked);
        assert!(failure
            .message
            .starts_with("op 7 failed: deadlock detected:"));
        assert_eq!(
            Failure::of_op(OpError::new("boom")).status(),
            Status::Failed
        );
    }
}
