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

/// A scratch file under cargo's per-target temporary directory.
fn scratch(name: &str, body: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, body).expect("write scratch file");
    path.display().to_string()
}

#[test]
fn run_numbers_outside_their_ranges_are_refused_before_anything_starts() {
    refused(
        &["run", "mpmc", "--timeout", "18446744073709551615"],
        "1..=86400",
    );
    refused(&["run", "mpmc", "--messages", "0"], "1..=10000000");
    refused(&["run", "mpmc", "--messages", "10000001"], "1..=10000000");
    refused(&["run", "mpmc", "--procs", "0"], "1..=64");
    refused(&["run", "mpmc", "--procs", "1"], "2..=64");
    refused(&["run", "spsc", "--capacity", "3"], "power of two");
    refused(&["run", "frames", "--capacity", "32"], "64..=1073741824");
    refused(&["run", "semaphore", "--permits", "0"], "1..=65536");
    refused(&["run", "semaphore", "--iterations", "0"], "1..=10000000");
    refused(&["run", "spsc", "--check-timeout", "0"], "1..=86400");
    refused(&["run", "spsc", "--stop-rate", "NaN"], "0..=10000");
    refused(&["demo", "--records", "0"], "1..=100000000");
    refused(&["model", "spsc", "--preemptions", "-1"], "");
}

#[test]
fn sim_numbers_outside_their_ranges_are_refused() {
    refused(
        &[
            "sim",
            "run",
            "--scenario",
            "rfc9293-fig6-handshake",
            "--delay-ms",
            "18446744073709551615..18446744073709551615",
        ],
        "<= 1000000000000",
    );
    refused(
        &[
            "sim",
            "run",
            "--scenario",
            "rfc9293-fig6-handshake",
            "--loss",
            "1.5",
        ],
        "0..=1",
    );
    refused(
        &["sim", "explore", "--scenario", "all", "--seeds", "0"],
        "1..=100000000",
    );
    refused(
        &[
            "sim",
            "explore",
            "--scenario",
            "all",
            "--first-seed",
            "18446744073709551615",
            "--seeds",
            "2",
        ],
        "runs past the largest seed",
    );
}

const TWO_HOSTS: &str = "synclab_scenario = 1\nname = \"x\"\n[[host]]\nname = \"A\"\n\
[[host]]\nname = \"B\"\n[[step]]\nhost = \"A\"\ncall = \"connect\"\nsock = \"c\"\nto = \"B:80\"\n";

#[test]
fn scenario_values_that_would_allocate_or_overflow_are_refused_with_the_limit() {
    let big = scratch(
        "big_send.toml",
        &format!("{TWO_HOSTS}[[step]]\nhost = \"A\"\ncall = \"send\"\nsock = \"c\"\nbytes = 4294967296\n"),
    );
    refused(&["sim", "run", "--scenario", &big], "0..=16777216");
    let delay = scratch(
        "big_delay.toml",
        &format!("{TWO_HOSTS}[net]\ndelay_ms = [1, 9223372036854775807]\n"),
    );
    refused(&["sim", "run", "--scenario", &delay], "<= 1000000000000");
    let duration = scratch(
        "big_duration.toml",
        &TWO_HOSTS.replace(
            "name = \"x\"\n",
            "name = \"x\"\nduration_ms = 9223372036854775807\n",
        ),
    );
    refused(
        &["sim", "run", "--scenario", &duration],
        "0..=1000000000000",
    );
}

/// A trace written by `sim run`, in the scratch directory.
fn recorded_trace(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let path = path.display().to_string();
    let (code, _, stdout, stderr) = synclab(&[
        "sim",
        "run",
        "--scenario",
        "rfc9293-fig6-handshake",
        "--trace",
        &path,
    ]);
    assert_eq!(code, 0, "{stdout} {stderr}");
    path
}

