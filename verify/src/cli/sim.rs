//! `synclab sim`: the deterministic TCP handshake simulator (crate `synclab-sim`): run a
//! scenario, replay a trace, draw a trace's ladder diagram, list the built-ins and mutants;
//! `explore` and `merge` live in `sim_explore.rs`, the
//! scenario loading and network flags both share in `sim_input.rs` (so neither file imports the
//! other's helpers: `sim.rs` only dispatches to `sim_explore.rs`).

use super::input;
use super::output::{bad_input, Exit, Outcome};
use super::sim_input::{scenarios, write_trace, NetFlags};
use serde_json::json;
use synclab_sim::scenario::builtin;
use synclab_sim::tcp::Mutant;
use synclab_sim::trace::replay::{self, Mode};
use synclab_sim::trace::{ladder, svg, text, Trace};
use synclab_sim::{run as run_scenario, RunOptions};

/// Options of `synclab sim`.
#[derive(clap::Args, Debug)]
pub struct SimArgs {
    #[command(subcommand)]
    command: SimCommand,
}

#[derive(clap::Subcommand, Debug)]
enum SimCommand {
    /// Run a scenario (a built-in name or a TOML file) and check it.
    Run(RunArgs),
    /// Re-execute a trace against its recorded network (or --from-seed) and diff its outputs
    /// step by step.
    Replay(ReplayArgs),
    /// Draw a trace's ladder diagram (text, or SVG with --svg).
    Diagram(DiagramArgs),
    /// List the built-in scenarios.
    List(ListArgs),
    /// Sweep seeds (with optional faults), or search exhaustively (--exhaustive), and report
    /// any run where an oracle fired.
    Explore(super::sim_explore::ExploreArgs),
    /// Join the --json reports of `sim explore --shard I/N` into one report.
    Merge(super::sim_explore::MergeArgs),
    /// Run a scenario on real Linux sockets in a private network namespace and compare.
    Kernel(super::sim_kernel::KernelArgs),
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// Built-in scenario name or scenario file (`-`: stdin; at most 4 MiB; format:
    /// docs/SCENARIOS.md).
    #[arg(long)]
    scenario: String,
    /// RNG seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[command(flatten)]
    net: NetFlags,
    /// Write the JSON Lines trace here.
    #[arg(long)]
    trace: Option<String>,
    /// Switch on a deliberate bug of the TCP model (`synclab sim list` names them).
    #[arg(long)]
    mutant: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
struct ReplayArgs {
    /// Trace file (JSON Lines, from `sim run --trace`; `-`: stdin; at most 256 MiB).
    file: String,
    /// Re-run from the recorded seed (every choice drawn from the RNG again) instead of
    /// taking the segments' fates and drawn ISNs from the trace.
    #[arg(long = "from-seed")]
    from_seed: bool,
    /// Write the replayed run's own trace here (after a hand-edited fate: the run it led to).
    #[arg(long)]
    trace: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
struct DiagramArgs {
    /// Trace file (`-`: stdin; at most 256 MiB).
    file: String,
    /// Write an SVG here instead of printing text.
    #[arg(long)]
    svg: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
struct ListArgs {
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Runs `synclab sim …`.
pub fn run(args: SimArgs) -> Exit {
    match args.command {
        SimCommand::Run(a) => sim_run(a),
        SimCommand::Replay(a) => sim_replay(a),
        SimCommand::Diagram(a) => sim_diagram(a),
        SimCommand::List(a) => sim_list(a),
        SimCommand::Explore(a) => super::sim_explore::sim_explore(a),
        SimCommand::Merge(a) => super::sim_explore::sim_merge(a),
        SimCommand::Kernel(a) => super::sim_kernel::sim_kernel(a),
    }
}

fn sim_run(a: RunArgs) -> Exit {
    if let Some(out) = &a.trace {
        if let Err(e) = input::check_output(out, &[&a.scenario]) {
            return bad_input(a.json, e);
        }
    }
    let (mut scenarios, net) = match scenarios(&a.scenario, false, &a.net) {
        Ok(x) => x,
        Err(e) => return bad_input(a.json, e),
    };
    match super::sim_explore::mutant(a.mutant.as_deref()) {
        Ok(m) => scenarios[0].tcp.mutant = m,
        Err(e) => return bad_input(a.json, e),
    }
    let r = run_scenario(
        &scenarios[0],
        &RunOptions {
            seed: a.seed,
            net,
            trace: a.trace.is_some(),
            ..Default::default()
        },
    );
    if let (Some(path), Some(lines)) = (&a.trace, &r.trace) {
        if let Err(e) = write_trace(path, lines) {
            return bad_input(a.json, e);
        }
    }
    let mut text = format!(
        "{} (seed {}): {}\n  {} segments ({} lost), {} events, {} ms of virtual time\n",
        r.scenario,
        r.seed,
        if r.ok { "ok" } else { "FAILED" },
        r.segments,
        r.lost,
        r.events,
        r.virtual_ms
    );
    for f in &r.failures {
        text.push_str("  ");
        text.push_str(&f.text().replace('\n', "\n  "));
        text.push('\n');
    }
    if let Some(p) = &a.trace {
        text.push_str(&format!("  trace: {p}\n"));
    }
    Outcome {
        json: r.to_json(),
        text,
        exit: Exit::from_ok(r.ok),
    }
    .emit(a.json)
}

fn read_trace(file: &str) -> Result<Trace, String> {
    let body = input::read_text(file, input::MAX_TRACE_BYTES, "trace")?;
    Trace::parse(file, &body).map_err(|e| e.to_string())
}

fn sim_replay(a: ReplayArgs) -> Exit {
    if let Some(out) = &a.trace {
        if let Err(e) = input::check_output(out, &[&a.file]) {
            return bad_input(a.json, e);
        }
    }
    let t = match read_trace(&a.file) {
        Ok(t) => t,
        Err(e) => return bad_input(a.json, e),
    };
    let mode = if a.from_seed {
        Mode::FromSeed
    } else {
        Mode::RecordedFates
    };
    let r = match replay::replay(&t, mode) {
        Ok(r) => r,
        Err(e) => return bad_input(a.json, e),
    };
    if let (Some(path), Some(lines)) = (&a.trace, &r.run.trace) {
        if let Err(e) = write_trace(path, lines) {
            return bad_input(a.json, e);
        }
    }
    let mode_name = match mode {
        Mode::RecordedFates => "recorded-fates",
        Mode::FromSeed => "from-seed",
    };
    let divergence = r.divergence.as_ref().map_or(
        serde_json::Value::Null,
        |d| json!({"line": d.line, "recorded": d.recorded, "replayed": d.replayed}),
    );
    let json = json!({"ok": r.divergence.is_none(), "mode": mode_name, "lines": r.lines,
                      "divergence": divergence, "run_ok": r.run.ok,
                      "unrecorded": r.run.unrecorded, "run": r.run.to_json()});
    let mut text = match &r.divergence {
        None => format!(
            "replay of {} ({mode_name}): {} lines, no divergence\n",
            a.file, r.lines
        ),
        Some(d) => format!(
            "replay of {} ({mode_name}): DIVERGES at line {}\n  recorded: {}\n  replayed: {}\n",
            a.file, d.line, d.recorded, d.replayed
        ),
    };
    text.push_str(&format!(
        "  the replayed run {}",
        if r.run.ok { "passed" } else { "FAILED" }
    ));
    if r.run.unrecorded > 0 {
        text.push_str(&format!(
            "; {} segments had no recorded fate (they met a quiet network)",
            r.run.unrecorded
        ));
    }
    text.push('\n');
    for f in &r.run.failures {
        text.push_str("    ");
        text.push_str(&f.text().replace('\n', "\n    "));
        text.push('\n');
    }
    if let Some(p) = &a.trace {
        text.push_str(&format!("  its trace: {p}\n"));
    }
    Outcome {
        json,
        text,
        exit: Exit::from_ok(r.divergence.is_none()),
    }
    .emit(a.json)
}

fn sim_diagram(a: DiagramArgs) -> Exit {
    if let Some(out) = &a.svg {
        if let Err(e) = input::check_output(out, &[&a.file]) {
            return bad_input(a.json, e);
        }
    }
    let t = match read_trace(&a.file) {
        Ok(t) => t,
        Err(e) => return bad_input(a.json, e),
    };
    let l = ladder::build(&t);
    match &a.svg {
        Some(out) => {
            if let Err(e) = std::fs::write(out, svg::render(&l)) {
                return bad_input(a.json, format!("{out}: cannot write: {e}"));
            }
            Outcome {
                json: json!({"ok": true, "svg": out, "rows": l.rows.len()}),
                text: format!("wrote {out} ({} rows)\n", l.rows.len()),
                exit: Exit::Ok,
            }
            .emit(a.json)
        }
        None => {
            let d = text::render(&l);
            Outcome {
                json: json!({"ok": true, "rows": l.rows.len(), "diagram": d}),
                text: d,
                exit: Exit::Ok,
            }
            .emit(a.json)
        }
    }
}

fn sim_list(a: ListArgs) -> Exit {
    let all = builtin::all();
    let list: Vec<_> = all
        .iter()
        .map(|s| json!({"name": s.name, "description": s.description}))
        .collect();
    let w = all.iter().map(|s| s.name.len()).max().unwrap_or(0);
    let mut text: String = all
        .iter()
        .map(|s| format!("{:<w$}  {}\n", s.name, s.description))
        .collect();
    let mutants: Vec<_> = Mutant::ALL
        .iter()
        .map(|m| json!({"name": m.name(), "description": m.description()}))
        .collect();
    text.push_str("\nmutants of the TCP model (--mutant NAME on sim run / sim explore):\n");
    for m in Mutant::ALL {
        text.push_str(&format!("  {:<26}  {}\n", m.name(), m.description()));
    }
    Outcome {
        json: json!({"scenarios": list, "mutants": mutants}),
        text,
        exit: Exit::Ok,
    }
    .emit(a.json)
}
