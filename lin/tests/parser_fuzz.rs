//! Property tests that feed arbitrary and mutated bytes to every history reader: HISTORY.md JSON
//! Lines ([`parse_history`], [`parse_history_reader`]), Jepsen EDN and porcupine kv logs, and
//! `jepsen.util` logs ([`parse_any`]). Every input must give a typed [`HistoryError`] or a
//! history that passes [`History::validate`] (and, for HISTORY.md, writes and reads back the
//! same), never a panic; a small parsed history is also checked, to reach the checkers with
//! whatever a reader lets through. Deterministic: a fixed seed per property.
//!
//! Cases (all in plain `cargo test`, about 2 s in total): arbitrary bytes as a history 10,000
//! (alone and behind a valid header); mutated HISTORY.md files of the four models 10,000; a key
//! repeated in a valid line 2,000; arbitrary text as EDN, as a Jepsen log and detected 5,000;
//! mutated EDN, kv and log files 5,000; strict JSON against serde_json 5,000. The mutation properties also assert that some mutants
//! still parse (so what reads a parsed history is exercised) and some do not.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use std::cell::Cell;
use std::time::{Duration, Instant};
use synclab_lin::foreign::{parse_any, Format};
use synclab_lin::simulate::{queue_history, register_history, semaphore_history, GenConfig};
use synclab_lin::write::op_line;
use synclab_lin::{
    check, json, parse_history, parse_history_reader, write_history, CheckOptions, History,
    HistoryError, Model, Op, OpKind,
};

fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(0x0f0f_2026),
        failure_persistence: None,
        ..Config::default()
    }
}

/// What every successful read must satisfy: the invariants, and the checker runs on it.
fn assert_usable(h: &History) {
    h.validate().expect("a parsed history is valid");
    if h.ops.len() <= 40 {
        let opts = CheckOptions {
            deadline: Some(Instant::now() + Duration::from_millis(200)),
            ..CheckOptions::default()
        };
        let _ = check(h, &opts);
    }
}

/// The operations without their line numbers (which depend on where they were read from).
fn unlined(h: &History) -> Vec<Op> {
    h.ops
        .iter()
        .map(|op| Op {
            line: 0,
            ..op.clone()
        })
        .collect()
}

/// A HISTORY.md read back after writing is the same history.
fn assert_round_trip(h: &History) {
    let mut out = Vec::new();
    write_history(&mut out, h).unwrap();
    let again = parse_history(std::str::from_utf8(&out).unwrap()).expect("written history reads");
    assert_eq!(again.header, h.header);
    assert_eq!(unlined(&again), unlined(h));
    // the JSON object of an operation (witnesses, the viewer) is the line the writer writes
    for op in &h.ops {
        let line: serde_json::Value = serde_json::from_str(&op_line(op)).unwrap();
        assert_eq!(op.to_json(), line);
    }
}

/// Reads `bytes` as a HISTORY.md both ways (streaming from bytes, and from text when UTF-8):
/// the two readers agree, and a success is usable.
fn read_synclab(bytes: &[u8]) -> Result<History, HistoryError> {
    let streamed = parse_history_reader(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        assert_eq!(
            parse_history(text),
            streamed,
            "text and stream readers agree"
        );
    }
    if let Ok(h) = &streamed {
        assert_usable(h);
        assert_round_trip(h);
    }
    streamed
}

/// Valid HISTORY.md files of every model, with unknown outcomes and operations that never
/// returned, plus optional header and operation fields.
fn bases() -> Vec<String> {
    let mut cfg = GenConfig::new(3, 12, 5);
    cfg.pending = true;
    cfg.failures = true;
    cfg.unknown_per_mille = 150;
    let mut out = Vec::new();
    for h in [
        queue_history(&cfg, Some(4)),
        semaphore_history(&cfg, 2),
        register_history(&cfg, 2),
    ] {
        let mut text = Vec::new();
        write_history(&mut text, &h).unwrap();
        out.push(String::from_utf8(text).unwrap());
    }
    out.push(
        r#"{"synclab_history":1,"model":"kv","note":{"by":"test"}}
{"process":0,"op":"put","key":"a","value":"x","ok":true,"invoke_ns":1,"return_ns":5,"extra":[1,2]}
{"process":1,"op":"append","key":"a","value":"y","ok":null,"invoke_ns":2,"return_ns":null}
{"process":2,"op":"get","key":"a","value":"xy","ok":true,"invoke_ns":6,"return_ns":9}
"#
        .to_string(),
    );
    out
}

