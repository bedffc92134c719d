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

/// A built-in's name or a scenario file's path, loaded and validated. Reading the file is the
/// only I/O; errors name the file (and for a bad scenario its line and key).
pub fn load(name_or_path: &str) -> Result<Scenario, ScenarioError> {
    if let Some(sc) = builtin::builtin(name_or_path) {
        return Ok(sc);
    }
    match std::fs::read_to_string(name_or_path) {
        Ok(src) => parse_scenario(name_or_path, &src),
        Err(e) => Err(ScenarioError {
            file: name_or_path.to_string(),
            line: 0,
            key: String::new(),
            message: format!(
                "no built-in scenario of that name, and the file cannot be read: {e} (see `synclab sim list`)"
            ),
        }),
    }
}
