//! The binary end to end on bad input: settings the engine refuses, numbers outside their
//! documented ranges, unusable files, closed pipes. Every case must end with a clear message and
//! the exit code of the contract (2 = bad usage or input), never a panic or a false verdict.

use serde_json::Value;
use std::process::{Command, Output};

fn synclab_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synclab"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run synclab")
}

/// (exit code, last stdout line as JSON or Null, stdout, stderr).
fn synclab_with(args: &[&str], env: &[(&str, &str)]) -> (i32, Value, String, String) {
    let out = synclab_env(args, env);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let json = stdout
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null);
    (
        out.status.code().unwrap_or(-1),
        json,
        stdout,
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn synclab(args: &[&str]) -> (i32, Value, String, String) {
    synclab_with(args, &[])
}

/// Exit 2 with `needle` in stderr, and no panic.
fn refused(args: &[&str], needle: &str) {
    let (code, _, stdout, stderr) = synclab(args);
    assert_eq!(code, 2, "{args:?}: stdout {stdout} stderr {stderr}");
    assert!(
        stderr.contains(needle),
        "{args:?}: {needle:?} not in stderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
}

#[test]
fn model_preemption_bound_loom_cannot_take_is_bad_input_not_caught() {
    let (code, _, stdout, stderr) = synclab(&[
        "model",
        "spsc",
        "--mutant",
        "spsc-full-off-by-one",
        "--preemptions",
        "300",
    ]);
    assert_eq!(code, 2, "{stdout} {stderr}");
    assert!(!stdout.contains("caught"), "{stdout}");
    assert!(stderr.contains("0..=255"), "{stderr}");
    refused(&["model", "spsc", "--preemptions", "300"], "0..=255");
}

#[test]
fn model_mutant_with_all_is_refused() {
    refused(
        &["model", "--all", "--mutant", "spsc-full-off-by-one"],
        "cannot be used with",
    );
}

/// Loom panics on an invalid `LOOM_*` variable before exploring anything: no verdict, exit 2.
#[test]
fn model_loom_refusing_its_environment_is_bad_input() {
    let (code, v, _, stderr) = synclab_with(
        &["model", "spsc-batch", "--json"],
        &[("LOOM_MAX_BRANCHES", "x")],
    );
    assert_eq!(code, 2, "{v} {stderr}");
    assert_eq!(v["ok"], false);
    assert_eq!(v["interleavings"], 0);
    assert!(v["error"].as_str().unwrap().contains("nothing was checked"));
    let (code, v, _, stderr) = synclab_with(
        &[
            "model",
            "spsc-batch",
            "--mutant",
            "spsc-full-off-by-one",
            "--json",
        ],
        &[("LOOM_MAX_BRANCHES", "x")],
    );
    assert_eq!(code, 2, "{v} {stderr}");
    assert!(v["refused"].is_string(), "{v}");
}

/// `LOOM_MAX_PERMUTATIONS` would end the exploration early and let a partial one pass: ignored.
#[test]
fn model_ignores_loom_variables_that_would_cut_exploration_short() {
    let (code, v, _, stderr) = synclab_with(
        &["model", "spsc-batch", "--json"],
        &[
            ("LOOM_MAX_PERMUTATIONS", "1"),
            ("LOOM_MAX_DURATION", "0"),
            ("LOOM_CHECKPOINT_INTERVAL", "1"),
        ],
    );
    assert_eq!(code, 0, "{v} {stderr}");
    assert!(v["interleavings"].as_u64().unwrap() > 1, "{v}");
}
