//! `synclab check FILE`: exit codes 0 / 1 / 2 / 3, the JSON object of HISTORY.md, and the human
//! witness.

use std::path::PathBuf;
use std::process::{Command, Output};

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("synclab-check-cli-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn file(name: &str, text: &str) -> PathBuf {
    let p = dir().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn synclab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synclab"))
        .args(args)
        .output()
        .unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "exactly one JSON line: {stdout}");
    serde_json::from_str(&stdout).unwrap()
}

const GOOD: &str = r#"{"synclab_history":1,"model":"queue","capacity":1024}
{"process":0,"op":"enqueue","value":17,"ok":true,"invoke_ns":1000,"return_ns":1900}
{"process":1,"op":"dequeue","value":17,"ok":true,"invoke_ns":1200,"return_ns":2500}
{"process":1,"op":"dequeue","value":null,"ok":true,"invoke_ns":2600,"return_ns":2700}
"#;

/// A dequeue moved before its enqueue (lines 3 and 4 are the culprits).
const MOVED: &str = r#"{"synclab_history":1,"model":"queue"}
{"process":0,"op":"enqueue","value":1,"ok":true,"invoke_ns":100,"return_ns":200}
{"process":1,"op":"dequeue","value":2,"ok":true,"invoke_ns":300,"return_ns":400}
{"process":0,"op":"enqueue","value":2,"ok":true,"invoke_ns":500,"return_ns":600}
{"process":1,"op":"dequeue","value":1,"ok":true,"invoke_ns":700,"return_ns":800}
"#;

