//! synclab-lin: linearizability checking of concurrent histories.
//!
//! A history is a list of operations, each with the process that ran it, its arguments and
//! result, and when it was invoked and when it returned (or that it never did). It is
//! linearizable when every operation can be given one instant inside its interval so that, in
//! instant order, the operations are a legal run of a sequential object (a [`Model`]). This
//! crate decides that, and explains its answer. It depends on no other part of synclab.
//!
//! The public API:
//! - build a [`History`] in code ([`Op::new`], [`History::validate`]) or read one:
//!   [`load_history`] / [`parse_history`] for the HISTORY.md JSON Lines format,
//!   [`foreign::parse_any`] for Jepsen EDN histories, Jepsen `jepsen.util` logs and porcupine's
//!   key-value logs; write one with [`write_history`] / [`save_history`];
//! - [`check()`](fn@check) → [`CheckReport`]: the [`Verdict`], a minimal witness (operations
//!   that admit no linearization on their own), which checker decided, and [`CheckStats`];
//! - [`explain()`](fn@explain) → per partition ([`PartitionExplanation`]: one per register or kv
//!   key, P-compositionality), the linearization found or the longest linearizable prefix, each
//!   step with the model state before and after;
//! - [`html::render`] → one self-contained HTML page that draws all of that;
//! - [`search`](fn@search) / [`search_traced`] with your own [`SequentialModel`].
//!
//! A map of the files:
//! - [`history`]: the in-memory types ([`History`], [`Header`], [`Model`], [`Op`], [`OpKind`]);
//! - [`parse`]: reading a file, line by line ([`parse_history_reader`]), with errors naming the
//!   line and the field ([`HistoryError`], in [`error`]); [`json`]: the strict JSON it reads
//!   with (a key named twice in one object is refused);
//! - [`write`](mod@write): writing a file ([`write_history`], [`save_history`]);
//! - [`model`]: the [`SequentialModel`] trait; [`queue`], [`semaphore`], [`register`], [`kv`]:
//!   the models;
//! - [`search`](mod@search): the general checker (Wing–Gong search with Lowe's memoization);
//! - [`fast_queue`], [`fast_semaphore`]: O(n log n) checkers for the common cases;
//! - [`resolve`]: settling a queue's unknown outcomes so the fast checker can decide;
//! - [`simulate`]: seeded generators of linearizable histories (tests, benchmarks);
//! - [`witness`]: shrinking a violation to a small set of operations;
//! - [`check`](mod@check): the entry point [`check()`](fn@check) that picks among them;
//! - [`explain`](mod@explain): linearizations and longest prefixes with states;
//! - [`foreign`]: Jepsen and porcupine histories; [`html`]: the viewer.
//!
//! Which checker runs, and its limits:
//! - queue: the fast checker decides distinct-value histories whose operations all completed
//!   (`ok: true`, or dequeues `ok: false`) and that cannot have filled a bounded queue, in
//!   O(n log n) (1M operations in about a second). Outside that class it still reports certain
//!   violations (loss, duplicate, reorder, value from nowhere, empty while certainly non-empty) and
//!   otherwise hands over to the general search.
//! - semaphore: the fast checker decides histories without refused operations (unknown
//!   outcomes and operations that never returned included) whose releases never outpace the
//!   acquires (each process releasing what it holds, or a recoverer returning a dead holder's
//!   permits); otherwise the general search (cheap: the state is one integer).
//! - register: the general search per key.
//! - The general search is exponential in the worst case. It is fast when its candidate order
//!   (the model's hints) guesses the linearization order, which it does for the simulated runs in
//!   the benchmarks, but queue histories with many dequeues of unknown outcome whose results are
//!   lost (more than about 1% of operations) can make it give up: the answer is then
//!   [`Verdict::Unknown`] at the deadline or when the memo table reaches
//!   [`search::MAX_MEMO_BYTES`]. The deadline is checked every 1024 steps, so it may be overshot
//!   by the time of one memo table resize (about a second for millions of entries).
//! - Witnesses: the candidate is minimized by deletion and always admits no linearization on its
//!   own. When it comes from the general search, the candidate may first be cut to the operations
//!   invoked before the search's deepest dead end; on rare histories that cut can point at a
//!   different (still genuine on its own) contradiction than the full history's.
//!
//! Typical use by a runner that recorded operations in memory:
//! ```
//! use synclab_lin::{check, CheckOptions, History, Model, Op, OpKind, Verdict};
//! let mut h = History::new(Model::Queue { capacity: Some(8) });
//! h.ops.push(Op::new(0, OpKind::Enqueue { value: 1 }, 10, 20));
//! h.ops.push(Op::new(1, OpKind::Dequeue { value: Some(1) }, 15, 30));
//! h.validate().unwrap();
//! assert_eq!(check(&h, &CheckOptions::default()).verdict, Verdict::Linearizable);
//! ```

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub mod check;
pub mod error;
pub mod explain;
pub mod fast_queue;
pub mod fast_semaphore;
pub mod foreign;
pub mod history;
pub mod html;
pub mod json;
pub mod kv;
pub mod model;
pub mod parse;
pub mod queue;
pub mod register;
pub mod resolve;
pub mod search;
pub mod semaphore;
pub mod simulate;
pub mod witness;
pub mod write;

pub use check::{check, CheckOptions, CheckReport, CheckStats, Verdict};
pub use error::HistoryError;
pub use explain::{explain, explain_with, ExplainedStep, PartitionExplanation};
pub use fast_queue::FastResult;
pub use history::{Header, History, Model, Op, OpKind, Value};
pub use kv::KvModel;
pub use model::SequentialModel;
pub use parse::{parse_history, parse_history_reader};
pub use queue::QueueModel;
pub use register::RegisterModel;
pub use search::{search, search_traced, SearchResult, SearchStats, SearchTrace, Step};
pub use semaphore::SemaphoreModel;
pub use write::{save_history, write_history};

/// Reads and parses the history file at `path` (I/O errors are reported as line 0).
pub fn load_history(path: impl AsRef<std::path::Path>) -> Result<History, HistoryError> {
    let file = std::fs::File::open(path.as_ref()).map_err(|e| {
        HistoryError::line(0, format!("cannot read {}: {e}", path.as_ref().display()))
    })?;
    parse_history_reader(std::io::BufReader::with_capacity(1 << 20, file))
}
