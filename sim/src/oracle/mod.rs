//! `sim::oracle`: the checks that run after every step of a simulation, and the end-of-run check
//! of a scenario's expectations.
//!
//! - [`invariants`]: virtual time never decreases (checked before every event); only RFC
//!   transitions; stream bytes delivered in order exactly once; both ends
//!   agree on sequence numbers once synchronized; and, when nothing is left to happen, a
//!   connection closed at both ends is CLOSED at both ends;
//! - [`protocol`]: checks on single inputs (close path, RST validation, timers act, EOF only
//!   after all data);
//! - [`expect`]: the scenario's `[expect]` (wire, trajectories, incarnations).

pub mod expect;
pub mod invariants;
pub mod protocol;

use serde_json::json;

/// One failed check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// `oracle:<name>`, `step`, `wire`, `socket` or `conn`.
    pub kind: String,
    /// Scenario line it refers to, if any.
    pub line: Option<usize>,
    pub expected: String,
    pub actual: String,
    /// Virtual time (ms) it was detected.
    pub t: u64,
    /// The last segments sent before it (oracle failures).
    pub last_segments: Vec<String>,
}

impl Failure {
    /// As JSON (`synclab sim run --json`'s `failures`).
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = json!({
            "kind": self.kind,
            "expected": self.expected,
            "actual": self.actual,
            "t": self.t,
        });
        if let Some(l) = self.line {
            v["line"] = json!(l);
        }
        if !self.last_segments.is_empty() {
            v["last_segments"] = json!(self.last_segments);
        }
        v
    }

    /// One human line (plus the last segments).
    pub fn text(&self) -> String {
        let line = self
            .line
            .map(|l| format!(" (line {l})"))
            .unwrap_or_default();
        let mut s = format!(
            "[{}] t={}ms{}: expected {}, got {}",
            self.kind, self.t, line, self.expected, self.actual
        );
        if !self.last_segments.is_empty() {
            s.push_str("\n  last segments before it:");
            for seg in &self.last_segments {
                s.push_str("\n    ");
                s.push_str(seg);
            }
        }
        s
    }

    /// Whether an oracle (not an expectation) fired.
    pub fn is_oracle(&self) -> bool {
        self.kind.starts_with("oracle:")
    }
}
