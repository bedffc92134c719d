//! The simulator's part of `synclab demo`: one handshake and close under a lossy network, with
//! its ladder diagram.

use crate::scenario::builtin::builtin;
use crate::trace::{ladder, text, Trace};
use crate::world::{run, RunOptions};
use serde_json::{json, Value};

/// The built-in the demo runs.
pub const DEMO_SCENARIO: &str = "handshake-close-under-loss";

/// What the demo did.
#[derive(Clone, Debug)]
pub struct DemoSummary {
    pub scenario: String,
    pub seed: u64,
    /// Segments the TCPs sent.
    pub segments: u64,
    /// Of those, lost.
    pub lost: u64,
    pub virtual_ms: u64,
    /// Every expectation and oracle held.
    pub ok: bool,
    /// The ladder diagram (terminal text).
    pub diagram: String,
    /// Failures, one line each.
    pub failures: Vec<String>,
}

impl DemoSummary {
    /// A human summary with the ladder diagram.
    pub fn text(&self) -> String {
        let mut s = format!(
            "TCP simulation: {} (seed {}): {} — {} segments sent, {} lost, {} ms of virtual time\n\n{}",
            self.scenario,
            self.seed,
            if self.ok { "ok" } else { "FAILED" },
            self.segments,
            self.lost,
            self.virtual_ms,
            self.diagram
        );
        for f in &self.failures {
            s.push_str(f);
            s.push('\n');
        }
        s
    }

    /// As JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "scenario": self.scenario,
            "seed": self.seed,
            "segments": self.segments,
            "lost": self.lost,
            "virtual_ms": self.virtual_ms,
            "ok": self.ok,
            "failures": self.failures,
        })
    }
}

/// Runs the handshake-and-close scenario under loss with this seed.
pub fn handshake_under_loss(seed: u64) -> DemoSummary {
    let sc = builtin(DEMO_SCENARIO).expect("the demo scenario is built in");
    let r = run(
        &sc,
        &RunOptions {
            seed,
            trace: true,
            ..Default::default()
        },
    );
    let lines = r.trace.clone().unwrap_or_default().join("\n");
    let diagram = Trace::parse("demo", &lines)
        .map(|t| text::render(&ladder::build(&t)))
        .unwrap_or_default();
    DemoSummary {
        scenario: sc.name.clone(),
        seed,
        segments: r.segments,
        lost: r.lost,
        virtual_ms: r.virtual_ms,
        ok: r.ok,
        diagram,
        failures: r.failures.iter().map(|f| f.text()).collect(),
    }
}
