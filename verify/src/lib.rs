//! synclab-verify: everything that checks the core, and the `synclab` command line.
//!
//! - [`models`]: the loom implementation of `Memory` and a loom model of every algorithm, with
//!   its mutants; the same models run from `cargo test` and from `synclab model`.
//! - [`procs`]: starting, reaping and signalling real worker processes (re-exec, never bare fork).
//! - [`workers`]: what a worker process does (`synclab worker ROLE …`).
//! - [`runs`]: the parent side of multi-process runs.
//! - [`lin`]: linearizability checkers for recorded histories (HISTORY.md).
//! - [`bench`](mod@bench): our rings beside their peers, measured in the same run.
//! - [`cli`]: the clap front end (`demo`, `model`, …).

pub mod bench;
pub mod cli;
pub mod lin;
pub mod models;
pub mod procs;
pub mod record;
pub mod runs;
pub mod workers;
