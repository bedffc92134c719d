//! The `synclab` command line (clap). Each subcommand lives in its own file.
//!
//! Contract (DESIGN.md): with `--json` a subcommand prints exactly one JSON object on stdout;
//! exit code 0 = ran and every check held, 1 = a check failed, 2 = bad usage or input.

mod demo;
mod output;
mod sim;

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
    /// Deterministic TCP handshake simulator: run, replay, diagram, list.
    Sim(sim::SimArgs),
}

/// Parses the command line, runs the subcommand, and returns its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let exit = match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Sim(args) => sim::run(args),
    };
    exit.code()
}
