//! The viewer: one self-contained HTML page (inline CSS and JavaScript, nothing fetched) that
//! draws a checked history. Per partition (register/kv key, or the whole history), one row per
//! process with each operation as a bar from its call to its return on a time axis; the
//! linearization found (or the longest partial one) numbered on the bars and joined by a line;
//! the witness of a violation highlighted; operations that never returned, operations of unknown
//! outcome, and injected faults (the optional header field `faults`, see `docs/HISTORY-viewer.md`)
//! as marks of their own. Hovering a bar shows its call and return times, arguments, result and
//! the model state before and after its step.
//!
//! [`render`] builds the page; [`svg`] draws one partition; `page.css` and `page.js` are
//! embedded as they are. Opening the page with `#selftest` makes its script hover the first
//! witness bar (or the first bar) and write a marker into the page: the browser test reads it.

pub mod svg;

use crate::{CheckReport, History, Op, PartitionExplanation, Verdict};
use serde_json::{json, Value as Json};

/// At most this many operations are drawn (the first by invocation); the page says so.
pub const MAX_DRAWN_OPS: usize = 20_000;

const CSS: &str = include_str!("page.css");
const JS: &str = include_str!("page.js");

/// A fault injected into a process during the run, read from the header's optional `faults`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// The process it hit.
    pub process: u64,
    /// `SIGSTOP`, `SIGKILL`, or another name the recorder chose.
    pub signal: String,
    /// When it was sent (ns, the history's clock).
    pub at_ns: i64,
    /// For a SIGSTOP: when the process was continued.
    pub until_ns: Option<i64>,
}

/// The faults listed in the header's optional `faults` field (entries that are not objects with
/// an integer `process` and `at_ns` and a string `signal` are skipped).
pub fn faults(history: &History) -> Vec<Fault> {
    let Some(Json::Array(list)) = history.header.extra.get("faults") else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|f| {
            Some(Fault {
                process: f.get("process")?.as_u64()?,
                signal: f.get("signal")?.as_str()?.to_string(),
                at_ns: f.get("at_ns")?.as_i64()?,
                until_ns: f.get("until_ns").and_then(Json::as_i64),
            })
        })
        .collect()
}

/// The whole page for `history`, checked as `report`, explained as `parts` (from
/// [`crate::explain()`]); `title` names it (usually the file).
///
/// ```
/// use synclab_lin::{check, explain, html, CheckOptions, History, Model, Op, OpKind};
/// let mut h = History::new(Model::Queue { capacity: None });
/// h.ops.push(Op::new(0, OpKind::Enqueue { value: 1 }, 0, 10));
/// h.ops.push(Op::new(1, OpKind::Dequeue { value: Some(1) }, 5, 20));
/// let page = html::render(&h, &check(&h, &CheckOptions::default()), &explain(&h, None), "demo");
/// assert!(page.starts_with("<!DOCTYPE html>") && page.contains("class=\"bar"));
/// assert!(!page.contains("http://") && !page.contains("https://"), "nothing fetched");
/// ```
pub fn render(
    history: &History,
    report: &CheckReport,
    parts: &[PartitionExplanation],
    title: &str,
) -> String {
    let drawn = drawn_ops(history);
    let witness: Vec<usize> = report.witness.clone();
    let faults = faults(history);
    let mut body = String::new();
    body.push_str(&summary(history, report, parts, drawn.len(), &faults));
    body.push_str(&svg::legend());
    for part in parts {
        body.push_str(&svg::partition(history, part, &drawn, &witness, &faults));
    }
    let data = page_data(history, parts, &witness);
    // `</` must not appear inside a script element.
    let data = data.to_string().replace("</", "<\\/");
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{title} — synclab linearizability viewer</title>\n<style>\n{CSS}</style>\n</head>\n\
         <body>\n<h1>{title}</h1>\n{body}<div id=\"tooltip\" role=\"tooltip\"></div>\n\
         <script type=\"application/json\" id=\"data\">{data}</script>\n<script>\n{JS}</script>\n\
         </body>\n</html>\n",
        title = esc(title),
    )
}

/// Which operations are drawn: all, or the first [`MAX_DRAWN_OPS`] by invocation.
fn drawn_ops(history: &History) -> Vec<bool> {
    let mut order: Vec<usize> = (0..history.ops.len()).collect();
    order.sort_by_key(|&i| (history.ops[i].invoke_ns, i));
    let mut drawn = vec![false; history.ops.len()];
    for &i in order.iter().take(MAX_DRAWN_OPS) {
        drawn[i] = true;
    }
    drawn
}