/// Edits of a valid text: (position fraction, what to do, token to insert or write).
fn edits(tokens: Vec<&'static str>) -> impl Strategy<Value = Vec<(f64, u8, String)>> {
    let token = prop_oneof![
        prop::sample::select(tokens).prop_map(str::to_string),
        "[ -~]{0,10}",
        any::<char>().prop_map(|c| c.to_string()),
    ];
    prop::collection::vec((0.0..1.0f64, 0..3u8, token), 1..3)
}

const JSON_TOKENS: &[&str] = &[
    "\n",
    "\r\n",
    "\"",
    "{",
    "}",
    ",",
    ":",
    "null",
    "true",
    "-1",
    "0",
    "1.5",
    "1e3",
    "18446744073709551616",
    "-9223372036854775809",
    "\"value\":",
    ",\"value\":7",
    ",\"process\":1",
    ",\"ok\":null",
    ",\"return_ns\":null",
    ",\"n\":0",
    ",\"key\":\"k\"",
    "\"synclab_history\":2",
    "\\u0000",
    "é",
];

const EDN_TOKENS: &[&str] = &[
    "\n",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "#{",
    "\"",
    ":type",
    ":invoke",
    ":ok",
    ":fail",
    ":info",
    ":f",
    ":read",
    ":write",
    ":cas",
    ":enqueue",
    ":dequeue",
    ":append",
    ":get",
    ":put",
    ":process",
    ":value",
    ":key",
    ":time",
    "nil",
    "-1",
    "99999999999999999999",
    "1N",
    "[1 2]",
    ";",
    "\\",
    "jepsen.util - ",
    "\t",
    " ",
];

/// Applies `edits` to `base`: insert, delete a few bytes, or overwrite, at char boundaries.
fn mutate(base: &str, edits: &[(f64, u8, String)]) -> String {
    let mut s = base.to_string();
    for (at, what, token) in edits {
        let mut i = ((s.len() as f64) * at) as usize;
        while !s.is_char_boundary(i) {
            i -= 1;
        }
        let mut j = (i + 1 + token.len() % 4).min(s.len());
        while !s.is_char_boundary(j) {
            j += 1;
        }
        match what {
            0 => s.insert_str(i, token),
            1 => s.replace_range(i..j, ""),
            _ => s.replace_range(i..j, token),
        }
    }
    s
}

/// Counts parsed and refused inputs, and asserts both happened.
struct Tally {
    parsed: Cell<u32>,
    refused: Cell<u32>,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            parsed: Cell::new(0),
            refused: Cell::new(0),
        }
    }
    fn count<T, E>(&self, r: &Result<T, E>) {
        let c = if r.is_ok() {
            &self.parsed
        } else {
            &self.refused
        };
        c.set(c.get() + 1);
    }
    fn assert_both(&self, what: &str) {
        let (p, r) = (self.parsed.get(), self.refused.get());
        eprintln!("{what}: {p} parsed, {r} refused");
        assert!(p > 0 && r > 0, "{what}: {p} parsed, {r} refused");
    }
}

proptest! {
    #![proptest_config(config(10_000))]

    #[test]
    fn arbitrary_bytes_never_panic_the_history_reader(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = read_synclab(&bytes);
        // behind a valid header, so the operation reader sees them too
        let mut framed = b"{\"synclab_history\":1,\"model\":\"queue\"}\n".to_vec();
        framed.extend(&bytes);
        let _ = read_synclab(&framed);
    }
}

