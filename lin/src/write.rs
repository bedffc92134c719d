//! Writing a [`History`] in the HISTORY.md format (what `synclab run --history FILE` saves).
//! Operations are written in the order given; fields in a fixed, readable order.

use super::history::{Header, History, Model, Op, OpKind, Value};
use std::io::{self, Write};
use std::path::Path;

/// Writes `history` (header line, then one line per operation) to `out`.
pub fn write_history<W: Write>(out: W, history: &History) -> io::Result<()> {
    write_parts(out, &history.header, &history.ops)
}

/// Writes a header and operations to `out` (for callers that do not own a [`History`]).
pub fn write_parts<W: Write>(out: W, header: &Header, ops: &[Op]) -> io::Result<()> {
    let mut out = io::BufWriter::new(out);
    writeln!(out, "{}", header_line(header))?;
    for op in ops {
        writeln!(out, "{}", op_line(op))?;
    }
    out.flush()
}

/// Creates (or truncates) the file at `path` and writes `history` to it.
pub fn save_history(path: impl AsRef<Path>, history: &History) -> io::Result<()> {
    write_history(std::fs::File::create(path)?, history)
}

/// The header as one JSON line (no newline).
pub fn header_line(header: &Header) -> String {
    let mut s = format!(
        "{{\"synclab_history\":1,\"model\":\"{}\"",
        header.model.name()
    );
    match header.model {
        Model::Queue { capacity: Some(c) } => s.push_str(&format!(",\"capacity\":{c}")),
        Model::Semaphore { permits } => s.push_str(&format!(",\"permits\":{permits}")),
        _ => {}
    }
    for (k, v) in &header.extra {
        s.push_str(&format!(",{}:{v}", json_str(k)));
    }
    s.push('}');
    s
}

/// One operation as one JSON line (no newline).
pub fn op_line(op: &Op) -> String {
    let v = |x: &Option<Value>| x.map_or_else(|| "null".to_string(), |x| x.to_string());
    let args = match &op.kind {
        OpKind::Enqueue { value } => format!(",\"value\":{value}"),
        OpKind::Dequeue { value } => format!(",\"value\":{}", v(value)),
        OpKind::Acquire { n } | OpKind::Release { n } => format!(",\"n\":{n}"),
        OpKind::Read { key, value } => format!(",\"key\":{},\"value\":{}", json_str(key), v(value)),
        OpKind::Write { key, value } => format!(",\"key\":{},\"value\":{value}", json_str(key)),
        OpKind::Cas {
            key,
            expected,
            value,
        } => format!(
            ",\"key\":{},\"expected\":{},\"value\":{value}",
            json_str(key),
            v(expected)
        ),
        OpKind::Get { key, value } => format!(
            ",\"key\":{},\"value\":{}",
            json_str(key),
            value
                .as_deref()
                .map_or_else(|| "null".to_string(), json_str)
        ),
        OpKind::Put { key, value } | OpKind::Append { key, value } => {
            format!(",\"key\":{},\"value\":{}", json_str(key), json_str(value))
        }
    };
    let ok = op.ok.map_or_else(|| "null".to_string(), |b| b.to_string());
    let ret = op
        .return_ns
        .map_or_else(|| "null".to_string(), |r| r.to_string());
    format!(
        "{{\"process\":{},\"op\":\"{}\"{args},\"ok\":{ok},\"invoke_ns\":{},\"return_ns\":{ret}}}",
        op.process,
        op.kind.name(),
        op.invoke_ns
    )
}

fn json_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}
