//! End-to-end tests of `synclab sim`: exit codes, the one-JSON-object contract, traces,
//! replay, diagrams, and refusal of bad scenario files.

use std::path::PathBuf;
use std::process::{Command, Output};

fn synclab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synclab"))
        .args(args)
        .output()
        .expect("runs")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited")
}

/// The single JSON object on stdout.
fn json(o: &Output) -> serde_json::Value {
    let s = String::from_utf8(o.stdout.clone()).unwrap();
    assert_eq!(s.trim().lines().count(), 1, "exactly one line: {s}");
    serde_json::from_str(s.trim()).expect("one JSON object")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("synclab-sim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

const BASE: &str =
    "synclab_scenario = 1\nname = \"x\"\n[[host]]\nname = \"A\"\n[[host]]\nname = \"B\"\n";

#[test]
fn list_json() {
    let o = synclab(&["sim", "list", "--json"]);
    assert_eq!(code(&o), 0);
    let v = json(&o);
    let list = v["scenarios"].as_array().unwrap();
    assert!(list.len() >= 20);
    assert!(list
        .iter()
        .all(|s| s["name"].is_string() && s["description"].is_string()));
    assert!(list.iter().any(|s| s["name"] == "rfc9293-fig6-handshake"));
}

#[test]
fn run_json_ok_and_traces_are_byte_identical() {
    let (t1, t2) = (tmp("a.jsonl"), tmp("b.jsonl"));
    let mut outs = Vec::new();
    for t in [&t1, &t2] {
        let o = synclab(&[
            "sim",
            "run",
            "--scenario",
            "handshake-close-under-loss",
            "--seed",
            "5",
            "--trace",
            t.to_str().unwrap(),
            "--json",
        ]);
        assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
        let v = json(&o);
        for k in ["ok", "seed", "segments", "events", "virtual_ms", "failures"] {
            assert!(v.get(k).is_some(), "{k}");
        }
        assert_eq!(v["ok"], true);
        assert_eq!(v["seed"], 5);
        outs.push(o.stdout);
    }
    assert_eq!(outs[0], outs[1]);
    assert_eq!(std::fs::read(&t1).unwrap(), std::fs::read(&t2).unwrap());
}

#[test]
fn replay_matches_and_detects_divergence() {
    let t = tmp("r.jsonl");
    let o = synclab(&[
        "sim",
        "run",
        "--scenario",
        "rfc9293-fig8-old-duplicate-syn",
        "--loss",
        "0.2",
        "--dup",
        "0.1",
        "--reorder",
        "0.1",
        "--delay-ms",
        "1..9",
        "--trace",
        t.to_str().unwrap(),
    ]);
    assert_ne!(code(&o), 2);
    for extra in [None, Some("--from-seed")] {
        let mut args = vec!["sim", "replay", t.to_str().unwrap(), "--json"];
        args.extend(extra);
        let o = synclab(&args);
        assert_eq!(code(&o), 0, "{extra:?}");
        let v = json(&o);
        assert_eq!(v["divergence"], serde_json::Value::Null);
        let mode = if extra.is_some() {
            "from-seed"
        } else {
            "recorded-fates"
        };
        assert_eq!(v["mode"], mode);
    }

    let body = std::fs::read_to_string(&t).unwrap();
    let tampered: Vec<String> = body
        .lines()
        .map(|l| {
            if l.contains("\"ev\":\"end\"") {
                l.replace("\"ok\":", "\"ok\":0,\"x\":")
            } else {
                l.to_string()
            }
        })
        .collect();
    let bad = tmp("tampered.jsonl");
    std::fs::write(&bad, tampered.join("\n")).unwrap();
    let o = synclab(&["sim", "replay", bad.to_str().unwrap(), "--json"]);
    assert_eq!(code(&o), 1);
    let v = json(&o);
    assert_eq!(v["divergence"]["line"], body.lines().count());

    let junk = tmp("junk.jsonl");
    std::fs::write(&junk, "not json\n").unwrap();
    let o = synclab(&["sim", "replay", junk.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("junk.jsonl:1"));
}

/// A traced run of handshake-close-under-loss, seed 1 (it loses segments), as lines.
fn lossy_trace(name: &str) -> (PathBuf, Vec<String>) {
    let t = tmp(name);
    let o = synclab(&[
        "sim",
        "run",
        "--scenario",
        "handshake-close-under-loss",
        "--seed",
        "1",
        "--trace",
        t.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0);
    let lines = std::fs::read_to_string(&t)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    (t, lines)
}

#[test]
fn replay_follows_an_edited_fate_and_writes_the_run_it_led_to() {
    let (_, mut lines) = lossy_trace("edit.jsonl");
    let i = lines
        .iter()
        .position(|l| l.contains("\"fate\":\"lost\""))
        .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&lines[i]).unwrap();
    let t = v["t"].as_u64().unwrap();
    v.as_object_mut().unwrap().remove("reason");
    v["fate"] = "delivered".into();
    v["arrive"] = (t + 10).into();
    lines[i] = v.to_string();
    let edited = tmp("edited.jsonl");
    std::fs::write(&edited, lines.join("\n")).unwrap();
    let out = tmp("what-if.jsonl");
    let o = synclab(&[
        "sim",
        "replay",
        edited.to_str().unwrap(),
        "--trace",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code(&o), 1, "the outputs differ from the recorded ones");
    let v = json(&o);
    assert!(v["divergence"]["line"].as_u64().unwrap() > i as u64 + 1);
    assert_eq!(v["run_ok"], true, "{v}");
    assert_eq!(v["run"]["failures"], serde_json::json!([]));
    let o = synclab(&["sim", "replay", out.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
}

#[test]
fn replay_refuses_an_inconsistent_fate_naming_line_and_key() {
    let (_, mut lines) = lossy_trace("incons.jsonl");
    let i = lines
        .iter()
        .position(|l| l.contains("\"send\"") && l.contains("\"fate\":\"delivered\""))
        .unwrap();
    lines[i] = lines[i].replace("\"fate\":\"delivered\"", "\"fate\":\"teleported\"");
    let bad = tmp("incons-edited.jsonl");
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let path = bad.to_str().unwrap();
    let o = synclab(&["sim", "replay", path]);
    assert_eq!(code(&o), 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("{path}:{}: key `fate`", i + 1)),
        "{err}"
    );
    let o = synclab(&["sim", "replay", path, "--json"]);
    assert_eq!(code(&o), 2);
    assert!(json(&o)["error"].as_str().unwrap().contains("key `fate`"));
}

#[test]
fn diagram_text_and_svg() {
    let t = tmp("d.jsonl");
    let o = synclab(&[
        "sim",
        "run",
        "--scenario",
        "rfc9293-fig6-handshake",
        "--trace",
        t.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0);
    let o = synclab(&["sim", "diagram", t.to_str().unwrap()]);
    assert_eq!(code(&o), 0);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("SYN-SENT") && text.contains("--> <SEQ=100><CTL=SYN>"),
        "{text}"
    );
    assert!(
        text.contains("<-- <SEQ=300><ACK=101><CTL=SYN,ACK>"),
        "{text}"
    );
    let svg = tmp("d.svg");
    let o = synclab(&[
        "sim",
        "diagram",
        t.to_str().unwrap(),
        "--svg",
        svg.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code(&o), 0);
    assert_eq!(json(&o)["ok"], true);
    let s = std::fs::read_to_string(&svg).unwrap();
    assert!(
        s.starts_with("<svg") && s.contains("&lt;SEQ=300&gt;&lt;ACK=101&gt;&lt;CTL=SYN,ACK&gt;")
    );
}

#[test]
fn failed_expectation_exits_1() {
    let f = tmp("fails.toml");
    std::fs::write(
        &f,
        format!("{BASE}[[step]]\nhost = \"A\"\ncall = \"connect\"\nsock = \"c\"\nto = \"B:80\"\n"),
    )
    .unwrap();
    let o = synclab(&["sim", "run", "--scenario", f.to_str().unwrap(), "--json"]);
    assert_eq!(code(&o), 1);
    let v = json(&o);
    assert_eq!(v["ok"], false);
    let fails = v["failures"].as_array().unwrap();
    assert!(!fails.is_empty());
    assert!(fails
        .iter()
        .all(|x| x["expected"].is_string() && x["actual"].is_string() && x["t"].is_u64()));
}

fn refused(name: &str, extra: &str, line: usize, key: &str) {
    let f = tmp(name);
    std::fs::write(&f, format!("{BASE}{extra}")).unwrap();
    let path = f.to_str().unwrap();
    let o = synclab(&["sim", "run", "--scenario", path]);
    assert_eq!(code(&o), 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("{path}:{line}: key `{key}`")),
        "{err}"
    );
    let o = synclab(&["sim", "run", "--scenario", path, "--json"]);
    assert_eq!(code(&o), 2);
    assert!(json(&o)["error"]
        .as_str()
        .unwrap()
        .contains(&format!("key `{key}`")));
}

#[test]
fn bad_scenarios_exit_2_naming_file_line_key() {
    refused(
        "uk.toml",
        "[[step]]\nhost = \"A\"\ncall = \"listen\"\nsock = \"l\"\nport = 80\nbacklgo = 3\n",
        12,
        "backlgo",
    );
    refused(
        "uh.toml",
        "[[step]]\nhost = \"C\"\ncall = \"crash\"\n",
        8,
        "host",
    );
    refused(
        "bf.toml",
        "[[inject]]\nat_ms = 1\nfrom = \"A:1\"\nto = \"B:2\"\nflags = \"AS\"\nseq = 1\n",
        11,
        "flags",
    );
    refused(
        "wt.toml",
        "[[step]]\nhost = \"A\"\ncall = \"listen\"\nsock = \"l\"\nport = \"80\"\n",
        11,
        "port",
    );
}

#[test]
fn bad_flags_and_missing_files_exit_2() {
    for args in [
        &[
            "sim",
            "run",
            "--scenario",
            "rfc9293-fig6-handshake",
            "--loss",
            "1.5",
        ][..],
        &[
            "sim",
            "run",
            "--scenario",
            "rfc9293-fig6-handshake",
            "--delay-ms",
            "9..1",
        ][..],
        &["sim", "run", "--scenario", "no-such-scenario"][..],
        &["sim", "diagram", "/nonexistent/trace.jsonl"][..],
        &["sim", "frobnicate"][..],
    ] {
        assert_eq!(code(&synclab(args)), 2, "{args:?}");
    }
}

#[test]
fn explore_sweeps_seeds() {
    let o = synclab(&[
        "sim",
        "explore",
        "--scenario",
        "rfc9293-fig7-simultaneous-open",
        "--seeds",
        "30",
        "--loss",
        "0.3",
        "--dup",
        "0.2",
        "--reorder",
        "0.2",
        "--json",
    ]);
    assert_eq!(code(&o), 0);
    let v = json(&o);
    assert_eq!(
        (v["ok"].clone(), v["runs"].clone()),
        (serde_json::json!(true), serde_json::json!(30))
    );
    assert_eq!(
        code(&synclab(&[
            "sim",
            "explore",
            "--scenario",
            "nope",
            "--seeds",
            "1"
        ])),
        2
    );
}

#[test]
fn explore_refuses_bad_numbers_and_combinations_with_exit_2() {
    let bad: &[&[&str]] = &[
        &["--scenario", "syn-lost", "--seeds", "0"],
        &["--scenario", "syn-lost", "--seeds", "100000001"],
        &["--scenario", "syn-lost", "--exhaustive", "--depth", "0"],
        &["--scenario", "syn-lost", "--exhaustive", "--depth", "65"],
        &[
            "--scenario",
            "syn-lost",
            "--exhaustive",
            "--max-states",
            "0",
        ],
        &["--scenario", "syn-lost", "--depth", "3"],
        &["--scenario", "syn-lost", "--exhaustive", "--seeds", "3"],
        &["--scenario", "syn-lost", "--exhaustive", "--loss", "0.1"],
        &["--scenario", "syn-lost", "--shard", "2/2"],
        &["--scenario", "syn-lost", "--shard", "0/0"],
        &["--scenario", "syn-lost", "--shard", "x"],
        &["--scenario", "syn-lost", "--mutant", "nope"],
        &[
            "--scenario",
            "syn-lost",
            "--first-seed",
            "18446744073709551615",
            "--seeds",
            "2",
        ],
    ];
    for args in bad {
        let mut a = vec!["sim", "explore"];
        a.extend_from_slice(args);
        a.push("--json");
        let o = synclab(&a);
        assert_eq!(code(&o), 2, "{args:?}");
        let v = json(&o);
        assert_eq!(v["ok"], false, "{args:?}");
        assert!(v["error"].as_str().unwrap().starts_with("--"), "{v}");
    }
    let o = synclab(&["sim", "run", "--scenario", "syn-lost", "--mutant", "x"]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("time-wait-skipped"));
}

#[test]
fn mutants_are_listed_and_caught_by_sweep_and_search() {
    let v = json(&synclab(&["sim", "list", "--json"]));
    let names: Vec<&str> = v["mutants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 5);
    assert!(names.contains(&"time-wait-skipped"));
    for mode in [&["--seeds", "2"][..], &["--exhaustive", "--depth", "2"][..]] {
        let mut a = vec![
            "sim",
            "explore",
            "--scenario",
            "active-close-client",
            "--mutant",
            "time-wait-skipped",
            "--json",
        ];
        a.extend_from_slice(mode);
        let o = synclab(&a);
        assert_eq!(code(&o), 1, "{mode:?}");
        let v = json(&o);
        assert_eq!(v["ok"], false);
        assert_eq!(v["mutant"], "time-wait-skipped");
        assert!(v["oracle_failures"].as_u64().unwrap() > 0);
    }
}

#[test]
fn exhaustive_reports_states_per_scenario() {
    let o = synclab(&[
        "sim",
        "explore",
        "--scenario",
        "rfc9293-fig6-handshake",
        "--exhaustive",
        "--depth",
        "3",
        "--json",
    ]);
    assert_eq!(code(&o), 0);
    let v = json(&o);
    assert_eq!(v["mode"], "exhaustive");
    let sc = &v["scenarios"][0];
    for k in ["states", "transitions", "paths", "deepest", "elapsed_s"] {
        assert!(sc[k].is_number(), "{k}");
    }
    assert_eq!(sc["deepest"], 3);
    assert_eq!(sc["complete"], true);
}

#[test]
fn an_exhaustive_search_stopped_at_max_states_exits_3() {
    let o = synclab(&[
        "sim",
        "explore",
        "--scenario",
        "rfc9293-fig6-handshake",
        "--exhaustive",
        "--depth",
        "4",
        "--max-states",
        "10",
        "--json",
    ]);
    assert_eq!(code(&o), 3);
    let v = json(&o);
    assert_eq!(v["ok"], false);
    assert_eq!(v["scenarios"][0]["complete"], false);
}

#[test]
fn shrink_writes_a_trace_that_replays_and_draws() {
    let t = tmp("shrunk.jsonl");
    let o = synclab(&[
        "sim",
        "explore",
        "--scenario",
        "active-close-client",
        "--mutant",
        "fin-before-data",
        "--exhaustive",
        "--depth",
        "5",
        "--shrink",
        t.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code(&o), 1);
    let v = json(&o);
    assert_eq!(v["shrunk"]["kind"], "oracle:eof-after-data");
    assert_eq!(v["shrunk"]["faults_after"], 1);
    // The script shrinks too: the server's accept, reads and close are not needed.
    assert_eq!(v["shrunk"]["steps_before"], 8);
    assert_eq!(v["shrunk"]["steps_after"], 4);
    assert_eq!(
        v["shrunk"]["removed_step_lines"],
        serde_json::json!([20, 26, 33, 40])
    );
    let o = synclab(&["sim", "replay", t.to_str().unwrap(), "--json"]);
    assert_eq!(code(&o), 0);
    let r = json(&o);
    assert_eq!(r["divergence"], serde_json::Value::Null);
    assert_eq!(r["run_ok"], false, "the shrunk run still fails");
    let o = synclab(&["sim", "diagram", t.to_str().unwrap()]);
    assert_eq!(code(&o), 0);
}

#[test]
fn shard_merge_round_trip_gives_the_unsharded_totals() {
    let base = [
        "sim",
        "explore",
        "--scenario",
        "all",
        "--seeds",
        "3",
        "--loss",
        "0.1",
        "--mutant",
        "fin-before-data",
        "--json",
    ];
    let whole = json(&synclab(&base));
    let mut files = Vec::new();
    for i in 0..3 {
        let shard = format!("{i}/3");
        let mut a = base.to_vec();
        a.extend(["--shard", shard.as_str()]);
        let o = synclab(&a);
        let f = tmp(&format!("shard{i}.json"));
        std::fs::write(&f, &o.stdout).unwrap();
        files.push(f.to_str().unwrap().to_string());
    }
    let mut a = vec!["sim", "merge", "--json"];
    a.extend(files.iter().map(String::as_str));
    let o = synclab(&a);
    assert_eq!(code(&o), 1, "the mutant's findings carry through");
    let merged = json(&o);
    for k in [
        "runs",
        "segments",
        "expectation_failures",
        "oracle_failures",
        "findings",
    ] {
        assert_eq!(merged[k], whole[k], "{k}");
    }
    assert_eq!(merged["shards"], 3);
    let o = synclab(&["sim", "merge", &files[0], &files[1]]);
    assert_eq!(code(&o), 2, "a missing shard is bad input");
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing shards: 2/3"));
}
