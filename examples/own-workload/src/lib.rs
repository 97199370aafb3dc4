//! Two workloads of your own, registered in a [`corebench::Suite`]:
//!
//! - `own/json-parse`: a plain CPU function. Each worker generates a JSON
//!   document once, in its set-up; each op parses it with serde_json.
//!   Workers share nothing, so it should scale with the cores.
//! - `own/cache`: shared state. Every worker of a run looks keys up in one
//!   cache behind a mutex, computing and inserting what is missing. The
//!   lock is the serial part. Under `process` each child has a cache of its
//!   own (processes share no memory), which is why it scales there.
//!
//! The binary (`src/main.rs`) and the bench target (`benches/own.rs`) both
//! hand [`suite`] the command line.
//!
//! The README's "Benchmark your own code" shows the same in one `main`;
//! it is compiled here so that it stays true:
//!
//! ```no_run
//! use std::collections::HashMap;
//! use std::sync::{Arc, Mutex};
//! use corebench::{Custom, Suite};
//!
//! fn main() -> std::process::ExitCode {
//!     Suite::new()
//!         // Workers that share nothing: a set-up per worker, then the op.
//!         .custom(Custom::from_fn("own/json-parse", "parse a JSON document", |worker| {
//!             let items: Vec<String> = (0..200).map(|i| format!(r#"{{"id":{i},"w":{worker}}}"#)).collect();
//!             let text = format!("[{}]", items.join(","));
//!             move |_op: u64| serde_json::from_str::<serde_json::Value>(&text).map(|_| ())
//!         }))
//!         // Workers that share state: built once per run (per process).
//!         .custom(Custom::from_fn_shared("own/cache", "look keys up behind a lock",
//!             |_shape| Mutex::new(HashMap::<u64, String>::new()),
//!             |cache, _worker| {
//!                 let cache = Arc::clone(cache);
//!                 move |op: u64| {
//!                     let mut map = cache.lock().map_err(|_| "poisoned")?;
//!                     map.entry(op % 4096).or_insert_with(|| format!("{op}"));
//!                     Ok::<(), &str>(())
//!                 }
//!             }))
//!         .main()
//! }
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use corebench::{Custom, Suite};

/// Records in each worker's JSON document.
const RECORDS: usize = 200;
/// Distinct keys the cache workload asks for.
const KEYS: u64 = 65_536;
/// Lookups per op of the cache workload, each taking the lock.
const LOOKUPS: u64 = 16;

/// A JSON document of `RECORDS` records, different per worker.
pub fn document(worker: usize) -> String {
    let records: Vec<serde_json::Value> = (0..RECORDS)
        .map(|i| {
            serde_json::json!({
                "id": i,
                "worker": worker,
                "name": format!("item-{worker}-{i}"),
                "tags": ["a", "b", "c"],
                "price": i as f64 * 1.25,
                "nested": { "depth": 2, "ok": i % 2 == 0 },
            })
        })
        .collect();
    serde_json::Value::Array(records).to_string()
}

/// What a cache miss costs: a value computed from the key.
pub fn compute(key: u64) -> String {
    let mut x = key.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for _ in 0..200 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    format!("{key}:{x:016x}")
}

/// The suite: both workloads, and nothing of corebench's own but the
/// dispatch floor and the calibration reference.
pub fn suite() -> Suite {
    Suite::new()
        .custom(Custom::from_fn(
            "own/json-parse",
            "parse a 200-record JSON document with serde_json; workers share nothing",
            |worker| {
                let text = document(worker);
                move |_op: u64| -> Result<(), String> {
                    let value: serde_json::Value =
                        serde_json::from_str(&text).map_err(|e| e.to_string())?;
                    match value.as_array().map(Vec::len) {
                        Some(RECORDS) => Ok(()),
                        other => Err(format!("parsed {other:?} records, not {RECORDS}")),
                    }
                }
            },
        ))
        .custom(Custom::from_fn_shared(
            "own/cache",
            "16 lookups in one cache behind a mutex, computing what is missing; the lock is shared",
            |_shape| Mutex::new(HashMap::<u64, Arc<String>>::new()),
            |cache, _worker| {
                let cache = Arc::clone(cache);
                move |op: u64| {
                    for lookup in 0..LOOKUPS {
                        let key = (op * LOOKUPS + lookup).wrapping_mul(2_654_435_761) % KEYS;
                        let mut map = cache.lock().map_err(|_| "the cache lock is poisoned")?;
                        let value = map.entry(key).or_insert_with(|| Arc::new(compute(key)));
                        std::hint::black_box(value.len());
                    }
                    Ok::<(), &str>(())
                }
            },
        ))
}