fn summary(
    history: &History,
    report: &CheckReport,
    parts: &[PartitionExplanation],
    drawn: usize,
    faults: &[Fault],
) -> String {
    let (class, word) = match report.verdict {
        Verdict::Linearizable => ("ok", "linearizable"),
        Verdict::NotLinearizable => ("bad", "NOT linearizable"),
        Verdict::Unknown => ("unknown", "unknown (gave up at the time limit)"),
    };
    let n = history.ops.len();
    let mut s = format!(
        "<p class=\"verdict {class}\">{word}</p>\n<p class=\"facts\">model <b>{}</b> · {n} \
         operations · {} partition(s) · decided by the {} checker",
        esc(history.header.model.name()),
        parts.len(),
        esc(report.checker)
    );
    if report.verdict == Verdict::NotLinearizable {
        s.push_str(&format!(
            " · witness: {} operation(s){}",
            report.witness.len(),
            if report.witness_minimal {
                ", minimal"
            } else {
                ", not fully minimized"
            }
        ));
    }
    if !faults.is_empty() {
        s.push_str(&format!(" · {} injected fault(s)", faults.len()));
    }
    s.push_str("</p>\n");
    if let Some(v) = &report.violation {
        s.push_str(&format!("<p class=\"violation\">{}</p>\n", esc(v)));
    }
    if drawn < n {
        s.push_str(&format!(
            "<p class=\"note\">Only the first {drawn} of {n} operations (by invocation) are \
             drawn.</p>\n"
        ));
    }
    s
}

/// What the script needs for tooltips: every drawn operation's facts and its step.
fn page_data(history: &History, parts: &[PartitionExplanation], witness: &[usize]) -> Json {
    let mut step_of: Vec<Option<(usize, usize)>> = vec![None; history.ops.len()];
    for (p, part) in parts.iter().enumerate() {
        for (k, st) in part.steps.iter().enumerate() {
            step_of[st.op] = Some((p, k));
        }
    }
    let ops: Vec<Json> = history
        .ops
        .iter()
        .enumerate()
        .map(|(i, op)| {
            let step = step_of[i].map(|(p, k)| {
                let st = &parts[p].steps[k];
                json!({"n": k + 1, "effect": st.effect, "before": st.before, "after": st.after,
                       "complete": parts[p].result == crate::SearchResult::Linearizable})
            });
            json!({
                "desc": op.describe(),
                "process": op.process,
                "line": op.line,
                "call": op.invoke_ns,
                "ret": op.return_ns,
                "args": args(op),
                "result": result(op),
                "status": svg::status(op).1,
                "witness": witness.contains(&i),
                "step": step,
            })
        })
        .collect();
    json!({ "ops": ops })
}

/// The operation's arguments in words.
fn args(op: &Op) -> String {
    use crate::OpKind::*;
    match &op.kind {
        Enqueue { value } => format!("value {value}"),
        Dequeue { .. } => "none".into(),
        Acquire { n } | Release { n } => format!("n {n}"),
        Read { key, .. } | Get { key, .. } => format!("key {key:?}"),
        Write { key, value } => format!("key {key:?}, value {value}"),
        Put { key, value } | Append { key, value } => format!("key {key:?}, value {value:?}"),
        Cas {
            key,
            expected,
            value,
        } => format!(
            "key {key:?}, expected {}, new {value}",
            expected.map_or_else(|| "null".to_string(), |e| e.to_string())
        ),
    }
}

/// The operation's result in words.
fn result(op: &Op) -> String {
    use crate::OpKind::*;
    let base = match (&op.kind, op.ok) {
        (_, None) if op.return_ns.is_none() => return "never returned (outcome unknown)".into(),
        (_, None) => return "outcome unknown".into(),
        (_, Some(false)) => return "refused / failed (no effect)".into(),
        (Dequeue { value: None }, _) => "empty".to_string(),
        (Dequeue { value: Some(v) }, _) => v.to_string(),
        (Read { value, .. }, _) => value.map_or_else(|| "null".to_string(), |v| v.to_string()),
        (Get { value, .. }, _) => format!("{:?}", value.as_deref().unwrap_or("")),
        _ => "ok".to_string(),
    };
    base
}

/// Escapes text for HTML and SVG (content and attribute values).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
