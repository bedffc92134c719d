//! `synclab sim explore` and `synclab sim merge`: seed sweeps and the bounded exhaustive search
//! (on all cores, with a progress bar on a terminal), `--mutant`, `--shard I/N`, `--shrink`, and
//! the merge of shard reports. The number flags are checked against documented ranges (exit 2
//! with the value and the range); 0 seeds or depth 0 explore nothing and are refused.

use super::output::{bad_input, Exit, Outcome};
use super::sim_input::{scenarios, write_trace, NetFlags};
use serde_json::{json, Value};
use std::io::IsTerminal;
use synclab_sim::explore::shrink::{self, Shrunk};
use synclab_sim::explore::{self, merge, SearchOptions, Shard, SweepOptions};
use synclab_sim::tcp::Mutant;
use synclab_sim::{NetOverride, Scenario};

/// Largest `--seeds`.
pub const MAX_SEEDS: u64 = 100_000_000;
/// Largest `--depth`.
pub const MAX_DEPTH: u64 = 64;
/// Largest `--max-states`.
pub const MAX_STATES: u64 = 100_000_000;

#[derive(clap::Args, Debug)]
pub(super) struct ExploreArgs {
    /// Built-in scenario name, scenario file, or `all` (every built-in).
    #[arg(long)]
    scenario: String,
    /// How many seeds (1..=100000000; default 100). Not with --exhaustive.
    #[arg(long)]
    seeds: Option<u64>,
    /// First seed (with --exhaustive: the seed of the ISNs a scenario does not give).
    #[arg(long, default_value_t = 0)]
    first_seed: u64,
    #[command(flatten)]
    net: NetFlags,
    /// Bounded exhaustive search instead of random seeds: every choice of the network (deliver,
    /// drop, duplicate, reorder) for the first --depth segments of every path.
    #[arg(long)]
    exhaustive: bool,
    /// Choices per path of --exhaustive (1..=64; default 4).
    #[arg(long)]
    depth: Option<u64>,
    /// States per scenario before --exhaustive gives up on it, reported incomplete, exit 3 if
    /// no oracle fired (1..=100000000; default 2000000).
    #[arg(long)]
    max_states: Option<u64>,
    /// Switch on a deliberate bug of the TCP model (`synclab sim list` names them).
    #[arg(long)]
    mutant: Option<String>,
    /// Run only shard I of N (0 <= I < N): runs (or, with --exhaustive, scenarios) whose number
    /// is I modulo N. `synclab sim merge` joins the shards' --json reports.
    #[arg(long)]
    shard: Option<String>,
    /// Shrink the first failing run to a minimal fault schedule and script (steps) and write
    /// its trace here (`sim replay` reproduces it, `sim diagram` draws it).
    #[arg(long)]
    shrink: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
pub(super) struct MergeArgs {
    /// The shards' `sim explore --json` reports (one JSON object a file).
    #[arg(required = true)]
    files: Vec<String>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// A number flag in `1..=max`.
fn in_range(flag: &str, v: u64, max: u64, zero_means: &str) -> Result<u64, String> {
    if v == 0 {
        return Err(format!("--{flag} 0 {zero_means}; give 1..={max}"));
    }
    if v > max {
        return Err(format!(
            "--{flag} {v} is above the maximum {max}; give 1..={max}"
        ));
    }
    Ok(v)
}

/// `--mutant NAME`.
pub(super) fn mutant(name: Option<&str>) -> Result<Mutant, String> {
    match name {
        None => Ok(Mutant::None),
        Some(n) => Mutant::parse(n).ok_or_else(|| {
            format!(
                "--mutant: no mutant {n:?}; the mutants are {}",
                Mutant::names()
            )
        }),
    }
}

/// The progress bar: on stderr, only on a terminal and without --json.
fn progress_bar(json: bool, len: u64) -> Option<indicatif::ProgressBar> {
    (!json && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(len);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} {per_sec} eta {eta} {wide_msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    })
}

/// What was asked for, checked.
struct Plan {
    scenarios: Vec<Scenario>,
    net: NetOverride,
    mutant: Mutant,
    shard: Shard,
}

fn plan(a: &ExploreArgs) -> Result<Plan, String> {
    let (mut scs, net) = scenarios(&a.scenario, true, &a.net)?;
    let mutant = mutant(a.mutant.as_deref())?;
    for sc in &mut scs {
        sc.tcp.mutant = mutant;
    }
    let shard = match &a.shard {
        Some(s) => s.parse()?,
        None => Shard::default(),
    };
    if a.exhaustive {
        if a.seeds.is_some() {
            return Err("--seeds is for a seed sweep; --exhaustive enumerates instead".into());
        }
        if net.loss.is_some() || net.duplicate.is_some() || net.reorder.is_some() {
            return Err(
                "--loss, --dup and --reorder are for a seed sweep; --exhaustive \
                        enumerates every drop, duplicate and reorder"
                    .into(),
            );
        }
    } else if a.depth.is_some() || a.max_states.is_some() {
        return Err("--depth and --max-states need --exhaustive".into());
    }
    Ok(Plan {
        scenarios: scs,
        net,
        mutant,
        shard,
    })
}

pub(super) fn sim_explore(a: ExploreArgs) -> Exit {
    let p = match plan(&a) {
        Ok(p) => p,
        Err(e) => return bad_input(a.json, e),
    };
    let r = if a.exhaustive {
        exhaustive(&a, &p)
    } else {
        sweep(&a, &p)
    };
    match r {
        Ok(o) => o.emit(a.json),
        Err(e) => bad_input(a.json, e),
    }
}

fn header(mode: &str, params: Value, p: &Plan) -> Value {
    json!({"mode": mode, "params": params, "mutant": p.mutant.name(),
           "shard": {"index": p.shard.index, "count": p.shard.count}})
}

fn sweep(a: &ExploreArgs, p: &Plan) -> Result<Outcome, String> {
    let seeds = in_range(
        "seeds",
        a.seeds.unwrap_or(100),
        MAX_SEEDS,
        "explores nothing",
    )?;
    if a.first_seed.checked_add(seeds - 1).is_none() {
        return Err(format!(
            "--first-seed {} with --seeds {seeds} runs past the largest seed {}",
            a.first_seed,
            u64::MAX
        ));
    }
    let o = SweepOptions {
        first_seed: a.first_seed,
        seeds,
        net: p.net,
        shard: p.shard,
    };
    let total = shard_len(p.scenarios.len() as u64 * seeds, p.shard);
    let bar = progress_bar(a.json, total);
    let s = explore::sweep_with(&p.scenarios, &o, &|n| {
        if let Some(b) = &bar {
            b.inc(n);
        }
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let params = json!({"scenario": a.scenario, "first_seed": a.first_seed, "seeds": seeds,
                        "net": p.net.to_json(), "mutant": p.mutant.name()});
    let mut json = header("sweep", params, p);
    merge_into(&mut json, s.to_json());
    let mut text = s.text();
    if p.mutant != Mutant::None {
        text.push_str(&caught_line(p.mutant, !s.ok()));
    }
    let shrunk = match (&a.shrink, s.findings.first()) {
        (Some(out), Some(f)) => {
            let sc = by_name(&p.scenarios, &f.scenario);
            shrink::shrink_seed(sc, f.seed, p.net)
                .map(|sh| write_shrunk(out, &sh))
                .transpose()?
        }
        _ => None,
    };
    finish(a, json, text, shrunk, Exit::from_ok(s.ok()))
}

fn exhaustive(a: &ExploreArgs, p: &Plan) -> Result<Outcome, String> {
    let depth = in_range("depth", a.depth.unwrap_or(4), MAX_DEPTH, "explores nothing")?;
    let max_states = in_range(
        "max-states",
        a.max_states.unwrap_or(2_000_000),
        MAX_STATES,
        "explores nothing",
    )?;
    let o = SearchOptions {
        depth: depth as u32,
        seed: a.first_seed,
        max_states,
        shard: p.shard,
        ..Default::default()
    };
    let total = shard_len(p.scenarios.len() as u64, p.shard);
    let bar = progress_bar(a.json, total);
    let s = explore::search(&p.scenarios, &o, &|n| {
        if let Some(b) = &bar {
            b.inc(n);
        }
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let params = json!({"scenario": a.scenario, "depth": depth, "seed": a.first_seed,
                        "max_states": max_states, "mutant": p.mutant.name()});
    let mut json = header("exhaustive", params, p);
    merge_into(&mut json, s.to_json());
    let mut text = s.text();
    let failed = s.scenarios.iter().any(|x| x.finding_count > 0);
    if p.mutant != Mutant::None {
        text.push_str(&caught_line(p.mutant, failed));
    }
    let first = s.scenarios.iter().find_map(|x| x.findings.first());
    let shrunk = match (&a.shrink, first) {
        (Some(out), Some(f)) => {
            let sc = by_name(&p.scenarios, &f.scenario);
            shrink::shrink_path(sc, a.first_seed, &f.path)
                .map(|sh| write_shrunk(out, &sh))
                .transpose()?
        }
        _ => None,
    };
    // No oracle fired but a search stopped at --max-states: gave up at a limit (exit 3).
    let exit = match (failed, s.ok()) {
        (true, _) => Exit::CheckFailed,
        (false, false) => Exit::GaveUp,
        (false, true) => Exit::Ok,
    };
    finish(a, json, text, shrunk, exit)
}

/// How many of `jobs` jobs (numbered from 0) are the shard's.
fn shard_len(jobs: u64, shard: Shard) -> u64 {
    (jobs + shard.count - 1 - shard.index) / shard.count
}

fn caught_line(m: Mutant, caught: bool) -> String {
    format!(
        "mutant {m}: {}\n",
        if caught {
            "CAUGHT (an oracle fired)"
        } else {
            "not caught"
        }
    )
}

fn by_name<'s>(scs: &'s [Scenario], name: &str) -> &'s Scenario {
    scs.iter()
        .find(|s| s.name == name)
        .expect("a finding names a scenario searched")
}

fn write_shrunk(out: &str, sh: &Shrunk) -> Result<(Value, String), String> {
    write_trace(out, &sh.trace)?;
    let mut v = sh.to_json();
    v["trace"] = json!(out);
    Ok((v, format!("{}  trace: {out}\n", sh.text())))
}

fn merge_into(into: &mut Value, from: Value) {
    if let (Value::Object(a), Value::Object(b)) = (into, from) {
        a.extend(b);
    }
}

fn finish(
    a: &ExploreArgs,
    mut json: Value,
    mut text: String,
    shrunk: Option<(Value, String)>,
    exit: Exit,
) -> Result<Outcome, String> {
    if a.shrink.is_some() {
        match shrunk {
            Some((v, t)) => {
                json["shrunk"] = v;
                text.push_str(&t);
            }
            None => {
                json["shrunk"] = Value::Null;
                text.push_str("nothing to shrink: no oracle fired\n");
            }
        }
    }
    Ok(Outcome { json, text, exit })
}

pub(super) fn sim_merge(a: MergeArgs) -> Exit {
    let mut reports = Vec::new();
    for f in &a.files {
        let body = match std::fs::read_to_string(f) {
            Ok(b) => b,
            Err(e) => return bad_input(a.json, format!("{f}: cannot read: {e}")),
        };
        match serde_json::from_str::<Value>(body.trim()) {
            Ok(v) => reports.push((f.clone(), v)),
            Err(e) => return bad_input(a.json, format!("{f}: not one JSON object: {e}")),
        }
    }
    let m = match merge::merge(&reports) {
        Ok(m) => m,
        Err(e) => return bad_input(a.json, e),
    };
    let ok = m["ok"] == true;
    let text = merged_text(&m);
    Outcome {
        json: m,
        text,
        exit: Exit::from_ok(ok),
    }
    .emit(a.json)
}

fn merged_text(m: &Value) -> String {
    let secs = m["elapsed_s"].as_f64().unwrap_or(0.0);
    let mut s = format!("{} shards merged: ", m["shards"]);
    if m["mode"] == "sweep" {
        s.push_str(&format!(
            "{} runs, {} segments: {} with an oracle failure, {} with only expectation failures",
            m["runs"], m["segments"], m["oracle_failures"], m["expectation_failures"]
        ));
        let rate = m["runs_per_s"].as_f64().unwrap_or(0.0);
        s.push_str(&format!(" ({secs:.1} s of shard time, {rate:.0} runs/s)\n"));
    } else {
        s.push_str(&format!(
            "exhaustive search to depth {}: {} states, {} transitions, {} paths, deepest {}",
            m["depth"], m["states"], m["transitions"], m["paths"], m["deepest"]
        ));
        s.push_str(&format!(
            ", {} with an oracle failure\n",
            m["oracle_failures"]
        ));
    }
    for f in m["findings"].as_array().into_iter().flatten() {
        let text = |k: &str| f[k].as_str().unwrap_or("?").to_string();
        let seed = &f["seed"];
        s.push_str(&format!(
            "  {} --seed {seed}: {}\n",
            text("scenario"),
            text("kind")
        ));
    }
    s
}
