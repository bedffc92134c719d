//! Reading a history file (HISTORY.md) into a [`History`], with errors that name the line and the
//! field. Header fields this version does not know are kept (the contract allows optional
//! additions); a parameter of another model (`permits` on a queue) and an operation field of
//! another operation (`n` on an enqueue) are errors, because they are almost always mistakes.

pub use super::error::HistoryError;
use super::history::{Header, History, Model, Op, OpKind, Value};
use super::json::{self, JsonError, NotObject};
use serde_json::{Map, Value as Json};
use std::io::BufRead;

/// Parses a whole history file's text. Blank lines are skipped; the first line must be the header.
pub fn parse_history(text: &str) -> Result<History, HistoryError> {
    parse_history_reader(text.as_bytes())
}

/// Parses a history read line by line from `reader`, holding one line at a time (a 10-million
/// operation file is about 1 GB of text; only the operations are kept). Same rules as
/// [`parse_history`]; a line that is not UTF-8 or a read error is a [`HistoryError`] naming the
/// line.
pub fn parse_history_reader<R: BufRead>(mut reader: R) -> Result<History, HistoryError> {
    let mut buf = Vec::new();
    let mut line_no = 0;
    let mut header = None;
    let mut ops = Vec::new();
    while let Some(line) = next_line(&mut reader, &mut buf, &mut line_no)? {
        match &header {
            None if line.trim().is_empty() => {
                return Err(HistoryError::line(
                    1,
                    "bad header: expected {\"synclab_history\":1,\"model\":...} on the first line",
                ))
            }
            None => header = Some(parse_header(line)?),
            Some(_) if line.trim().is_empty() => {}
            Some(h) => ops.push(parse_op(line, line_no, &h.model)?),
        }
    }
    let Some(header) = header else {
        return Err(HistoryError::line(
            1,
            "bad header: expected {\"synclab_history\":1,\"model\":...} on the first line",
        ));
    };
    let history = History { header, ops };
    history.validate()?;
    Ok(history)
}

/// Reads the next line into `buf` (without its `\n` or `\r\n`, as [`str::lines`] splits) and
/// counts it; `None` at the end.
fn next_line<'b, R: BufRead>(
    reader: &mut R,
    buf: &'b mut Vec<u8>,
    line_no: &mut usize,
) -> Result<Option<&'b str>, HistoryError> {
    buf.clear();
    let n = reader
        .read_until(b'\n', buf)
        .map_err(|e| HistoryError::line(*line_no + 1, format!("cannot read: {e}")))?;
    if n == 0 {
        return Ok(None);
    }
    *line_no += 1;
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
    match std::str::from_utf8(buf) {
        Ok(s) => Ok(Some(s)),
        Err(e) => Err(HistoryError::line(
            *line_no,
            format!("not UTF-8 text (byte {} of the line)", e.valid_up_to() + 1),
        )),
    }
}

/// Parses the header line (line 1).
pub fn parse_header(line: &str) -> Result<Header, HistoryError> {
    let obj = header_object(line)?;
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

/// Every field of an operation line this version reads (others are optional additions, ignored).
const ALL_OP_FIELDS: &[&str] = &[
    "process",
    "op",
    "ok",
    "invoke_ns",
    "return_ns",
    "value",
    "n",
    "key",
    "expected",
];

/// Parses one operation line (`line_no` is 1-based).
pub fn parse_op(line: &str, line_no: usize, model: &Model) -> Result<Op, HistoryError> {
    let obj = match json::fields(line, ALL_OP_FIELDS) {
        Ok(Ok(fields)) => fields,
        Ok(Err(NotObject::Other(v))) => {
            return Err(HistoryError::line(
                line_no,
                format!(
                    "bad operation: expected a JSON object, found {}",
                    kind_of(&v)
                ),
            ))
        }
        Err(e) => return Err(json_error(e, line_no, "bad operation")),
    };
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
                    model.ops_list()
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
                model.ops_list()
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

/// Checks the invariants documented on [`Op`] ([`History::validate`]; kept here for callers of
/// the reader).
pub fn validate(history: &History) -> Result<(), HistoryError> {
    history.validate()
}

/// The header line as a JSON object, duplicate keys refused.
fn header_object(line: &str) -> Result<Map<String, Json>, HistoryError> {
    match json::strict_value(line) {
        Ok(Json::Object(m)) => Ok(m),
        Ok(other) => Err(HistoryError::line(
            1,
            format!(
                "bad header: expected a JSON object, found {}",
                kind_of(&other)
            ),
        )),
        Err(e) => Err(json_error(e, 1, "bad header")),
    }
}

/// A [`JsonError`] on `line_no` as a [`HistoryError`].
fn json_error(e: JsonError, line_no: usize, what: &str) -> HistoryError {
    match e {
        JsonError::Syntax(e) => {
            HistoryError::line(line_no, format!("{what}: not valid JSON ({e})"))
        }
        JsonError::Duplicate(key) => HistoryError::field(
            line_no,
            &key,
            "duplicate key: a JSON object names it more than once, so its value is ambiguous",
        ),
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
