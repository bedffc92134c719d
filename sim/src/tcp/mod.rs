//! `sim::tcp`: the RFC 9293 connection state machine, pure (sans-IO). Inputs and `now` in,
//! segments and events out; no clock, no threads, no OS.
//!
//! - [`state`]: the eleven states and the legal transitions;
//! - [`segment`]: segments, flags and their textual forms;
//! - [`tcb`]: one connection's event processing (§3.10);
//! - [`reset`]: the RST for a segment that reaches no connection (§3.10.7.1);
//! - [`config`], [`errno`]: parameters and errors;
//! - [`mutant`]: deliberate bugs (`--mutant`), to show the checks catch them.

pub mod config;
pub mod errno;
pub mod mutant;
pub mod reset;
pub mod segment;
pub mod state;
pub mod tcb;

pub use config::TcpConfig;
pub use errno::Errno;
pub use mutant::Mutant;
pub use segment::{Flags, Segment};
pub use state::State;
pub use tcb::{Call, Event, Outputs, Tcb};

#[cfg(test)]
mod tests;
