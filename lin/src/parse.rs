//! Reading a history file (HISTORY.md) into a [`History`], with errors that name the line and the
//! field. Header fields this version does not know are kept (the contract allows optional
//! additions); a parameter of another model (`permits` on a queue) and an operation field of
//! another operation (`n` on an enqueue) are errors, because they are almost always mistakes.

use super::history::{Header, History, Model, Op, OpKind, Value};
use serde_json::{Map, Value as Json};

/// A malformed history: the 1-based line (0 for an operation built in memory), the field at fault
/// (if one is), and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {detail}")]
pub struct HistoryError {
    /// 1-based line number.
    pub line: usize,
    /// The field at fault, if the error is about one.
    pub field: Option<String>,
    /// What is wrong (without the line).
    pub message: String,
    /// `field` and `message` as printed.
    detail: String,
}

impl HistoryError {
    /// An error about `field` on `line`.
    pub fn field(line: usize, field: &str, message: impl Into<String>) -> HistoryError {
        let message = message.into();
        HistoryError {
            line,
            field: Some(field.to_string()),
            detail: format!("field `{field}`: {message}"),
            message,
        }
    }

    /// An error about the whole `line`.
    pub fn line(line: usize, message: impl Into<String>) -> HistoryError {
        let message = message.into();
        HistoryError {
            line,
            field: None,
            detail: message.clone(),
            message,
        }
    }
}

/// Parses a whole history file's text. Blank lines are skipped; the first line must be the header.
pub fn parse_history(text: &str) -> Result<History, HistoryError> {
    let mut lines = text.lines().enumerate();
    let header = match lines.next() {
        Some((_, line)) if !line.trim().is_empty() => parse_header(line)?,
        _ => {
            return Err(HistoryError::line(
                1,
                "bad header: expected {\"synclab_history\":1,\"model\":...} on the first line",
            ))
        }
    };
    let mut ops = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        ops.push(parse_op(line, i + 1, &header.model)?);
    }
    let history = History { header, ops };
    validate(&history)?;
    Ok(history)
}

/// Parses the header line (line 1).
pub fn parse_header(line: &str) -> Result<Header, HistoryError> {
    let obj = object(line, 1, "bad header")?;
    let version = match obj.get("synclab_history") {
        None => {
            return Err(HistoryError::field(
                1,
                "synclab_history",
                "missing (bad header: is this a synclab history file?)",
            ))
        }
        Some(v) => uint(v, 1, "synclab_history")?,
    };
    if version != 1 {
        return Err(HistoryError::field(
            1,
            "synclab_history",
            format!("unsupported format version {version} (this synclab reads version 1)"),
        ));
    }
    let model_name = match obj.get("model") {
        None => return Err(HistoryError::field(1, "model", "missing")),
        Some(Json::String(s)) => s.as_str(),
        Some(other) => {
            return Err(HistoryError::field(
                1,
                "model",
                format!("expected a string, found {other}"),
            ))
        }
    };
    let model = match model_name {
        "queue" => Model::Queue {
            capacity: match obj.get("capacity") {
                None | Some(Json::Null) => None,
                Some(v) => match uint(v, 1, "capacity")? {
                    0 => return Err(HistoryError::field(1, "capacity", "must be at least 1")),
                    c => Some(c),
                },
            },
        },
        "semaphore" => Model::Semaphore {
            permits: match obj.get("permits") {
                None => {
                    return Err(HistoryError::field(
                        1,
                        "permits",
                        "missing (required for model semaphore)",
                    ))
                }
                Some(v) => uint(v, 1, "permits")?,
            },
        },
        "register" => Model::Register,
        "kv" => Model::Kv,
        other => {
            return Err(HistoryError::field(
                1,
                "model",
                format!("unknown model `{other}` (expected queue, semaphore, register or kv)"),
            ))
        }
    };
    let mut extra = Map::new();
    for (k, v) in obj {
        let known_here = match k.as_str() {
            "synclab_history" | "model" => true,
            "capacity" => matches!(model, Model::Queue { .. }),
            "permits" => matches!(model, Model::Semaphore { .. }),
            _ => {
                extra.insert(k.clone(), v.clone());
                true
            }
        };
        if !known_here {
            return Err(HistoryError::field(
                1,
                &k,
                format!("does not apply to model {}", model.name()),
            ));
        }
    }
    Ok(Header { model, extra })
}

