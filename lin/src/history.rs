//! The in-memory form of a history (HISTORY.md): a [`Header`] naming the [`Model`] and a list of
//! [`Op`]s. The process runner builds these directly and hands them to [`crate::check`](fn@crate::check);
//! `synclab check` gets them from [`crate::parse_history`]. This module depends only on
//! [`crate::error`]: the reader ([`crate::parse`]) and the writer ([`crate::write`]) depend on it,
//! never the other way round.

use crate::error::HistoryError;
use std::collections::HashMap;

/// An integer value stored in a queue or register (the JSON `value`/`expected` fields).
pub type Value = i64;

/// The sequential object a history is checked against, with its parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Model {
    /// A FIFO queue; `capacity: None` = unbounded.
    Queue {
        /// Maximum number of elements (`capacity` in the header), or unbounded.
        capacity: Option<u64>,
    },
    /// A counting semaphore that starts with `permits` available and never holds more.
    Semaphore {
        /// Initial and maximum number of available permits.
        permits: u64,
    },
    /// A map of independent registers, each starting as `null`.
    Register,
    /// A map of independent string keys, each starting as `""`, with `get`, `put` and `append`
    /// (porcupine's key-value model; an optional addition to HISTORY.md, see `docs/HISTORY-kv.md`).
    Kv,
}

impl Model {
    /// The header's `model` string.
    pub fn name(&self) -> &'static str {
        match self {
            Model::Queue { .. } => "queue",
            Model::Semaphore { .. } => "semaphore",
            Model::Register => "register",
            Model::Kv => "kv",
        }
    }

    /// The operations of this model, for messages (`"enqueue or dequeue"`).
    pub fn ops_list(&self) -> &'static str {
        match self {
            Model::Queue { .. } => "enqueue or dequeue",
            Model::Semaphore { .. } => "acquire or release",
            Model::Register => "read, write or cas",
            Model::Kv => "get, put or append",
        }
    }
}

/// The first line of a history file.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    /// The model and its parameters.
    pub model: Model,
    /// Header fields this version does not know (HISTORY.md allows optional additions); kept so
    /// that a history can be rewritten unchanged.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Header {
    /// A header for `model` with no extra fields.
    pub fn new(model: Model) -> Header {
        Header {
            model,
            extra: serde_json::Map::new(),
        }
    }
}

/// What an operation did, with its arguments and (for `dequeue`/`read`) its result.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// queue: add `value` at the tail.
    Enqueue {
        /// The value enqueued.
        value: Value,
    },
    /// queue: remove the head; `value: None` = found the queue empty.
    Dequeue {
        /// The value returned, or `None` for empty.
        value: Option<Value>,
    },
    /// semaphore: take `n` permits.
    Acquire {
        /// Number of permits (≥ 1).
        n: u64,
    },
    /// semaphore: give back `n` permits.
    Release {
        /// Number of permits (≥ 1).
        n: u64,
    },
    /// register: read `key`; `value: None` = never written.
    Read {
        /// The register.
        key: String,
        /// The value read.
        value: Option<Value>,
    },
    /// register: set `key` to `value`.
    Write {
        /// The register.
        key: String,
        /// The value written.
        value: Value,
    },
    /// register: set `key` to `value` if it holds `expected`.
    Cas {
        /// The register.
        key: String,
        /// The value it must hold (`None` = never written).
        expected: Option<Value>,
        /// The new value.
        value: Value,
    },
    /// kv: read `key`; `value: None` only when the result is unknown.
    Get {
        /// The key.
        key: String,
        /// The string read (`""` for a key never written).
        value: Option<String>,
    },
    /// kv: set `key` to `value`.
    Put {
        /// The key.
        key: String,
        /// The string written.
        value: String,
    },
    /// kv: append `value` to `key`'s string.
    Append {
        /// The key.
        key: String,
        /// The string appended.
        value: String,
    },
}

impl OpKind {
    /// The JSON `op` string.
    pub fn name(&self) -> &'static str {
        match self {
            OpKind::Enqueue { .. } => "enqueue",
            OpKind::Dequeue { .. } => "dequeue",
            OpKind::Acquire { .. } => "acquire",
            OpKind::Release { .. } => "release",
            OpKind::Read { .. } => "read",
            OpKind::Write { .. } => "write",
            OpKind::Cas { .. } => "cas",
            OpKind::Get { .. } => "get",
            OpKind::Put { .. } => "put",
            OpKind::Append { .. } => "append",
        }
    }

    /// The key, for register and kv operations.
    pub fn key(&self) -> Option<&str> {
        match self {
            OpKind::Read { key, .. }
            | OpKind::Write { key, .. }
            | OpKind::Cas { key, .. }
            | OpKind::Get { key, .. }
            | OpKind::Put { key, .. }
            | OpKind::Append { key, .. } => Some(key),
            _ => None,
        }
    }

    /// Whether this operation belongs to `model`.
    pub fn fits(&self, model: &Model) -> bool {
        matches!(
            (self, model),
            (
                OpKind::Enqueue { .. } | OpKind::Dequeue { .. },
                Model::Queue { .. }
            ) | (
                OpKind::Acquire { .. } | OpKind::Release { .. },
                Model::Semaphore { .. }
            ) | (
                OpKind::Read { .. } | OpKind::Write { .. } | OpKind::Cas { .. },
                Model::Register
            ) | (
                OpKind::Get { .. } | OpKind::Put { .. } | OpKind::Append { .. },
                Model::Kv
            )
        )
    }
}

