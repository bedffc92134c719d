//! The ladder diagram as terminal text, in the style of RFC 9293's figures:
//!
//! ```text
//!   t ms  A                                                     B
//!      0  SYN-SENT     --> <SEQ=100><CTL=SYN>               --> SYN-RECEIVED   @1
//!      1  ESTABLISHED  <-- <SEQ=300><ACK=101><CTL=SYN,ACK>  <-- SYN-RECEIVED   @2
//! ```
//! A lost segment ends in `X`; `@N` is its arrival time.

use super::ladder::{End, Ladder, Row};
use std::fmt::Write as _;

/// Renders the diagram.
pub fn render(l: &Ladder) -> String {
    let w_label = l
        .rows
        .iter()
        .map(|r| match r {
            Row::Seg {
                label, injected, ..
            } => label.len() + if *injected { 4 } else { 0 },
            Row::State { .. } => 0,
        })
        .max()
        .unwrap_or(20)
        .max(20);
    let w_state = 14;
    let mut out = String::new();
    let _ = writeln!(out, "{} (seed {})", l.scenario, l.seed);
    let _ = writeln!(
        out,
        "{:>7}  {:<w_state$} {:^w$} {}",
        "t ms",
        l.left,
        "",
        l.right,
        w = w_label + 8
    );
    for r in &l.rows {
        match r {
            Row::Seg {
                t,
                end,
                from_left,
                label,
                sender_state,
                receiver_state,
                injected,
                dup,
            } => {
                let label = if *injected {
                    format!("... {label}")
                } else {
                    label.clone()
                };
                let label = format!("{label:<w_label$}");
                let (ls, rs, mid) = if *from_left {
                    let head = if *end == End::Lost { " X " } else { "-->" };
                    (
                        sender_state.as_str(),
                        receiver_state.as_str(),
                        format!("--> {label} {head}"),
                    )
                } else {
                    let start = if *end == End::Lost { " X " } else { "<--" };
                    (
                        receiver_state.as_str(),
                        sender_state.as_str(),
                        format!("{start} {label} <--"),
                    )
                };
                let note = match end {
                    End::Lost => "lost".to_string(),
                    End::At(a) if *dup => format!("@{a} (duplicate)"),
                    End::At(a) => format!("@{a}"),
                    End::InFlight => "in flight".to_string(),
                };
                let _ = writeln!(out, "{t:>7}  {ls:<w_state$} {mid} {rs:<w_state$} {note}");
            }
            Row::State {
                t,
                left,
                state,
                note,
            } => {
                let note = if note.is_empty() {
                    String::new()
                } else {
                    format!("({note})")
                };
                let text = format!("{state} {note}");
                if *left {
                    let _ = writeln!(out, "{t:>7}  {text}");
                } else {
                    let _ = writeln!(
                        out,
                        "{t:>7}  {:<w_state$} {:w$} {text}",
                        "",
                        "",
                        w = w_label + 8
                    );
                }
            }
        }
    }
    out
}
