//! The `synclab` command line (clap). Each subcommand lives in its own file.
//!
//! Contract (DESIGN.md): with `--json` a subcommand prints exactly one JSON object on stdout;
//! exit code 0 = ran and every check held, 1 = a check failed, 2 = bad usage or input.

mod demo;
mod model;
mod output;
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
    /// The main job on built-in defaults: real processes over shared-memory rings, a model check
    /// and its mutant, a short summary.
    Demo(demo::DemoArgs),
    /// Run a loom model of a lock-free algorithm, optionally with a deliberate bug (mutant).
    Model(model::ModelArgs),
    /// Deterministic TCP handshake simulator: run, replay, diagram, list.
    Sim(sim::SimArgs),
    /// Internal: a worker process of a multi-process run.
    #[command(hide = true)]
    Worker(worker::WorkerArgs),
}

/// Parses the command line, runs the subcommand, and returns its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let exit = match cli.command {
        Command::Worker(args) => return crate::workers::run(args.args),
        Command::Demo(args) => demo::run(args),
        Command::Model(args) => model::run(args),
        Command::Sim(args) => sim::run(args),
    };
    exit.code()
}