/// Fields each operation may carry besides the common ones.
const OP_FIELDS: [&str; 4] = ["value", "n", "key", "expected"];

/// Parses one operation line (`line_no` is 1-based).
pub fn parse_op(line: &str, line_no: usize, model: &Model) -> Result<Op, HistoryError> {
    let obj = object(line, line_no, "bad operation")?;
    let get = |f: &str| -> Result<&Json, HistoryError> {
        obj.get(f)
            .ok_or_else(|| HistoryError::field(line_no, f, "missing"))
    };
    let process = uint(get("process")?, line_no, "process")?;
    let op_name = match get("op")? {
        Json::String(s) => s.as_str(),
        other => {
            return Err(HistoryError::field(
                line_no,
                "op",
                format!("expected a string, found {other}"),
            ))
        }
    };
    let ok = match get("ok")? {
        Json::Bool(b) => Some(*b),
        Json::Null => None,
        other => {
            return Err(HistoryError::field(
                line_no,
                "ok",
                format!("expected true, false or null, found {other}"),
            ))
        }
    };
    let invoke_ns = int(get("invoke_ns")?, line_no, "invoke_ns")?;
    let return_ns = match get("return_ns")? {
        Json::Null => None,
        v => Some(int(v, line_no, "return_ns")?),
    };
    // A result field is ignored unless the operation completed as recorded.
    let result_matters = ok == Some(true);
    let value = |required: bool| -> Result<Option<Value>, HistoryError> {
        match obj.get("value") {
            None if required => Err(HistoryError::field(line_no, "value", "missing")),
            None | Some(Json::Null) => Ok(None),
            Some(v) => Ok(Some(int(v, line_no, "value")?)),
        }
    };
    let nonnull = |v: Option<Value>| {
        v.ok_or_else(|| HistoryError::field(line_no, "value", "must be an integer, not null"))
    };
    let key = || -> Result<String, HistoryError> {
        match get("key")? {
            Json::String(s) => Ok(s.clone()),
            other => Err(HistoryError::field(
                line_no,
                "key",
                format!("expected a string, found {other}"),
            )),
        }
    };
    let text = |required: bool| -> Result<Option<String>, HistoryError> {
        match obj.get("value") {
            None if required => Err(HistoryError::field(line_no, "value", "missing")),
            None | Some(Json::Null) if !required => Ok(None),
            Some(Json::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(HistoryError::field(
                line_no,
                "value",
                format!("expected a string, found {}", kind_of(other)),
            )),
            None => Err(HistoryError::field(line_no, "value", "missing")),
        }
    };
    let count = || -> Result<u64, HistoryError> {
        match obj.get("n") {
            None => Ok(1),
            Some(v) => match uint(v, line_no, "n")? {
                0 => Err(HistoryError::field(line_no, "n", "must be at least 1")),
                n => Ok(n),
            },
        }
    };
    let (kind, allowed): (OpKind, &[&str]) = match op_name {
        "enqueue" => (
            OpKind::Enqueue {
                value: nonnull(value(true)?)?,
            },
            &["value"],
        ),
        "dequeue" => (
            OpKind::Dequeue {
                value: if result_matters {
                    value(true)?
                } else {
                    value(false).unwrap_or(None)
                },
            },
            &["value"],
        ),
        "acquire" => (OpKind::Acquire { n: count()? }, &["n"]),
        "release" => (OpKind::Release { n: count()? }, &["n"]),
        "read" => (
            OpKind::Read {
                key: key()?,
                value: if result_matters {
                    value(true)?
                } else {
                    value(false).unwrap_or(None)
                },
            },
            &["key", "value"],
        ),
        "write" => (
            OpKind::Write {
                key: key()?,
                value: nonnull(value(true)?)?,
            },
            &["key", "value"],
        ),
        "cas" => (
            OpKind::Cas {
                key: key()?,
                expected: match get("expected")? {
                    Json::Null => None,
                    v => Some(int(v, line_no, "expected")?),
                },
                value: nonnull(value(true)?)?,
            },
            &["key", "expected", "value"],
        ),
        "get" => (
            OpKind::Get {
                key: key()?,
                value: if result_matters {
                    text(true)?
                } else {
                    text(false).unwrap_or(None)
                },
            },
            &["key", "value"],
        ),
        "put" | "append" => {
            let (key, value) = (key()?, text(true)?.unwrap_or_default());
            let kind = if op_name == "put" {
                OpKind::Put { key, value }
            } else {
                OpKind::Append { key, value }
            };
            (kind, &["key", "value"])
        }
        other => {
            return Err(HistoryError::field(
                line_no,
                "op",
                format!(
                    "unknown op `{other}` for model {} (expected {})",
                    model.name(),
                    ops_of(model)
                ),
            ))
        }
    };
    if !kind.fits(model) {
        return Err(HistoryError::field(
            line_no,
            "op",
            format!(
                "op `{op_name}` does not belong to model {} (expected {})",
                model.name(),
                ops_of(model)
            ),
        ));
    }
    for f in OP_FIELDS {
        if obj.contains_key(f) && !allowed.contains(&f) {
            return Err(HistoryError::field(
                line_no,
                f,
                format!("does not apply to op `{op_name}`"),
            ));
        }
    }
    Ok(Op {
        process,
        kind,
        ok,
        invoke_ns,
        return_ns,
        line: line_no,
    })
}

fn ops_of(model: &Model) -> &'static str {
    match model {
        Model::Queue { .. } => "enqueue or dequeue",
        Model::Semaphore { .. } => "acquire or release",
        Model::Register => "read, write or cas",
        Model::Kv => "get, put or append",
    }
}