#[test]
fn good_history_exits_0() {
    let f = file("good.jsonl", GOOD);
    let out = synclab(&["check", f.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let j = json(&out);
    assert_eq!(j["ok"], true);
    assert_eq!(j["linearizable"], true);
    assert_eq!(j["ops"], 3);
    assert!(j["seconds"].is_number());
    assert!(j.get("witness").is_none());
    let out = synclab(&["check", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("linearizable"));
}

#[test]
fn dequeue_before_enqueue_exits_1_with_witness() {
    let f = file("moved.jsonl", MOVED);
    let out = synclab(&["check", f.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let j = json(&out);
    assert_eq!(j["ok"], false);
    assert_eq!(j["linearizable"], false);
    assert_eq!(j["ops"], 4);
    let w = j["witness"].as_array().unwrap();
    let lines: Vec<u64> = w.iter().map(|e| e["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, vec![3, 4]);
    // each op as it appears in the file
    assert_eq!(w[0]["op"]["op"], "dequeue");
    assert_eq!(w[0]["op"]["value"], 2);
    assert_eq!(w[1]["op"]["invoke_ns"], 500);

    let out = synclab(&["check", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("NOT linearizable"), "{text}");
    assert!(text.contains("line     3"), "{text}");
    assert!(text.contains("dequeue() = 2"), "{text}");
    assert!(text.contains("enqueue(2)"), "{text}");
}

#[test]
fn malformed_line_exits_2_naming_line_and_field() {
    let bad = GOOD.replace(
        r#""value":17,"ok":true,"invoke_ns":1200"#,
        r#""value":"x","ok":true,"invoke_ns":1200"#,
    );
    let f = file("bad.jsonl", &bad);
    let out = synclab(&["check", f.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let j = json(&out);
    assert_eq!(j["ok"], false);
    let msg = j["error"].as_str().unwrap();
    assert!(msg.contains("line 3") && msg.contains("`value`"), "{msg}");
    let out = synclab(&["check", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3") && err.contains("`value`"), "{err}");

    let missing = synclab(&[
        "check",
        dir().join("nope.jsonl").to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn time_limit_exits_3() {
    // a long register history; a tiny time limit runs out before the search ends
    let mut text = String::from("{\"synclab_history\":1,\"model\":\"register\"}\n");
    for i in 0..20_000i64 {
        let (p, t) = (i % 4, 10 * i);
        text.push_str(&format!(
            "{{\"process\":{p},\"op\":\"write\",\"key\":\"x\",\"value\":{i},\"ok\":true,\"invoke_ns\":{t},\"return_ns\":{}}}\n",
            t + 35
        ));
    }
    let f = file("long.jsonl", &text);
    let out = synclab(&[
        "check",
        f.to_str().unwrap(),
        "--json",
        "--timeout",
        "0.000001",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let j = json(&out);
    assert_eq!(j["linearizable"], serde_json::Value::Null);
    assert_eq!(j["ok"], false);
}

#[test]
fn bad_timeout_exits_2() {
    let f = file("good2.jsonl", GOOD);
    let out = synclab(&["check", f.to_str().unwrap(), "--json", "--timeout", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(json(&out)["error"].as_str().unwrap().contains("--timeout"));
}

#[test]
fn html_writes_the_viewer() {
    let f = file("moved-html.jsonl", MOVED);
    let page = dir().join("moved.html");
    let out = synclab(&[
        "check",
        f.to_str().unwrap(),
        "--json",
        "--html",
        page.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the verdict still decides the exit"
    );
    assert_eq!(json(&out)["html"], page.to_str().unwrap());
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("data-op=").count(), 4, "a bar per operation");
    assert_eq!(
        html.matches(" witness\" data-op=").count(),
        2,
        "lines 3 and 4"
    );
    assert!(html.contains("NOT linearizable"));
}

#[test]
fn html_refuses_to_overwrite_the_input() {
    let f = file("same.jsonl", GOOD);
    let d = dir();
    let same_by_another_name = d.join(".").join("same.jsonl");
    let out = synclab(&[
        "check",
        f.to_str().unwrap(),
        "--json",
        "--html",
        same_by_another_name.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let msg = json(&out)["error"].as_str().unwrap().to_string();
    assert!(
        msg.contains("--html") && msg.contains("input file"),
        "{msg}"
    );
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        GOOD,
        "input untouched"
    );
}

#[test]
fn reads_jepsen_edn_and_reports_the_format() {
    let edn = "[{:type :invoke, :f :write, :value 1, :process 0}\n\
               {:type :ok, :f :write, :value 1, :process 0}\n\
               {:type :invoke, :f :read, :value nil, :process 1}\n\
               {:type :ok, :f :read, :value 2, :process 1}]\n";
    let f = file("h.edn", edn);
    let out = synclab(&["check", f.to_str().unwrap(), "--json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a read of a value never written"
    );
    let j = json(&out);
    assert_eq!(j["format"], "edn");
    assert_eq!(j["model"], "register");
    assert_eq!(j["witness"][0]["line"], 3);
    let forced = synclab(&[
        "check",
        f.to_str().unwrap(),
        "--json",
        "--format",
        "synclab",
    ]);
    assert_eq!(forced.status.code(), Some(2));
}

#[test]
fn huge_timeout_exits_2_naming_the_range() {
    let f = file("timeout-huge.jsonl", GOOD);
    let out = synclab(&["check", f.to_str().unwrap(), "--timeout", "1e300"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--timeout") && err.contains("86400"), "{err}");
}

#[test]
fn device_and_directory_inputs_exit_2_before_reading() {
    for path in ["/dev/zero", "/dev/null"] {
        let out = synclab(&["check", path, "--json"]);
        assert_eq!(out.status.code(), Some(2), "{path}");
        let v = json(&out);
        let e = v["error"].as_str().unwrap();
        assert!(e.contains("regular file"), "{path}: {e}");
    }
    let out = synclab(&["check", dir().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}

/// Runs `synclab check FILE --json` on `text`; the exit code and the `error` message.
fn check_error(name: &str, text: &str) -> (Option<i32>, String) {
    let f = file(name, text);
    let out = synclab(&["check", f.to_str().unwrap(), "--json"]);
    let j = json(&out);
    let msg = j["error"].as_str().unwrap_or_default().to_string();
    (out.status.code(), msg)
}

#[test]
fn duplicate_keys_exit_2_naming_the_key_and_the_line() {
    // an operation that says two things about its value: which one was meant is ambiguous
    let dup = GOOD.replace(
        r#""value":17,"ok":true,"invoke_ns":1200"#,
        r#""value":17,"ok":true,"value":18,"invoke_ns":1200"#,
    );
    let (code, msg) = check_error("dup-op.jsonl", &dup);
    assert_eq!(code, Some(2), "{msg}");
    assert!(
        msg.contains("line 3") && msg.contains("`value`") && msg.contains("duplicate key"),
        "{msg}"
    );
    // in the header
    let dup = GOOD.replace(r#""capacity":1024"#, r#""capacity":1024,"capacity":1"#);
    let (code, msg) = check_error("dup-header.jsonl", &dup);
    assert_eq!(code, Some(2), "{msg}");
    assert!(
        msg.contains("line 1") && msg.contains("`capacity`"),
        "{msg}"
    );
    // the same key twice with the same value is still refused; the human form says it too
    let dup = GOOD.replace(r#""process":1,"#, r#""process":1,"process":1,"#);
    let f = file("dup-same.jsonl", &dup);
    let out = synclab(&["check", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3") && err.contains("`process`"), "{err}");
}

#[test]
fn unknown_versions_exit_2() {
    for version in ["2", "0", "\"1\"", "1.0", "-1"] {
        let text = GOOD.replace(
            r#""synclab_history":1"#,
            &format!(r#""synclab_history":{version}"#),
        );
        let (code, msg) = check_error("version.jsonl", &text);
        assert_eq!(code, Some(2), "version {version}: {msg}");
        assert!(
            msg.contains("line 1") && msg.contains("`synclab_history`"),
            "{version}: {msg}"
        );
    }
}

#[test]
fn streamed_and_piped_histories_read_the_same() {
    // CRLF line ends and blank lines, from a file (read as it streams) and from stdin
    let text = MOVED.replace('\n', "\r\n\r\n");
    let f = file("crlf.jsonl", &text);
    let out = synclab(&["check", f.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let j = json(&out);
    let w = j["witness"].as_array().unwrap();
    let lines: Vec<u64> = w.iter().map(|e| e["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, vec![5, 7], "blank lines count");
    assert_eq!(w[0]["op"]["value"], 2, "the witness quotes the file's line");
    let piped = Command::new(env!("CARGO_BIN_EXE_synclab"))
        .args(["check", "-", "--json"])
        .stdin(std::fs::File::open(&f).unwrap())
        .output()
        .unwrap();
    assert_eq!(piped.status.code(), Some(1));
    assert_eq!(json(&piped)["witness"].as_array().unwrap().len(), 2);
    // a line that is not UTF-8 is refused naming it
    let mut bytes = GOOD.as_bytes().to_vec();
    bytes.extend(b"{\"process\":2,\"op\":\"enqueue\",\"value\":1,\"ok\":true,\xff}\n");
    let f = dir().join("latin1.jsonl");
    std::fs::write(&f, bytes).unwrap();
    let out = synclab(&["check", f.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let msg = json(&out)["error"].as_str().unwrap().to_string();
    assert!(msg.contains("line 5") && msg.contains("UTF-8"), "{msg}");
}