/// One operation of a history.
///
/// Invariants (checked by the parser, assumed by the checkers; [`History::validate`] checks them
/// for histories built in memory): `return_ns >= invoke_ns`; `ok` is `None` when `return_ns` is
/// `None`; the operations of one process do not overlap; `kind` fits the header's model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op {
    /// The process (thread, client) that ran it.
    pub process: u64,
    /// What it did.
    pub kind: OpKind,
    /// `Some(true)` completed as recorded; `Some(false)` refused (full queue, failed try-acquire,
    /// failed CAS, refused release) or failed without effect; `None` outcome unknown: it may have
    /// taken effect, with any result, or not at all.
    pub ok: Option<bool>,
    /// When it was invoked (ns, any epoch, one clock for the whole history).
    pub invoke_ns: i64,
    /// When it returned, or `None` if it never did (then it may have taken effect at any instant
    /// after `invoke_ns`, or never).
    pub return_ns: Option<i64>,
    /// Its 1-based line in the file it came from, or 0 when built in memory.
    pub line: usize,
}

impl Op {
    /// A completed (`ok: true`) operation built in memory.
    pub fn new(process: u64, kind: OpKind, invoke_ns: i64, return_ns: i64) -> Op {
        Op {
            process,
            kind,
            ok: Some(true),
            invoke_ns,
            return_ns: Some(return_ns),
            line: 0,
        }
    }

    /// Whether `self` precedes `other` in real time (`self.return_ns < other.invoke_ns`).
    pub fn precedes(&self, other: &Op) -> bool {
        matches!(self.return_ns, Some(r) if r < other.invoke_ns)
    }

    /// The operation as one JSON object in the HISTORY.md field layout (the same fields
    /// [`crate::write::op_line`] writes).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::{json, Value as Json};
        let opt = |x: &Option<Value>| x.map_or(Json::Null, Json::from);
        let mut obj = json!({
            "process": self.process,
            "op": self.kind.name(),
            "ok": self.ok,
            "invoke_ns": self.invoke_ns,
            "return_ns": self.return_ns,
        });
        let args = match &self.kind {
            OpKind::Enqueue { value } => json!({ "value": value }),
            OpKind::Dequeue { value } => json!({ "value": opt(value) }),
            OpKind::Acquire { n } | OpKind::Release { n } => json!({ "n": n }),
            OpKind::Read { key, value } => json!({ "key": key, "value": opt(value) }),
            OpKind::Write { key, value } => json!({ "key": key, "value": value }),
            OpKind::Cas {
                key,
                expected,
                value,
            } => json!({ "key": key, "expected": opt(expected), "value": value }),
            OpKind::Get { key, value } => json!({ "key": key, "value": value }),
            OpKind::Put { key, value } | OpKind::Append { key, value } => {
                json!({ "key": key, "value": value })
            }
        };
        if let (Json::Object(obj), Json::Object(args)) = (&mut obj, args) {
            obj.extend(args);
        }
        obj
    }

    /// A short human description, e.g. `enqueue(17)`, `dequeue() = empty`, `cas(x, 1 -> 2)`.
    pub fn describe(&self) -> String {
        fn v(x: &Option<Value>) -> String {
            x.map_or_else(|| "null".to_string(), |x| x.to_string())
        }
        let unknown = self.ok.is_none();
        let base = match &self.kind {
            OpKind::Enqueue { value } => format!("enqueue({value})"),
            OpKind::Dequeue { value } if unknown => "dequeue() = ?".to_string(),
            OpKind::Dequeue { value: Some(x) } => format!("dequeue() = {x}"),
            OpKind::Dequeue { value: None } => "dequeue() = empty".to_string(),
            OpKind::Acquire { n } => format!("acquire({n})"),
            OpKind::Release { n } => format!("release({n})"),
            OpKind::Read { key, .. } if unknown => format!("read({key}) = ?"),
            OpKind::Read { key, value } => format!("read({key}) = {}", v(value)),
            OpKind::Write { key, value } => format!("write({key}, {value})"),
            OpKind::Cas {
                key,
                expected,
                value,
            } => format!("cas({key}, {} -> {value})", v(expected)),
            OpKind::Get { key, .. } if unknown => format!("get({key}) = ?"),
            OpKind::Get { key, value } => {
                format!("get({key}) = {:?}", value.as_deref().unwrap_or(""))
            }
            OpKind::Put { key, value } => format!("put({key}, {value:?})"),
            OpKind::Append { key, value } => format!("append({key}, {value:?})"),
        };
        match self.ok {
            Some(true) => base,
            Some(false) => format!("{base} refused"),
            None if self.return_ns.is_none() => format!("{base} never returned"),
            None => format!("{base} outcome unknown"),
        }
    }
}

