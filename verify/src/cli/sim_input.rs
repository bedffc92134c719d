//! What `synclab sim run` and `synclab sim explore` both take in: the network override flags
//! (checked against their ranges), the scenarios (a built-in, a file read with the input
//! bounds, or `all`), and the trace writer. Shared here so `sim.rs` and `sim_explore.rs` do not
//! import each other.

use super::input;
use synclab_sim::scenario::parse::MAX_MS;
use synclab_sim::scenario::{builtin, parse_scenario};
use synclab_sim::{NetOverride, Scenario};

/// The network overrides of `run` and `explore`.
#[derive(clap::Args, Debug)]
pub(super) struct NetFlags {
    /// Loss probability on every direction, 0..=1 (overrides the scenario's [net]).
    #[arg(long)]
    loss: Option<f64>,
    /// Duplication probability, 0..=1 (overrides [net]).
    #[arg(long)]
    dup: Option<f64>,
    /// Reordering probability, 0..=1 (overrides [net]).
    #[arg(long)]
    reorder: Option<f64>,
    /// One-way delay range in ms, `A..B` with 0 <= A <= B <= 10^12 (overrides [net]).
    #[arg(long = "delay-ms")]
    delay_ms: Option<String>,
}

fn prob(flag: &str, v: Option<f64>) -> Result<Option<f64>, String> {
    match v {
        Some(p) if !(0.0..=1.0).contains(&p) || p.is_nan() => {
            Err(format!("--{flag}: probability {p} is outside 0..=1"))
        }
        _ => Ok(v),
    }
}

fn delay(v: Option<&str>) -> Result<Option<(u64, u64)>, String> {
    let Some(s) = v else { return Ok(None) };
    let parsed = s
        .split_once("..")
        .and_then(|(a, b)| Some((a.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?)))
        .or_else(|| s.trim().parse::<u64>().ok().map(|a| (a, a)));
    match parsed {
        Some((a, b)) if a <= b && b <= MAX_MS => Ok(Some((a, b))),
        _ => Err(format!(
            "--delay-ms: expected MIN..MAX integers with 0 <= MIN <= MAX <= {MAX_MS}, found {s:?}"
        )),
    }
}

impl NetFlags {
    fn overrides(&self) -> Result<NetOverride, String> {
        Ok(NetOverride {
            loss: prob("loss", self.loss)?,
            duplicate: prob("dup", self.dup)?,
            reorder: prob("reorder", self.reorder)?,
            delay: delay(self.delay_ms.as_deref())?,
        })
    }
}

/// The prologue of `run` and `explore`: the network flags checked, then the scenarios loaded
/// (`all` is every built-in when `all_allowed`).
pub(super) fn scenarios(
    scenario: &str,
    all_allowed: bool,
    net: &NetFlags,
) -> Result<(Vec<Scenario>, NetOverride), String> {
    let net = net.overrides()?;
    let scenarios = if all_allowed && scenario == "all" {
        builtin::all()
    } else {
        vec![load_scenario(scenario)?]
    };
    Ok((scenarios, net))
}

/// A built-in by name, else a scenario file (or `-`, stdin) read with the input bounds.
fn load_scenario(name_or_path: &str) -> Result<Scenario, String> {
    if let Some(sc) = builtin::builtin(name_or_path) {
        return Ok(sc);
    }
    let src =
        input::read_text(name_or_path, input::MAX_SCENARIO_BYTES, "scenario").map_err(|e| {
            format!("{e} (and no built-in scenario has that name: see `synclab sim list`)")
        })?;
    parse_scenario(name_or_path, &src).map_err(|e| e.to_string())
}

/// Writes trace lines to `path`, one a line.
pub(super) fn write_trace(path: &str, lines: &[String]) -> Result<(), String> {
    let mut body = lines.join("\n");
    body.push('\n');
    std::fs::write(path, body).map_err(|e| format!("{path}: cannot write the trace: {e}"))
}
