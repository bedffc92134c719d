//! Jepsen-style histories — Jepsen's EDN operation maps (as Knossos reads them), the
//! `jepsen.util` log lines of older Jepsen runs (porcupine's etcd test data), and porcupine's
//! key-value logs (EDN maps with a `:key`) — turned into a [`History`].
//!
//! The mapping (documented for users in `docs/HISTORY-foreign.md`):
//! - an `:invoke` opens an operation of its `:process`; the process's next `:ok`, `:fail` or
//!   `:info` completes it. `:ok` = `ok: true` with the completion's `:value` as the result;
//!   `:fail` = `ok: false` (it did not happen: no effect; for `cas`, the compare failed);
//!   `:info` = unknown outcome: `ok: null`, `return_ns: null` (it may have taken effect at any
//!   instant after its invocation, or never — Knossos's reading). An `:invoke` never completed
//!   is the same as `:info`. A process that invokes again after an `:info` is renumbered (Jepsen
//!   itself does so), because a process has at most one operation in flight.
//! - `:f` picks the model: `:read`/`:write`/`:cas` = `register` (one register, or one per `:key`),
//!   `:enqueue`/`:dequeue` = an unbounded `queue`, `:get`/`:put`/`:append` = `kv` (porcupine's
//!   key-value model). `:cas` takes `[expected new]`.
//! - Times: `:time` when every event has one (Jepsen's ns), otherwise the event's position in
//!   the history (all real-time order needs). Events of non-integer processes (`:nemesis`) are
//!   skipped.

use super::edn::Edn;
use crate::{History, HistoryError, Model, Op, OpKind};
use std::collections::HashMap;

/// One event of a Jepsen history.
#[derive(Clone, Debug)]
pub struct Event {
    /// `:process`.
    pub process: u64,
    /// `:type`: `invoke`, `ok`, `fail` or `info`.
    pub kind: String,
    /// `:f`.
    pub f: String,
    /// `:value`.
    pub value: Edn,
    /// `:key`, if any (porcupine's kv logs, multi-key registers).
    pub key: Option<String>,
    /// `:time`, if given.
    pub time: Option<i64>,
    /// 1-based line it came from.
    pub line: usize,
}

/// The events of EDN records ([`super::edn::read_records`]). Non-integer processes (the
/// nemesis) are skipped.
pub fn events_from_edn(maps: Vec<(Edn, usize)>) -> Result<Vec<Event>, HistoryError> {
    let mut out = Vec::with_capacity(maps.len());
    for (m, line) in maps {
        if !matches!(m, Edn::Map(_)) {
            return Err(HistoryError::line(
                line,
                format!(
                    "expected an operation map {{:type … :f … :process …}}, found {}",
                    m.show()
                ),
            ));
        }
        let process = match m.get("process") {
            Some(Edn::Int(p)) if *p >= 0 => *p as u64,
            Some(Edn::Keyword(_)) => continue, // :nemesis
            other => {
                return Err(HistoryError::field(
                    line,
                    ":process",
                    format!("expected a non-negative integer, found {}", show(other)),
                ))
            }
        };
        let keyword = |field: &str| match m.get(field) {
            Some(Edn::Keyword(k)) => Ok(k.clone()),
            other => Err(HistoryError::field(
                line,
                &format!(":{field}"),
                format!("expected a keyword, found {}", show(other)),
            )),
        };
        let key = match m.get("key") {
            None | Some(Edn::Nil) => None,
            Some(Edn::Str(s)) => Some(s.clone()),
            Some(other) => Some(other.show()),
        };
        out.push(Event {
            process,
            kind: keyword("type")?,
            f: keyword("f")?,
            value: m.get("value").cloned().unwrap_or(Edn::Nil),
            key,
            time: match m.get("time") {
                Some(Edn::Int(t)) => Some(*t),
                _ => None,
            },
            line,
        });
    }
    Ok(out)
}

/// The events of `jepsen.util` log lines (`INFO  jepsen.util - 3 :invoke :cas [1 2]`); other
/// lines are skipped.
pub fn events_from_log(text: &str) -> Result<Vec<Event>, HistoryError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some((_, rest)) = line.split_once("jepsen.util - ") else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let (Some(p), Some(kind), Some(f)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        let Ok(process) = p.parse::<u64>() else {
            continue; // :nemesis
        };
        let value_text: Vec<&str> = fields.collect();
        let value = match super::edn::read_all(&value_text.join(" ")) {
            Ok(forms) => forms.into_iter().next().map_or(Edn::Nil, |(v, _)| v),
            Err(e) => {
                return Err(HistoryError::line(
                    i + 1,
                    format!("bad value: {}", e.message),
                ))
            }
        };
        out.push(Event {
            process,
            kind: kind.trim_start_matches(':').to_string(),
            f: f.trim_start_matches(':').to_string(),
            value,
            key: None,
            time: None,
            line: i + 1,
        });
    }
    Ok(out)
}

fn show(v: Option<&Edn>) -> String {
    v.map_or_else(|| "nothing (missing)".to_string(), Edn::show)
}

/// The model the events' `:f` names.
fn model_of(events: &[Event]) -> Result<Model, HistoryError> {
    let first = events.first().ok_or_else(|| {
        HistoryError::line(
            1,
            "no operations found (expected Jepsen :invoke/:ok/:fail/:info events)",
        )
    })?;
    let model = match first.f.as_str() {
        "read" | "write" | "cas" => Model::Register,
        "enqueue" | "dequeue" => Model::Queue { capacity: None },
        "get" | "put" | "append" => Model::Kv,
        other => {
            return Err(HistoryError::field(
                first.line,
                ":f",
                format!(
                    "unknown operation :{other} (expected :read/:write/:cas for a register, \
                     :enqueue/:dequeue for a queue, :get/:put/:append for kv)"
                ),
            ))
        }
    };
    Ok(model)
}