/// A whole history: its header and its operations, in any order.
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    /// The header.
    pub header: Header,
    /// The operations, in any order (checkers sort them themselves).
    pub ops: Vec<Op>,
}

impl History {
    /// An empty history of `model`.
    pub fn new(model: Model) -> History {
        History {
            header: Header::new(model),
            ops: Vec::new(),
        }
    }

    /// Checks the invariants documented on [`Op`]: times in order, `ok` null when the operation
    /// never returned, operations fit the model, one operation in flight per process. The error
    /// names the line (the parser fills [`Op::line`]) and the field.
    pub fn validate(&self) -> Result<(), HistoryError> {
        let model = &self.header.model;
        for op in &self.ops {
            check_op(op, model)?;
        }
        if in_flight_in_file_order(&self.ops) {
            return Ok(());
        }
        in_flight_sorted(&self.ops)
    }
}

/// The invariants of one operation on its own.
fn check_op(op: &Op, model: &Model) -> Result<(), HistoryError> {
    if !op.kind.fits(model) {
        return Err(HistoryError::field(
            op.line,
            "op",
            format!(
                "op `{}` does not belong to model {} (expected {})",
                op.kind.name(),
                model.name(),
                model.ops_list()
            ),
        ));
    }
    match op.return_ns {
        Some(r) if r < op.invoke_ns => {
            return Err(HistoryError::field(
                op.line,
                "return_ns",
                format!("{r} is before invoke_ns {}", op.invoke_ns),
            ))
        }
        None if op.ok.is_some() => {
            return Err(HistoryError::field(
                op.line,
                "ok",
                "must be null when return_ns is null (the operation never returned)",
            ))
        }
        _ => {}
    }
    if let OpKind::Acquire { n: 0 } | OpKind::Release { n: 0 } = op.kind {
        return Err(HistoryError::field(op.line, "n", "must be at least 1"));
    }
    Ok(())
}

/// The order in which [`in_flight_sorted`] visits one process's operations.
fn time_key(op: &Op) -> (i64, i64) {
    (op.invoke_ns, op.return_ns.unwrap_or(i64::MAX))
}

/// The common case in O(n) without sorting: every process's operations come in the file in
/// time order and none overlaps the previous one. `false` means "not shown": the sorted check
/// then decides (and names the same pair whatever the file order).
fn in_flight_in_file_order(ops: &[Op]) -> bool {
    // the previous operation of each process: a table for the usual small process numbers,
    // a map for the others
    const DENSE: u64 = 4096;
    let mut dense: Vec<Option<usize>> = vec![None; DENSE as usize];
    let mut sparse: HashMap<u64, usize> = HashMap::new();
    for (i, b) in ops.iter().enumerate() {
        let prev = if b.process < DENSE {
            dense[b.process as usize].replace(i)
        } else {
            sparse.insert(b.process, i)
        };
        if let Some(prev) = prev {
            let a = &ops[prev];
            if time_key(b) < time_key(a) || overlap(a, b) {
                return false;
            }
        }
    }
    true
}

/// Whether `b`, invoked no earlier than `a` by the same process, starts while `a` is in flight.
fn overlap(a: &Op, b: &Op) -> bool {
    a.return_ns.is_none_or(|r| r > b.invoke_ns)
}

/// One operation in flight per process, checked on the operations sorted by process and time.
fn in_flight_sorted(ops: &[Op]) -> Result<(), HistoryError> {
    let mut order: Vec<usize> = (0..ops.len()).collect();
    // The index breaks ties, so the unstable sort gives the file order among equal times.
    order.sort_unstable_by_key(|&i| (ops[i].process, time_key(&ops[i]), i));
    for pair in order.windows(2) {
        let (a, b) = (&ops[pair[0]], &ops[pair[1]]);
        if a.process != b.process || !overlap(a, b) {
            continue;
        }
        let detail = match a.return_ns {
            None => format!(
                "process {} already has an operation in flight: the one on line {} never returned",
                b.process, a.line
            ),
            Some(r) => format!(
                "process {} already has an operation in flight: {} overlaps the one on line {} (invoked {}, returned {r})",
                b.process, b.invoke_ns, a.line, a.invoke_ns
            ),
        };
        return Err(HistoryError::field(b.line, "invoke_ns", detail));
    }
    Ok(())
}
