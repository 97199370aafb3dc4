//! Helpers the reports test files share.
#![allow(dead_code)] // Each test file uses its own subset.

use std::path::Path;

/// How many SVG charts a report folder holds.
pub fn svg_count(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "svg")
        })
        .count()
}
