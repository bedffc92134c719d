//! Linearizability checking of histories (HISTORY.md).
//!
//! A map of the files:
//! - [`history`]: the in-memory types ([`History`], [`Header`], [`Model`], [`Op`], [`OpKind`]);
//! - [`parse`]: reading a file, with errors naming the line and the field ([`HistoryError`]);
//! - [`write`]: writing a file ([`write_history`], [`save_history`]);
//! - [`model`]: the [`SequentialModel`] trait; [`queue`], [`semaphore`], [`register`]: the models;
//! - [`search`]: the general checker (Wing–Gong search with Lowe's memoization);
//! - [`fast_queue`], [`fast_semaphore`]: O(n log n) checkers for the common cases;
//! - [`simulate`]: seeded generators of linearizable histories (tests, benchmarks);
//! - [`witness`]: shrinking a violation to a small set of operations;
//! - [`check`](mod@check): the entry point [`check()`](fn@check) that picks among them.
//!
//! Typical use by a runner that recorded operations in memory:
//! ```
//! use synclab_verify::lin::{check, CheckOptions, History, Model, Op, OpKind, Verdict};
//! let mut h = History::new(Model::Queue { capacity: Some(8) });
//! h.ops.push(Op::new(0, OpKind::Enqueue { value: 1 }, 10, 20));
//! h.ops.push(Op::new(1, OpKind::Dequeue { value: Some(1) }, 15, 30));
//! h.validate().unwrap();
//! assert_eq!(check(&h, &CheckOptions::default()).verdict, Verdict::Linearizable);
//! ```

pub mod check;
pub mod fast_queue;
pub mod fast_semaphore;
pub mod history;
pub mod model;
pub mod parse;
pub mod queue;
pub mod register;
pub mod search;
pub mod semaphore;
pub mod simulate;
pub mod witness;
pub mod write;

pub use check::{check, CheckOptions, CheckReport, Verdict};
pub use fast_queue::FastResult;
pub use history::{Header, History, Model, Op, OpKind, Value};
pub use model::SequentialModel;
pub use parse::{parse_history, HistoryError};
pub use queue::QueueModel;
pub use register::RegisterModel;
pub use search::{search, SearchResult};
pub use semaphore::SemaphoreModel;
pub use write::{save_history, write_history};

/// Reads and parses the history file at `path` (I/O errors are reported as line 0).
pub fn load_history(path: impl AsRef<std::path::Path>) -> Result<History, HistoryError> {
    let text = std::fs::read_to_string(path.as_ref()).map_err(|e| {
        HistoryError::line(0, format!("cannot read {}: {e}", path.as_ref().display()))
    })?;
    parse_history(&text)
}
