//! The `synclab` command line (clap). Each subcommand lives in its own file.
//!
//! Contract (DESIGN.md): with `--json` a subcommand prints exactly one JSON object on stdout;
//! exit code 0 = ran and every check held, 1 = a check failed, 2 = bad usage or input.

mod bench;
mod check;
mod demo;
mod model;
mod output;
mod run;
mod sim;
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
    /// Deterministic TCP handshake simulator: run, replay, diagram, list.
    Sim(sim::SimArgs),
    /// Check a history file (HISTORY.md) for linearizability.
    Check(check::CheckArgs),
    /// Internal: a worker process of a multi-process run.
    #[command(hide = true)]
    Worker(worker::WorkerArgs),
}

/// Parses the command line, runs the subcommand, and returns its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let exit = match cli.command {
        Command::Worker(args) => return worker::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Run(args) => run::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Model(args) => model::run(args),
        Command::Check(args) => check::run(args),
        Command::Sim(args) => sim::run(args),
    };
    exit.code()
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
