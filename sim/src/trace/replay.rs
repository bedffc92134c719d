//! Replay: re-run a trace's inputs (the scenario text, seed and network overrides of its header;
//! the simulator is deterministic, so these fix every later input) and diff the outputs line by
//! line. The first differing line is the divergence.

use super::{Trace, TraceError};
use crate::scenario::parse_scenario;
use crate::world::{run, NetOverride, RunOptions, RunResult};
use serde_json::Value;

/// Where a replay first differed from the recording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// 1-based line of the trace.
    pub line: usize,
    pub recorded: String,
    pub replayed: String,
}

/// The outcome of a replay.
#[derive(Clone, Debug)]
pub struct Replay {
    pub lines: usize,
    pub divergence: Option<Divergence>,
    pub run: RunResult,
}

fn override_of(t: &Trace) -> Result<NetOverride, TraceError> {
    let o = &t.meta()["override"];
    let bad = |key: &str| TraceError {
        file: t.file.clone(),
        line: 1,
        key: format!("override.{key}"),
        message: "not a number".into(),
    };
    let f = |key: &str| -> Result<Option<f64>, TraceError> {
        match o.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_f64().map(Some).ok_or_else(|| bad(key)),
        }
    };
    let delay = match o.get("delay_ms") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let a = v
                .get(0)
                .and_then(Value::as_u64)
                .ok_or_else(|| bad("delay_ms"))?;
            let b = v
                .get(1)
                .and_then(Value::as_u64)
                .ok_or_else(|| bad("delay_ms"))?;
            Some((a, b))
        }
    };
    Ok(NetOverride {
        loss: f("loss")?,
        duplicate: f("duplicate")?,
        reorder: f("reorder")?,
        delay,
    })
}

/// Re-runs `t` and compares.
pub fn replay(t: &Trace) -> Result<Replay, TraceError> {
    let meta = t.meta();
    let source = meta["source"].as_str().unwrap_or_default();
    let file = meta["file"].as_str().unwrap_or_default();
    let sc = parse_scenario(file, source).map_err(|e| TraceError {
        file: t.file.clone(),
        line: 1,
        key: "source".into(),
        message: format!("embedded scenario refused: {e}"),
    })?;
    let opts = RunOptions {
        seed: meta["seed"].as_u64().unwrap_or(0),
        net: override_of(t)?,
        trace: true,
    };
    let r = run(&sc, &opts);
    let got = r.trace.clone().unwrap_or_default();
    let n = got.len().max(t.lines.len());
    let divergence = (0..n).find_map(|i| {
        let rec = t.lines.get(i);
        let rep = got.get(i);
        (rec != rep).then(|| Divergence {
            line: i + 1,
            recorded: rec.cloned().unwrap_or_else(|| "(end of trace)".into()),
            replayed: rep.cloned().unwrap_or_else(|| "(end of trace)".into()),
        })
    });
    Ok(Replay {
        lines: t.lines.len(),
        divergence,
        run: r,
    })
}
