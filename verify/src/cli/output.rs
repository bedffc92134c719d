//! Exit codes and JSON output shared by every subcommand.

use std::process::ExitCode;

/// How a subcommand ended (DESIGN.md's CLI contract).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Ran, and every check held.
    Ok,
    /// Ran, and a check failed.
    CheckFailed,
    /// Bad usage or input.
    BadInput,
    /// Gave up at a time limit (used by `check`).
    GaveUp,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> ExitCode {
        ExitCode::from(match self {
            Exit::Ok => 0,
            Exit::CheckFailed => 1,
            Exit::BadInput => 2,
            Exit::GaveUp => 3,
        })
    }

    /// `Ok` when `ok`, else `CheckFailed`.
    pub fn from_ok(ok: bool) -> Exit {
        if ok {
            Exit::Ok
        } else {
            Exit::CheckFailed
        }
    }
}

/// A subcommand's result, printed as one JSON object with `--json` or as text otherwise.
pub struct Outcome {
    /// The JSON object.
    pub json: serde_json::Value,
    /// The human text.
    pub text: String,
    /// The exit status.
    pub exit: Exit,
}

impl Outcome {
    /// Prints (JSON on stdout when `json`, else the text) and returns the exit status.
    pub fn emit(self, json: bool) -> Exit {
        if json {
            println!("{}", self.json);
        } else {
            print!("{}", self.text);
            if !self.text.ends_with('\n') {
                println!();
            }
        }
        self.exit
    }
}

/// Reports bad usage or input on stderr (and as JSON on stdout with `--json`); returns exit 2.
pub fn bad_input(json: bool, message: impl std::fmt::Display) -> Exit {
    let message = message.to_string();
    if json {
        println!("{}", serde_json::json!({"ok": false, "error": message}));
    }
    eprintln!("synclab: error: {message}");
    Exit::BadInput
}
