//! The `synclab` command line (clap). Each subcommand lives in its own file.
//!
//! Contract (DESIGN.md): with `--json` a subcommand prints exactly one JSON object on stdout
//! (argument errors included); exit codes in [`Exit`] (README "Exit codes").

mod bench;
mod check;
mod clean;
mod demo;
mod input;
mod model;
mod output;
mod run;
mod sim;
mod sim_explore;
mod sim_input;
mod sim_kernel;
mod worker;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

pub use output::{Exit, Outcome};

/// synclab: a verified concurrency core with a simulator.
#[derive(Parser, Debug)]
#[command(name = "synclab", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The main job on built-in defaults: real processes over shared-memory rings and a
    /// semaphore, checked; a model check and its mutant; a simulated handshake under loss.
    Demo(demo::DemoArgs),
    /// Run a loom model of a lock-free algorithm, optionally with a deliberate bug (mutant).
    Model(model::ModelArgs),
    /// Run real worker processes over a shared-memory ring or semaphore and check the result.
    Run(run::RunArgs),
    /// Benchmarks: our rings beside rtrb, crossbeam and a bare cache line, in one run.
    Bench(bench::BenchArgs),
    /// Deterministic TCP handshake simulator: run, replay, diagram, list (scenario format:
    /// docs/SCENARIOS.md).
    Sim(sim::SimArgs),
    /// Check a history file for linearizability (format: docs/HISTORY.md).
    Check(check::CheckArgs),
    /// Remove stale shared-memory regions: creator and every attached process dead.
    Clean(clean::CleanArgs),
    /// Internal: a worker process of a multi-process run.
    #[command(hide = true)]
    Worker(worker::WorkerArgs),
}

/// Parses the command line, runs the subcommand, and returns its exit code.
pub fn main() -> ExitCode {
    restore_sigpipe();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return argument_error(e),
    };
    let exit = match cli.command {
        Command::Worker(args) => return worker::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Run(args) => run::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Model(args) => model::run(args),
        Command::Check(args) => check::run(args),
        Command::Clean(args) => clean::run(args),
        Command::Sim(args) => sim::run(args),
    };
    exit.code()
}

/// Rust ignores SIGPIPE, so a write to a closed pipe (`synclab … | head -1`) fails with EPIPE
/// and `println!` panics. Restoring the default action ends the process quietly instead, as
/// every Unix filter does (a shell reports 141). Runs before anything is written.
fn restore_sigpipe() {
    // SAFETY: signal(2) with SIG_DFL at startup, before any other thread exists.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
}

/// A command line clap refused: help and version are printed as usual (exit 0); an error is
/// printed as clap prints it and, when `--json` is among the arguments, also as one JSON object
/// `{"ok":false,"error":…}` on stdout; exit 2.
fn argument_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let json = std::env::args_os()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json");
    if json {
        let text = e.render().to_string();
        let first = text
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("invalid arguments");
        let message = first.trim_start_matches("error: ").to_string();
        println!("{}", serde_json::json!({"ok": false, "error": message}));
    }
    let _ = e.print();
    Exit::BadInput.code()
}

#[cfg(test)]
mod tests {
    /// clap's own consistency checks of the whole command line.
    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
