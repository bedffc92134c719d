//! synclab-sim: a deterministic, sans-IO simulator of TCP socket handshakes (RFC 9293).
//!
//! Map (read top-down): [`tcp`] is the pure state machine; [`socket`] the socket API of one host
//! on top of it; [`net`] the links and their seeded faults; [`world`] owns virtual time, the
//! event queue, the hosts and the single RNG, and runs a [`scenario`]; [`oracle`] checks every
//! step; [`trace`] records JSON Lines, replays and diffs them, and draws ladder diagrams; [`run`]
//! is the one-call API the CLI uses; [`demo`] is the piece of `synclab demo`.
#![forbid(unsafe_code)]

pub mod fasthash;
pub mod net;
pub mod oracle;
pub mod scenario;
pub mod socket;
pub mod tcp;
pub mod world;

pub use scenario::{parse_scenario, Scenario, ScenarioError};
pub use world::{run, NetOverride, RunOptions, RunResult};
pub mod demo;
pub mod explore;
pub mod trace;
