//! synclab-verify: everything that checks the core, and the `synclab` command line.
//!
//! - [`models`]: the loom implementation of `Memory` and a loom model of every algorithm, with
//!   its mutants; the same models run from `cargo test` and from `synclab model`.
//! - [`procs`]: starting, reaping and signalling real worker processes (re-exec, never bare fork).
//! - [`workers`]: what a worker process does (`synclab worker ROLE …`).
//! - [`runs`]: the parent side of multi-process runs.
//! - [`lin`]: linearizability checkers for recorded histories (HISTORY.md): the `synclab-lin`
//!   crate, re-exported.
//! - [`bench`](mod@bench): our rings beside their peers, measured in the same run.
//! - [`shuttle`](mod@shuttle): the same algorithms under shuttle's randomised schedulers (PCT,
//!   random, replayable schedules) at sizes loom cannot reach.
//! - [`kernel`]: the simulator against real Linux sockets in a private network namespace.
//! - [`parallel`]: parallel property tests' programs, replayed under loom to a minimal failing
//!   interleaving.
//! - [`cli`]: the clap front end (`demo`, `model`, …).

pub mod bench;
pub mod cli;
pub mod emulated;
pub mod harness_sem;
/// The linearizability checker, the `synclab-lin` crate (re-exported so `crate::lin` paths work).
pub use synclab_lin as lin;
pub mod kernel;
pub mod models;
pub mod parallel;
pub mod procs;
pub mod record;
pub mod runs;
pub mod shuttle;
pub mod workers;
