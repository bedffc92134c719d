//! synclab-sim: a deterministic, sans-IO simulator of TCP socket handshakes (RFC 9293).
//!
//! Map (read top-down; `README.md` beside `Cargo.toml` says more):
//! - [`tcp`]: the pure RFC 9293 state machine (inputs and `now` in, segments and events out);
//! - [`socket`]: the socket API of one host on top of it (listen, accept, connect, …, crash);
//! - [`net`]: the links and their seeded faults, partitions and per-segment rules;
//! - [`world`]: virtual time, the event queue, the hosts, the single RNG; [`run`] runs a
//!   [`scenario`] once;
//! - [`oracle`]: the checks after every step and the scenario's expectations at the end;
//! - [`trace`]: JSON Lines traces, replay and diff, ladder diagrams (text and SVG);
//! - [`explore`]: seed sweeps, exhaustive search, shrinking, shards; [`demo`]: the piece of
//!   `synclab demo`;
//! - [`fasthash`]: the hasher of the hot lookup tables.
//!
//! Nothing here reads a clock, spawns a thread or does I/O, except reading a scenario file in
//! [`scenario::load`].
#![forbid(unsafe_code)]

pub mod demo;
pub mod explore;
pub mod fasthash;
pub mod net;
pub mod oracle;
pub mod scenario;
pub mod socket;
pub mod tcp;
pub mod trace;
pub mod world;

pub use scenario::{parse_scenario, Scenario, ScenarioError};
pub use world::{run, NetOverride, RunOptions, RunResult};