#[test]
fn mutated_histories_never_panic_the_history_reader() {
    let bases = bases();
    let tally = Tally::new();
    let mut runner = proptest::test_runner::TestRunner::new(config(10_000));
    runner
        .run(&(0..bases.len(), edits(JSON_TOKENS.to_vec())), |(b, e)| {
            let r = read_synclab(mutate(&bases[b], &e).as_bytes());
            tally.count(&r);
            Ok(())
        })
        .unwrap();
    tally.assert_both("mutated HISTORY.md files");
}

#[test]
fn a_key_named_twice_is_refused_naming_it() {
    let bases = bases();
    let mut runner = proptest::test_runner::TestRunner::new(config(2_000));
    let strategy = (
        0..bases.len(),
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
    );
    runner
        .run(&strategy, |(b, line, field)| {
            let lines: Vec<&str> = bases[b].lines().collect();
            let at = line.index(lines.len());
            let obj: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(lines[at]).unwrap();
            let key = obj.keys().nth(field.index(obj.len())).unwrap().clone();
            // the same key again, with the same value: still ambiguous, still refused
            let repeated = format!(
                "{},{}:{}}}",
                lines[at].strip_suffix('}').unwrap(),
                serde_json::Value::String(key.clone()),
                obj[&key]
            );
            let mut edited = lines.clone();
            edited[at] = &repeated;
            let e = read_synclab(edited.join("\n").as_bytes()).unwrap_err();
            prop_assert_eq!(e.line, at + 1);
            prop_assert_eq!(e.field.as_deref(), Some(key.as_str()));
            prop_assert!(e.message.contains("duplicate key"), "{}", e);
            Ok(())
        })
        .unwrap();
}

/// Reads `text` as every foreign format and as detected; a success is usable.
fn read_foreign(text: &str) -> Result<(), HistoryError> {
    let mut last = Err(HistoryError::line(0, "none"));
    for format in [Some(Format::Edn), Some(Format::JepsenLog), None] {
        let r = parse_any(text, format);
        if let Ok((h, _)) = &r {
            assert_usable(h);
        }
        if format.is_none() {
            last = r.map(|_| ());
        }
    }
    last
}

proptest! {
    #![proptest_config(config(5_000))]

    #[test]
    fn arbitrary_text_never_panics_the_foreign_readers(text in "(?s).{0,160}") {
        let _ = read_foreign(&text);
        let _ = read_foreign(&format!("INFO  jepsen.util - {text}"));
    }
}

/// Valid Jepsen EDN (cas register, queue), porcupine kv and `jepsen.util` log files.
const FOREIGN: &[&str] = &[
    r#"[{:type :invoke, :f :write, :value 1, :process 0, :time 100, :index 0}
 {:type :ok, :f :write, :value 1, :process 0, :time 200, :index 1}
 {:type :invoke, :f :cas, :value [1 2], :process 1, :time 300, :index 2}
 {:type :info, :f :cas, :value [1 2], :process 1, :time 400, :index 3}
 {:type :invoke, :f :read, :value nil, :process 2, :time 500, :index 4}
 {:type :ok, :f :read, :value 2, :process 2, :time 600, :index 5}]
"#,
    "{:process 0, :type :invoke, :f :enqueue, :value 1}\n\
     {:process 1, :type :invoke, :f :dequeue, :value nil}\n\
     {:process 0, :type :ok, :f :enqueue, :value 1}\n\
     {:process 1, :type :ok, :f :dequeue, :value 1}\n",
    r#"{:process 0, :type :invoke, :f :append, :key "k", :value "x 0 0 y"}
{:process 1, :type :invoke, :f :get, :key "k", :value nil}
{:process 0, :type :ok, :f :append, :key "k", :value "x 0 0 y"}
{:process 1, :type :ok, :f :get, :key "k", :value "x 0 0 y"}
"#,
    "INFO  jepsen.util - 0\t:invoke\t:write\t3\n\
     INFO  jepsen.util - 1\t:invoke\t:read\tnil\n\
     INFO  jepsen.util - 0\t:ok\t:write\t3\n\
     INFO  jepsen.util - 1\t:ok\t:read\t3\n\
     INFO  jepsen.util - 1\t:invoke\t:cas\t[3 4]\n\
     INFO  jepsen.util - 1\t:info\t:cas\t[3 4]\n",
];

