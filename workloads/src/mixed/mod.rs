//! Mixed workloads: ops that do IO and CPU work in one, as real services
//! do. [`crawl`] is the books' web crawler (network IO, parsing, hashing,
//! a shared frontier); [`compress`] reads, compresses and writes files.

pub mod compress;
pub mod crawl;
