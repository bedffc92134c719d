//! `sim::scenario`: scenario files (SCENARIOS.md, a public contract) and the built-ins.
//!
//! - [`model`]: the validated scenario;
//! - [`parse`]: TOML to model, with file/line/key errors;
//! - [`builtin`]: the scenarios shipped in `sim/scenarios/*.toml`.

pub mod builtin;
pub mod model;
pub mod parse;

pub use model::*;
pub use parse::{parse_scenario, ScenarioError};
