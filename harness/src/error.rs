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

/// Whether a failed write means the path the user gave cannot be used (it
/// does not exist, is not a folder, is read-only or not ours): bad input,
/// exit 2, for `run`, `report` and `compare` alike. Any other failure to
/// write (a full disk, an IO error) is a runtime failure, exit 1.
pub fn is_unusable_path(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        error.kind(),
        NotFound
            | PermissionDenied
            | NotADirectory
            | IsADirectory
            | ReadOnlyFilesystem
            | InvalidFilename
            | AlreadyExists
            | InvalidInput
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_path_is_bad_input_and_a_full_disk_is_not() {
        let kind = |k| std::io::Error::from(k);
        assert!(is_unusable_path(&kind(std::io::ErrorKind::NotFound)));
        assert!(is_unusable_path(&kind(
            std::io::ErrorKind::PermissionDenied
        )));
        assert!(!is_unusable_path(&kind(std::io::ErrorKind::StorageFull)));
    }
}
