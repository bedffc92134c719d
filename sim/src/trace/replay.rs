//! Replay: re-execute a trace and diff the outputs line by line; the first differing line is
//! the divergence (lines compare byte for byte, but a trace from an older build may lack keys
//! added since: [`super::diff`]).
//!
//! Two modes ([`Mode`]):
//! - [`Mode::RecordedFates`] (the default): the network's decisions come from the trace, not
//!   the RNG: every segment's fate (lost, delivered at t, duplicated, held back) from its `send`
//!   line and every drawn ISN from its `state` line ([`super::fates`]). The TCP state machines,
//!   sockets, scenario steps and oracles run for real against that recorded network. So a trace
//!   replays whatever the RNG, its stream or its draw order, and a hand-edited fate replays
//!   too: the run goes where the edit leads (to its end, oracles on), and the divergence says
//!   where it first departs from the recorded outputs.
//! - [`Mode::FromSeed`]: re-run the embedded scenario with the recorded seed and network
//!   overrides, drawing every choice from the RNG again (what replay did at first; it checks
//!   that the seed still gives the same run, e.g. after a change to the RNG's use).

use super::{diff, fates, Trace, TraceError};
use crate::scenario::{parse_scenario, Scenario};
use crate::tcp::Mutant;
use crate::world::{run, NetOverride, RunOptions, RunResult};
use serde_json::Value;

/// Where a replay's choices come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Segment fates and drawn ISNs from the trace.
    #[default]
    RecordedFates,
    /// Everything from the recorded seed.
    FromSeed,
}

/// Where a replay first differed from the recording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// 1-based line of the trace file.
    pub line: usize,
    pub recorded: String,
    pub replayed: String,
}

/// The outcome of a replay.
#[derive(Clone, Debug)]
pub struct Replay {
    pub mode: Mode,
    pub lines: usize,
    pub divergence: Option<Divergence>,
    /// The replayed run: its verdict, failures (oracles included) and its own trace.
    pub run: RunResult,
}

fn override_of(t: &Trace) -> Result<NetOverride, TraceError> {
    let o = &t.meta()["override"];
    let bad = |key: &str| TraceError {
        file: t.file.clone(),
        line: t.line_no[0],
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

/// The scenario embedded in the trace's header, with the header's `mutant` (if any) switched on.
pub fn scenario_of(t: &Trace) -> Result<Scenario, TraceError> {
    let meta = t.meta();
    let source = meta["source"].as_str().unwrap_or_default();
    let file = meta["file"].as_str().unwrap_or_default();
    let refused = |key: &str, message: String| TraceError {
        file: t.file.clone(),
        line: t.line_no[0],
        key: key.into(),
        message,
    };
    let mut sc = parse_scenario(file, source)
        .map_err(|e| refused("source", format!("embedded scenario refused: {e}")))?;
    if let Some(m) = meta.get("mutant") {
        sc.tcp.mutant = m.as_str().and_then(Mutant::parse).ok_or_else(|| {
            refused(
                "mutant",
                format!("{m} is not a mutant ({})", Mutant::names()),
            )
        })?;
    }
    Ok(sc)
}

/// Re-executes `t` in `mode` and compares.
pub fn replay(t: &Trace, mode: Mode) -> Result<Replay, TraceError> {
    let sc = scenario_of(t)?;
    let recorded = match mode {
        Mode::RecordedFates => Some(fates::recording(t, &sc)?),
        Mode::FromSeed => None,
    };
    let opts = RunOptions {
        seed: t.meta()["seed"].as_u64().unwrap_or(0),
        net: override_of(t)?,
        trace: true,
        recorded,
    };
    let r = run(&sc, &opts);
    let got = r.trace.as_deref().unwrap_or_default();
    let n = got.len().max(t.lines.len());
    let past_end = t.line_no.last().map_or(1, |l| l + 1);
    let divergence = (0..n).find_map(|i| {
        let rec = t.lines.get(i);
        let rep = got.get(i);
        let same = matches!((rec, rep), (Some(a), Some(b)) if diff::same(a, b));
        (!same).then(|| Divergence {
            line: t.line_no.get(i).copied().unwrap_or(past_end),
            recorded: rec.cloned().unwrap_or_else(|| "(end of trace)".into()),
            replayed: rep.cloned().unwrap_or_else(|| "(end of trace)".into()),
        })
    });
    Ok(Replay {
        mode,
        lines: t.lines.len(),
        divergence,
        run: r,
    })
}
