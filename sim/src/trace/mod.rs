//! `sim::trace`: the JSON Lines trace of a run, its replay, and its ladder diagram.
//!
//! A trace's first line is the header (`"ev":"meta"`: format version `synclab_trace` = 1,
//! scenario text, seed, network overrides); every line is one JSON object, and an object with a
//! duplicate key is refused ([`strict_json`]);
//! then one line per input (`call`, `arrive`, `inject`, `timer`) followed by the outputs it
//! caused (`send` with the network's verdict, `state`, `error`, `return`, `oracle`); the last
//! line is `end` with the verdict.
//!
//! The network's verdict on a `send` line is its `fate`: `"lost"` with a `reason` (`loss`,
//! `partition`, `rule`); `"delivered"` with `arrive` (virtual ms) and, for a network duplicate,
//! `dup_arrive`; or `"held"` (held back behind the next segment of its direction) with
//! `arrive` and `release_at`, the latest it is let go. A connection whose ISS was drawn from the
//! seed (not taken from the scenario's `isn` list) has it as `iss` on its first `state` line.
//! These are all the choices a run makes, so a replay needs no RNG ([`replay::Mode`]).
//!
//! - [`replay`]: re-executes a trace (against its recorded network, or from its seed) and diffs
//!   every line ([`diff`]); [`fates`] reads the recorded network and refuses inconsistent
//!   fates;
//! - [`ladder`]: the trace as rows of a ladder (sequence) diagram;
//! - [`text`], [`svg`]: that diagram for the terminal and as an SVG file.

pub mod diff;
pub mod fates;
pub mod ladder;
pub mod replay;
pub mod strict_json;
pub mod svg;
pub mod text;

/// The trace format version this build writes and reads (`synclab_trace` in the header).
pub const TRACE_VERSION: u64 = 1;

use serde_json::Value;
use std::fmt;

/// A trace that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceError {
    pub file: String,
    pub line: usize,
    pub key: String,
    pub message: String,
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        } else {
            write!(
                f,
                "{}:{}: key `{}`: {}",
                self.file, self.line, self.key, self.message
            )
        }
    }
}

impl std::error::Error for TraceError {}

/// A parsed trace: its lines as text and as JSON (blank lines skipped).
#[derive(Clone, Debug)]
pub struct Trace {
    pub file: String,
    pub lines: Vec<String>,
    pub values: Vec<Value>,
    /// The 1-based line of the file each entry of `lines` came from.
    pub line_no: Vec<usize>,
}

/// A JSON error on one line: serde_json's message without its "at line 1" (the line is the
/// file's, given separately), with the column.
fn not_json(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let message = full.split(" at line ").next().unwrap_or(&full);
    format!("not JSON (column {}): {message}", e.column())
}

impl Trace {
    /// Parses trace text; the first line must be the header.
    pub fn parse(file: &str, text: &str) -> Result<Trace, TraceError> {
        let err = |line: usize, key: &str, message: String| TraceError {
            file: file.to_string(),
            line,
            key: key.to_string(),
            message,
        };
        let (line_no, lines): (Vec<usize>, Vec<String>) = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| (i + 1, l.to_string()))
            .unzip();
        let mut values = Vec::with_capacity(lines.len());
        for (&n, l) in line_no.iter().zip(&lines) {
            let v: Value = strict_json::parse(l).map_err(|e| err(n, "", not_json(&e)))?;
            if !v.get("ev").is_some_and(Value::is_string) {
                return Err(err(n, "ev", "missing or not a string".into()));
            }
            values.push(v);
        }
        let first = line_no.first().copied().unwrap_or(1);
        let Some(meta) = values.first() else {
            return Err(err(1, "", "empty trace".into()));
        };
        if meta["ev"] != "meta" {
            return Err(err(
                first,
                "ev",
                "the first line must be the \"meta\" header".into(),
            ));
        }
        match meta.get("synclab_trace") {
            Some(v) if v.as_u64() == Some(TRACE_VERSION) => {}
            Some(v) => {
                return Err(err(
                    first,
                    "synclab_trace",
                    format!(
                        "unsupported trace version {v}: this synclab reads version {TRACE_VERSION}"
                    ),
                ))
            }
            None => {
                return Err(err(
                    first,
                    "synclab_trace",
                    format!("missing: the header must give the format version ({TRACE_VERSION})"),
                ))
            }
        }
        for key in ["source", "file"] {
            if !meta[key].is_string() {
                return Err(err(first, key, "missing or not a string".into()));
            }
        }
        if !meta["seed"].is_u64() {
            return Err(err(
                first,
                "seed",
                "missing or not an unsigned integer".into(),
            ));
        }
        if !meta["hosts"].is_array() {
            return Err(err(first, "hosts", "missing or not an array".into()));
        }
        Ok(Trace {
            file: file.to_string(),
            lines,
            values,
            line_no,
        })
    }

    /// The header.
    pub fn meta(&self) -> &Value {
        &self.values[0]
    }

    /// Host names, in scenario order.
    pub fn hosts(&self) -> Vec<String> {
        self.meta()["hosts"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}