/// Checks the invariants documented on [`Op`]: times in order, `ok` null when the operation
/// never returned, operations fit the model, one operation in flight per process.
pub fn validate(history: &History) -> Result<(), HistoryError> {
    let model = &history.header.model;
    for op in &history.ops {
        if !op.kind.fits(model) {
            return Err(HistoryError::field(
                op.line,
                "op",
                format!(
                    "op `{}` does not belong to model {} (expected {})",
                    op.kind.name(),
                    model.name(),
                    ops_of(model)
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
    }
    let mut order: Vec<usize> = (0..history.ops.len()).collect();
    order.sort_by_key(|&i| {
        let op = &history.ops[i];
        (op.process, op.invoke_ns, op.return_ns.unwrap_or(i64::MAX))
    });
    for pair in order.windows(2) {
        let (a, b) = (&history.ops[pair[0]], &history.ops[pair[1]]);
        if a.process != b.process {
            continue;
        }
        match a.return_ns {
            None => {
                return Err(HistoryError::field(
                    b.line,
                    "invoke_ns",
                    format!(
                        "process {} already has an operation in flight: the one on line {} never returned",
                        b.process, a.line
                    ),
                ))
            }
            Some(r) if r > b.invoke_ns => {
                return Err(HistoryError::field(
                    b.line,
                    "invoke_ns",
                    format!(
                        "process {} already has an operation in flight: {} overlaps the one on line {} (invoked {}, returned {r})",
                        b.process, b.invoke_ns, a.line, a.invoke_ns
                    ),
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

fn object(line: &str, line_no: usize, what: &str) -> Result<Map<String, Json>, HistoryError> {
    match serde_json::from_str::<Json>(line) {
        Ok(Json::Object(m)) => Ok(m),
        Ok(other) => Err(HistoryError::line(
            line_no,
            format!("{what}: expected a JSON object, found {}", kind_of(&other)),
        )),
        Err(e) => Err(HistoryError::line(
            line_no,
            format!("{what}: not valid JSON ({e})"),
        )),
    }
}

fn kind_of(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// A signed 64-bit integer field.
fn int(v: &Json, line: usize, field: &str) -> Result<i64, HistoryError> {
    match v {
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(i)
            } else if n.is_u64() {
                Err(HistoryError::field(
                    line,
                    field,
                    format!("{n} is out of range (must fit in a signed 64-bit integer)"),
                ))
            } else {
                Err(HistoryError::field(
                    line,
                    field,
                    format!("expected an integer, found {n}"),
                ))
            }
        }
        other => Err(HistoryError::field(
            line,
            field,
            format!("expected an integer, found {}", kind_of(other)),
        )),
    }
}

/// A non-negative 64-bit integer field.
fn uint(v: &Json, line: usize, field: &str) -> Result<u64, HistoryError> {
    match v {
        Json::Number(n) => {
            if let Some(u) = n.as_u64() {
                Ok(u)
            } else {
                Err(HistoryError::field(
                    line,
                    field,
                    format!("expected a non-negative integer, found {n}"),
                ))
            }
        }
        other => Err(HistoryError::field(
            line,
            field,
            format!("expected a non-negative integer, found {}", kind_of(other)),
        )),
    }
}