#[test]
fn mutated_foreign_histories_never_panic_the_readers() {
    for base in FOREIGN {
        read_foreign(base).expect("the bases are valid");
    }
    let tally = Tally::new();
    let mut runner = proptest::test_runner::TestRunner::new(config(5_000));
    runner
        .run(&(0..FOREIGN.len(), edits(EDN_TOKENS.to_vec())), |(b, e)| {
            let r = read_foreign(&mutate(FOREIGN[b], &e));
            tally.count(&r);
            Ok(())
        })
        .unwrap();
    tally.assert_both("mutated EDN, kv and log files");
}

proptest! {
    #![proptest_config(config(5_000))]

    /// The strict reader accepts exactly what serde_json accepts, with the same value, except
    /// objects that name a key twice.
    #[test]
    fn strict_json_agrees_with_serde_json_except_for_duplicates(s in prop_oneof![
        "[ -~]{0,40}",
        r#"\{("[abc]":[0-9],?){0,4}\}"#,
        r#"\[(\{"[ab]":(null|true|-?[0-9]{1,3}(\.[0-9])?|\{"[ab]":1,"[ab]":2\})\},?){0,3}\]"#,
    ]) {
        let loose = serde_json::from_str::<serde_json::Value>(&s);
        match json::strict_value(&s) {
            Ok(v) => prop_assert_eq!(Some(v), loose.ok(), "{:?}", s),
            Err(json::JsonError::Duplicate(k)) => {
                let quoted = serde_json::Value::String(k).to_string();
                prop_assert!(s.matches(&quoted).count() >= 2, "{:?}", s)
            }
            Err(json::JsonError::Syntax(_)) => prop_assert!(loose.is_err(), "{:?}", s),
        }
        // the slot reader agrees with the map reader on the expected keys
        match (json::fields(&s, &["a", "b"]), json::strict_value(&s)) {
            (Ok(Ok(f)), Ok(serde_json::Value::Object(m))) => {
                prop_assert_eq!(f.get("a"), m.get("a"));
                prop_assert_eq!(f.get("b"), m.get("b"));
            }
            (Ok(Err(_)), Ok(v)) => prop_assert!(!v.is_object()),
            (Err(json::JsonError::Duplicate(a)), Err(json::JsonError::Duplicate(b))) => {
                prop_assert_eq!(a, b)
            }
            (Err(json::JsonError::Syntax(_)), Err(json::JsonError::Syntax(_))) => {}
            (f, v) => prop_assert!(false, "{:?}: {:?} vs {:?}", s, f.is_ok(), v.is_ok()),
        }
    }
}

#[test]
fn duplicate_keys_in_the_header_and_inside_optional_fields_are_refused() {
    let e = parse_history("{\"synclab_history\":1,\"model\":\"queue\",\"model\":\"register\"}\n")
        .unwrap_err();
    assert_eq!((e.line, e.field.as_deref()), (1, Some("model")));
    assert!(e.to_string().contains("duplicate key"), "{e}");
    let e = parse_history(
        "{\"synclab_history\":1,\"model\":\"queue\"}\n\
         {\"process\":0,\"op\":\"enqueue\",\"value\":1,\"ok\":true,\"invoke_ns\":1,\"return_ns\":2,\"meta\":{\"x\":1,\"x\":2}}\n",
    )
    .unwrap_err();
    assert_eq!((e.line, e.field.as_deref()), (2, Some("x")));
    // the same line without the repeat reads, and so does an unknown field named once
    let h = parse_history(
        "{\"synclab_history\":1,\"model\":\"queue\"}\n\
         {\"process\":0,\"op\":\"enqueue\",\"value\":1,\"ok\":true,\"invoke_ns\":1,\"return_ns\":2,\"meta\":{\"x\":1}}\n",
    )
    .unwrap();
    assert_eq!(h.header.model, Model::Queue { capacity: None });
    assert_eq!(h.ops[0].kind, OpKind::Enqueue { value: 1 });
}