/// Pairs invocations with completions and builds the history.
pub fn history_from_events(events: Vec<Event>) -> Result<History, HistoryError> {
    let model = model_of(&events)?;
    let use_time = events.iter().all(|e| e.time.is_some());
    let time = |i: usize, e: &Event| {
        if use_time {
            e.time.unwrap_or(0)
        } else {
            i as i64
        }
    };
    let mut next_process = events.iter().map(|e| e.process).max().unwrap_or(0) + 1;
    // per Jepsen process: the number it has in the history, and its open invocation
    let mut renumber: HashMap<u64, u64> = HashMap::new();
    let mut crashed: HashMap<u64, bool> = HashMap::new();
    let mut open: HashMap<u64, (usize, i64)> = HashMap::new();
    let mut ops: Vec<Op> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let t = time(i, e);
        match e.kind.as_str() {
            "invoke" => {
                if open.contains_key(&e.process) {
                    return Err(HistoryError::field(
                        e.line,
                        ":type",
                        format!(
                            "process {} invokes again before its last operation completed",
                            e.process
                        ),
                    ));
                }
                if crashed.remove(&e.process).unwrap_or(false) {
                    renumber.insert(e.process, next_process);
                    next_process += 1;
                }
                open.insert(e.process, (ops.len(), t));
                let process = *renumber.get(&e.process).unwrap_or(&e.process);
                ops.push(Op {
                    process,
                    kind: kind_of(&model, e, &e.value, false)?,
                    ok: None,
                    invoke_ns: t,
                    return_ns: None,
                    line: e.line,
                });
            }
            "ok" | "fail" | "info" => {
                let Some((k, _)) = open.remove(&e.process) else {
                    return Err(HistoryError::field(
                        e.line,
                        ":type",
                        format!(
                            ":{} of process {} without an :invoke before it",
                            e.kind, e.process
                        ),
                    ));
                };
                let op = &mut ops[k];
                match e.kind.as_str() {
                    "ok" => {
                        op.ok = Some(true);
                        op.return_ns = Some(t);
                        op.kind = kind_of(&model, e, &e.value, true)?;
                    }
                    "fail" => {
                        op.ok = Some(false);
                        op.return_ns = Some(t);
                    }
                    _ => {
                        crashed.insert(e.process, true);
                    }
                }
            }
            other => {
                return Err(HistoryError::field(
                    e.line,
                    ":type",
                    format!("unknown :{other} (expected :invoke, :ok, :fail or :info)"),
                ))
            }
        }
    }
    let history = History {
        header: crate::Header::new(model),
        ops,
    };
    history.validate()?;
    Ok(history)
}

/// The operation an event describes; `completed` = the value is the result of an `:ok`.
fn kind_of(model: &Model, e: &Event, value: &Edn, completed: bool) -> Result<OpKind, HistoryError> {
    let int = |v: &Edn, what: &str| match v {
        Edn::Int(i) => Ok(*i),
        other => Err(HistoryError::field(
            e.line,
            ":value",
            format!("{what}: expected an integer, found {}", other.show()),
        )),
    };
    let opt_int = |v: &Edn, what: &str| match v {
        Edn::Nil => Ok(None),
        v => int(v, what).map(Some),
    };
    let text = |v: &Edn| match v {
        Edn::Str(s) => Ok(s.clone()),
        Edn::Nil if !completed => Ok(String::new()),
        other => Err(HistoryError::field(
            e.line,
            ":value",
            format!("expected a string, found {}", other.show()),
        )),
    };
    let key = e.key.clone().unwrap_or_else(|| "register".to_string());
    let kind = match (model, e.f.as_str()) {
        (Model::Register, "read") => OpKind::Read {
            key,
            value: if completed {
                opt_int(value, "a read's result")?
            } else {
                None
            },
        },
        (Model::Register, "write") => OpKind::Write {
            key,
            value: int(value, "a write")?,
        },
        (Model::Register, "cas") => match value {
            Edn::Seq(pair) if pair.len() == 2 => OpKind::Cas {
                key,
                expected: opt_int(&pair[0], "a cas's expected value")?,
                value: int(&pair[1], "a cas's new value")?,
            },
            other => {
                return Err(HistoryError::field(
                    e.line,
                    ":value",
                    format!("a cas takes [expected new], found {}", other.show()),
                ))
            }
        },
        (Model::Queue { .. }, "enqueue") => OpKind::Enqueue {
            value: int(value, "an enqueue")?,
        },
        (Model::Queue { .. }, "dequeue") => OpKind::Dequeue {
            value: if completed {
                opt_int(value, "a dequeue's result")?
            } else {
                None
            },
        },
        (Model::Kv, "get") => OpKind::Get {
            key,
            value: if completed { Some(text(value)?) } else { None },
        },
        (Model::Kv, "put") => OpKind::Put {
            key,
            value: text(value)?,
        },
        (Model::Kv, "append") => OpKind::Append {
            key,
            value: text(value)?,
        },
        (_, f) => {
            return Err(HistoryError::field(
                e.line,
                ":f",
                format!(
                    ":{f} does not belong to this history's model ({})",
                    model.name()
                ),
            ))
        }
    };
    Ok(kind)
}
