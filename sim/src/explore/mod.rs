//! `sim::explore`: searching for runs that break an oracle, and making them small.
//!
//! - [`mod@sweep`]: seed sweeps: every scenario under many seeds (optionally with network faults),
//!   on all cores; every run where an oracle fired is a finding with the seed to reproduce it;
//! - [`exhaustive`]: bounded exhaustive search: every choice of the network (deliver, drop,
//!   duplicate, reorder) for the first D segments it is free to choose for, equal states
//!   explored once;
//! - [`shrink`]: a failing seed or search path reduced to a minimal fault schedule and script
//!   ([`script`]: steps taken out of the scenario's text) that still fails the same oracle,
//!   written as a trace that `sim replay` reproduces;
//! - [`shard`]: `--shard I/N`, a deterministic split of a sweep or a search;
//! - [`merge`]: the shards' JSON reports joined into one.
//!
//! Mutants ([`crate::tcp::Mutant`]) are switched on in the scenarios' `tcp` configuration
//! before a sweep or search; the reports say which.

pub mod exhaustive;
pub mod merge;
pub mod script;
pub mod shard;
pub mod shrink;
pub mod sweep;

pub use exhaustive::{search, Search, SearchOptions};
pub use shard::Shard;
pub use sweep::{sweep, sweep_with, Finding, Sweep, SweepOptions};

/// Findings kept in a report (all are counted).
pub const KEPT_FINDINGS: usize = 20;
