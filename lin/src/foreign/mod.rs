//! Histories written by other tools: Jepsen's EDN histories (register, cas-register and queue
//! workloads, read as Knossos reads them), the `jepsen.util` log lines of older Jepsen runs, and
//! porcupine's key-value logs. [`parse_any`] detects the format from the content (or takes it
//! from the caller) and returns a [`History`] of the matching model; `docs/HISTORY-foreign.md`
//! documents the mapping, above all of `:info` (unknown outcome).

pub mod edn;
pub mod jepsen;

use crate::{parse_history, History, HistoryError};

/// A history file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// synclab's HISTORY.md (JSON Lines with a `synclab_history` header).
    Synclab,
    /// EDN operation maps: Jepsen histories, porcupine's kv logs.
    Edn,
    /// `jepsen.util` log lines (`INFO  jepsen.util - 3 :invoke :read nil`).
    JepsenLog,
}

impl Format {
    /// The name used by `synclab check --format`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Synclab => "synclab",
            Format::Edn => "edn",
            Format::JepsenLog => "jepsen-log",
        }
    }

    /// The format called `name` (`synclab`, `edn` or `jepsen-log`).
    pub fn from_name(name: &str) -> Option<Format> {
        [Format::Synclab, Format::Edn, Format::JepsenLog]
            .into_iter()
            .find(|f| f.name() == name)
    }
}

/// Guesses the format from the content: a first line with `"synclab_history"` is synclab's,
/// a line with `jepsen.util - ` is a Jepsen log, anything starting with `{`, `[`, `(`, `#` or
/// `;` is EDN; `None` otherwise.
pub fn detect(text: &str) -> Option<Format> {
    let first = text.lines().find(|l| !l.trim().is_empty())?.trim_start();
    if first.starts_with('{') && first.contains("\"synclab_history\"") {
        return Some(Format::Synclab);
    }
    if text
        .lines()
        .take(1000)
        .any(|l| l.contains("jepsen.util - "))
    {
        return Some(Format::JepsenLog);
    }
    matches!(first.as_bytes()[0], b'{' | b'[' | b'(' | b'#' | b';').then_some(Format::Edn)
}

/// Parses `text` in `format`, or in the detected format when `format` is `None`; returns the
/// history and the format used.
pub fn parse_any(text: &str, format: Option<Format>) -> Result<(History, Format), HistoryError> {
    let format = match format.or_else(|| detect(text)) {
        Some(f) => f,
        None => {
            return Err(HistoryError::line(
                1,
                "unknown format: expected a synclab history (HISTORY.md), Jepsen EDN, a \
                 jepsen.util log or a porcupine kv log",
            ))
        }
    };
    let history = match format {
        Format::Synclab => parse_history(text)?,
        Format::Edn => {
            let forms = edn::read_records(text)
                .map_err(|e| HistoryError::line(e.line, format!("bad EDN: {}", e.message)))?;
            jepsen::history_from_events(jepsen::events_from_edn(forms)?)?
        }
        Format::JepsenLog => jepsen::history_from_events(jepsen::events_from_log(text)?)?,
    };
    Ok((history, format))
}
