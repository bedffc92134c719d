//! `synclab bench`: throughput and round-trip figures beside peers measured in the same run, the
//! ratios ours ÷ peer (min/median/max over rounds), optionally an SVG chart of them.

use super::output::{environment_failure, Exit, Outcome};
use crate::bench;
use crate::procs::WorkerExe;
use serde_json::json;
use std::fmt::Write as _;
use std::io::IsTerminal;

/// Options of `synclab bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Smaller counts (seconds instead of tens of seconds).
    #[arg(long)]
    pub quick: bool,
    /// Rounds per benchmark, 1..=100 (interleaved; each figure is the median of its rounds, each
    /// ratio is taken within a round and given as min/median/max over the rounds).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=100))]
    pub rounds: u16,
    /// Internal (tests): a thousandth of the counts, so the machinery runs in seconds; the
    /// figures mean nothing.
    #[arg(long, hide = true, conflicts_with = "quick")]
    pub smoke: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Also write an SVG chart of the ratios to this file.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<std::path::PathBuf>,
    /// Measure only what this ratio needs (repeatable; a `--json` ratio key such as
    /// `rtt_vs_cacheline`). Default: every ratio.
    #[arg(long, value_name = "RATIO")]
    pub only: Vec<String>,
}

/// Runs the benchmarks.
pub fn run(args: BenchArgs) -> Exit {
    // SIGINT/SIGTERM: stop after the current measurement (whose workers `reap_all` kills and
    // reaps at once), remove its regions, exit 130/143, as `synclab run` does.
    if let Err(e) = crate::procs::signals::install() {
        return environment_failure(args.json, format!("cannot install signal handlers: {e}"));
    }
    let exe = match WorkerExe::current_synclab() {
        Ok(e) => e,
        Err(e) => return environment_failure(args.json, format!("cannot find own binary: {e}")),
    };
    let only = if args.only.is_empty() {
        None
    } else {
        match bench::ratios::figures_for(&args.only) {
            Ok(names) => Some(names),
            Err(e) => {
                return Outcome {
                    json: json!({"ok": false, "error": e}),
                    text: format!("synclab bench: {e}\n"),
                    exit: Exit::BadInput,
                }
                .emit(args.json)
            }
        }
    };
    let load_at_start = load_average();
    let busy = busy_warning(load_at_start);
    if let Some(w) = &busy {
        eprintln!("synclab bench: warning: {w}");
    }
    let scale = match (args.quick, args.smoke) {
        (_, true) => bench::Scale::Smoke,
        (true, false) => bench::Scale::Quick,
        (false, false) => bench::Scale::Full,
    };
    let bar = (!args.json && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    if !args.json {
        eprintln!(
            "… measuring, {} interleaved rounds (machine noise matters: compare the ratios, \
             not the absolutes)",
            args.rounds
        );
    }
    let progress = |i: usize, total: usize, name: &str| {
        if let Some(bar) = &bar {
            bar.set_length(total as u64);
            bar.set_position(i as u64);
            bar.set_message(name.to_string());
        }
    };
    let figures = bench::run_all(&exe, scale, args.rounds.into(), only.as_deref(), progress);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if let Some(signal) = crate::procs::signals::received() {
        return super::output::interrupted(args.json, signal);
    }
    let figures = match figures {
        Ok(f) => f,
        Err(e) => {
            return Outcome {
                json: json!({"ok": false, "error": e}),
                text: format!("benchmark failed: {e}\n"),
                exit: Exit::CheckFailed,
            }
            .emit(args.json)
        }
    };
    let keys = (!args.only.is_empty()).then_some(args.only.as_slice());
    let ratios = match bench::ratios::compute_selected(&figures, keys) {
        Ok(r) => r,
        Err(e) => {
            return Outcome {
                json: json!({"ok": false, "error": e}),
                text: format!("benchmark failed: {e}\n"),
                exit: Exit::CheckFailed,
            }
            .emit(args.json)
        }
    };
    let machine = machine();
    if let Some(path) = &args.svg {
        let title = format!(
            "synclab bench: ours ÷ peers, {} rounds{} ({})",
            args.rounds,
            if args.quick { ", --quick" } else { "" },
            machine["cpu"].as_str().unwrap_or("?")
        );
        if let Err(e) = std::fs::write(path, bench::svg::chart(&ratios, &title)) {
            return Outcome {
                json: json!({"ok": false, "error": format!("cannot write {}: {e}", path.display())}),
                text: format!("cannot write {}: {e}\n", path.display()),
                exit: Exit::BadInput,
            }
            .emit(args.json);
        }
    }
    let not_built: serde_json::Map<String, serde_json::Value> = bench::ratios::not_built()
        .into_iter()
        .filter(|(k, _)| args.only.is_empty() || args.only.iter().any(|o| o == k))
        .map(|(k, why)| (k.to_string(), json!(why)))
        .collect();
    let mut text = figures_text(&figures);
    let _ = writeln!(
        text,
        "\nratios (ours ÷ peer, each within a round; min/median/max over {} rounds):\n",
        args.rounds
    );
    text.push_str(&bench::ratios::markdown_table(&ratios));
    for (k, why) in &not_built {
        let _ = writeln!(text, "{k}: {}", why.as_str().unwrap_or_default());
    }
    let _ = writeln!(
        text,
        "\nmachine: {} cores, {}, kernel {}; load average at the end: {}",
        machine["nproc"],
        machine["cpu"].as_str().unwrap_or("?"),
        machine["kernel"].as_str().unwrap_or("?"),
        machine["loadavg"].as_str().unwrap_or("?")
    );
    if let Some(w) = &busy {
        let _ = writeln!(text, "warning: {w}");
    }
    let ratio_map: serde_json::Map<String, serde_json::Value> = ratios
        .iter()
        .map(|r| (r.key.to_string(), json!(r)))
        .collect();
    Outcome {
        json: json!({"ok": true, "rounds": args.rounds, "quick": args.quick,
                     "figures": figures, "ratios": ratio_map, "not_built": not_built,
                     "machine": machine, "load_at_start": load_at_start,
                     "busy_warning": busy}),
        text,
        exit: Exit::Ok,
    }
    .emit(args.json)
}

/// One line per figure: its median and its range over the rounds.
fn figures_text(figures: &[bench::Figure]) -> String {
    let mut text = String::new();
    for f in figures {
        let (lo, hi) = f
            .samples
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                (lo.min(x), hi.max(x))
            });
        let (shown, range) = match f.unit {
            bench::MSGS => (
                format!("{:>10.1} M msgs/s", f.value / 1e6),
                format!("({:.1}-{:.1})", lo / 1e6, hi / 1e6),
            ),
            bench::GBS => (
                format!("{:>10.2} GB/s", f.value),
                format!("({lo:.2}-{hi:.2})"),
            ),
            bench::NS_OP => (
                format!("{:>10.1} ns/op", f.value),
                format!("({lo:.1}-{hi:.1})"),
            ),
            _ => (
                format!("{:>10.0} ns/round trip", f.value),
                format!("({lo:.0}-{hi:.0})"),
            ),
        };
        let _ = writeln!(text, "{:<72} {shown}  {range}", f.name);
    }
    text
}

/// This machine: `nproc`, the CPU model (`/proc/cpuinfo`), the kernel release, `/proc/loadavg`.
fn machine() -> serde_json::Value {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or_else(|| "unknown CPU".to_string(), |(_, m)| m.trim().to_string());
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    json!({
        "nproc": nproc,
        "cpu": cpu,
        "kernel": read("/proc/sys/kernel/osrelease").trim(),
        "loadavg": read("/proc/loadavg").split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    })
}

/// The 1-minute load average (`/proc/loadavg`), if readable.
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// A warning when other work was running as the benchmarks started (a 1-minute load average
/// above half the cores): the two sides of every pair here spin on their own core, so a busy
/// machine deschedules them and the figures (and ratios) mean little.
fn busy_warning(load: Option<f64>) -> Option<String> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let load = load?;
    (load > cores / 2.0).then(|| {
        format!(
            "the machine was busy as the benchmarks started (load average {load:.2} on \
             {cores} cores): spinning peers get descheduled, so these figures are not \
             comparable with a quiet run"
        )
    })
}
