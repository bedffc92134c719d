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
    /// The environment failed: a worker process could not be started, shared memory could not
    /// be created, the own binary could not be found. Not the user's input.
    Environment,
    /// Stopped by this signal (SIGINT, SIGTERM) after stopping the workers and removing the
    /// regions; the exit code is 128 + the signal number (130, 143), as a shell reports it.
    Interrupted(i32),
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> ExitCode {
        ExitCode::from(match self {
            Exit::Ok => 0,
            Exit::CheckFailed => 1,
            Exit::BadInput => 2,
            Exit::GaveUp => 3,
            Exit::Environment => 4,
            Exit::Interrupted(signal) => u8::try_from(128 + signal).unwrap_or(128),
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

/// Reports a failure of the environment (not of the input) on stderr (and as JSON on stdout with
/// `--json`); returns exit 4.
pub fn environment_failure(json: bool, message: impl std::fmt::Display) -> Exit {
    let message = message.to_string();
    if json {
        println!("{}", serde_json::json!({"ok": false, "error": message}));
    }
    eprintln!("synclab: error: {message}");
    Exit::Environment
}

/// Reports that the run was stopped by `signal` (stderr, and JSON with `--json`): exit 130/143.
pub fn interrupted(json: bool, signal: i32) -> Exit {
    let message = format!(
        "interrupted by {}: workers stopped and reaped, regions removed, nothing checked",
        crate::procs::signals::name(signal)
    );
    if json {
        println!("{}", serde_json::json!({"ok": false, "error": message}));
    }
    eprintln!("synclab: {message}");
    Exit::Interrupted(signal)
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