#[test]
fn inputs_that_are_not_regular_files_are_refused_up_front() {
    refused(&["sim", "diagram", "/"], "is a directory");
    refused(&["sim", "replay", "/dev/zero"], "is a device");
    refused(&["sim", "run", "--scenario", "/dev/zero"], "is a device");
    let fifo = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("input.fifo");
    let _ = std::fs::remove_file(&fifo);
    let c = std::ffi::CString::new(fifo.display().to_string()).unwrap();
    // SAFETY: mkfifo(3) with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    // Reading a FIFO nobody writes would block forever: refused before it is opened.
    refused(
        &["sim", "diagram", &fifo.display().to_string()],
        "is a FIFO",
    );
    std::fs::remove_file(&fifo).unwrap();
}

#[test]
fn oversized_inputs_are_refused_with_the_limit_named() {
    let big = scratch("huge.toml", &"# padding\n".repeat(500_000));
    refused(
        &["sim", "run", "--scenario", &big],
        "limit of 4194304 bytes",
    );
}

#[test]
fn stdin_is_an_input_too() {
    use std::io::Write;
    let scenario = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../sim/scenarios/rfc9293-fig6-handshake.toml"
    ));
    let Ok(scenario) = scenario else {
        eprintln!("skipped: no built-in scenario file to feed on stdin");
        return;
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_synclab"))
        .args(["sim", "run", "--scenario", "-", "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(scenario.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

#[test]
fn output_equal_to_an_input_is_refused() {
    let trace = recorded_trace("same.jsonl");
    let before = std::fs::read(&trace).unwrap();
    refused(
        &["sim", "replay", &trace, "--trace", &trace],
        "would be overwritten",
    );
    refused(
        &["sim", "diagram", &trace, "--svg", &trace],
        "would be overwritten",
    );
    assert_eq!(
        std::fs::read(&trace).unwrap(),
        before,
        "the input is untouched"
    );
    let sc = scratch("keep.toml", TWO_HOSTS);
    refused(
        &["sim", "run", "--scenario", &sc, "--trace", &sc],
        "would be overwritten",
    );
}

#[test]
fn traces_with_a_duplicate_key_or_an_unknown_version_are_refused() {
    let trace = recorded_trace("versions.jsonl");
    let text = std::fs::read_to_string(&trace).unwrap();
    let v2 = scratch(
        "v2.jsonl",
        &text.replacen("\"synclab_trace\":1", "\"synclab_trace\":2", 1),
    );
    refused(&["sim", "replay", &v2], "unsupported trace version 2");
    refused(&["sim", "diagram", &v2], "unsupported trace version 2");
    let (first, rest) = text.split_once('\n').unwrap();
    let dup = scratch(
        "dup.jsonl",
        &format!("{first}\n{}\n", rest.replacen("{\"", "{\"t\":0,\"", 1)),
    );
    refused(&["sim", "replay", &dup], "duplicate key \"t\"");
}

/// `synclab … | head -1`: the reader goes away before synclab writes. The process ends quietly
/// (killed by SIGPIPE, as a Unix filter is), never with a panic.
#[test]
fn a_closed_stdout_ends_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let trace = recorded_trace("pipe.jsonl");
    for args in [
        vec!["sim", "diagram", trace.as_str()],
        vec!["sim", "list"],
        vec!["model", "--list"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_synclab"))
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            out.status.code() == Some(0) || out.status.signal() == Some(libc::SIGPIPE),
            "{args:?}: {:?}",
            out.status
        );
    }
}

#[test]
fn json_argument_errors_are_one_json_object() {
    for args in [
        vec!["run", "mpmc", "--timeout", "99999999999", "--json"],
        vec!["model", "--json", "--no-such-flag"],
        vec!["sim", "run", "--json"],
    ] {
        let (code, v, stdout, stderr) = synclab(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert_eq!(stdout.lines().count(), 1, "{args:?}: {stdout}");
        assert_eq!(v["ok"], false, "{args:?}: {stdout}");
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{v}");
    }
}
