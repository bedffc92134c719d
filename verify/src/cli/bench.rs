//! `synclab bench`: throughput and round-trip figures beside peers measured in the same run.

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
    /// Rounds per benchmark (interleaved; each figure is the median of its rounds).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=100))]
    pub rounds: u16,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Runs the benchmarks.
pub fn run(args: BenchArgs) -> Exit {
    let exe = match WorkerExe::current_synclab() {
        Ok(e) => e,
        Err(e) => return environment_failure(args.json, format!("cannot find own binary: {e}")),
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
    let figures = bench::run_all(&exe, args.quick, args.rounds.into(), progress);
    if let Some(bar) = bar {
        bar.finish_and_clear();
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
    // Figures by their exact names (as `bench::run_all` makes them).
    let get = |name: &str| {
        figures
            .iter()
            .find(|f| f.name == name)
            .map_or(f64::NAN, |f| f.value)
    };
    let batches = get("synclab spsc, 2 processes, batches of 256");
    let single = get(&format!(
        "synclab spsc ({}), 2 processes, single push/pop",
        bench::label(synclab_core::Wakeups::Futex)
    ));
    let rtrb = get("rtrb, 2 threads, single push/pop");
    let rings_trip = get("synclab spsc round trip, 2 processes (Wakeups::Spin)");
    let ratios = json!({
        "spsc_2proc_over_rtrb_threads": batches / rtrb,
        "spsc_2proc_single_over_rtrb_threads": single / rtrb,
        "spsc_2proc_over_crossbeam_threads": batches / get("crossbeam ArrayQueue, 2 threads"),
        "round_trip_over_cacheline": rings_trip / get("bare cache-line ping-pong, 2 processes"),
        "spsc_2proc_single_over_unix_socket": single / get(bench::unix_socket::THROUGHPUT),
        "round_trip_over_unix_socket": rings_trip / get(bench::unix_socket::ROUND_TRIP),
    });
    let mut text = String::new();
    for f in &figures {
        let shown = if f.unit == "msgs/s" {
            format!("{:>10.1} M msgs/s", f.value / 1e6)
        } else {
            format!("{:>10.0} ns/round trip", f.value)
        };
        let (lo, hi) = f
            .samples
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                (lo.min(x), hi.max(x))
            });
        let range = if f.unit == "msgs/s" {
            format!("({:.1}-{:.1})", lo / 1e6, hi / 1e6)
        } else {
            format!("({lo:.0}-{hi:.0})")
        };
        let _ = writeln!(text, "{:<62} {shown}  {range}", f.name);
    }
    let _ =
        writeln!(
        text,
        "\nratios (same run): spsc across processes / rtrb in-process = {:.2} (batches), {:.2} \
         (single push/pop, default Wakeups::Futex); / crossbeam = {:.2}; \
         round trip / bare cache line = {:.2}\n\
         against a Unix socket (same run): spsc single push/pop across processes / one write per \
         message = {:.2}; spsc round trip / socket round trip = {:.3}",
        ratios["spsc_2proc_over_rtrb_threads"].as_f64().unwrap_or(f64::NAN),
        ratios["spsc_2proc_single_over_rtrb_threads"]
            .as_f64()
            .unwrap_or(f64::NAN),
        ratios["spsc_2proc_over_crossbeam_threads"]
            .as_f64()
            .unwrap_or(f64::NAN),
        ratios["round_trip_over_cacheline"].as_f64().unwrap_or(f64::NAN),
        ratios["spsc_2proc_single_over_unix_socket"]
            .as_f64()
            .unwrap_or(f64::NAN),
        ratios["round_trip_over_unix_socket"]
            .as_f64()
            .unwrap_or(f64::NAN),
    );
    Outcome {
        json: json!({"ok": true, "figures": figures, "ratios": ratios}),
        text,
        exit: Exit::Ok,
    }
    .emit(args.json)
}
