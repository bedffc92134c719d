//! Property tests that feed arbitrary and mutated bytes to the scenario and trace parsers (and
//! to what reads a parsed trace: the ladder diagram in text and SVG, the recorded fates). Every
//! input must give a typed error or a valid result, never a panic. Deterministic: each property
//! runs a stated number of cases from a fixed ChaCha seed. (The history parser's properties live
//! with the checker crate.)
//!
//! Cases: arbitrary bytes as a scenario 10,000; mutated built-in scenarios 5,000; arbitrary bytes
//! as a trace 10,000; mutated recorded traces 3,000; strict JSON against serde_json 5,000. The
//! mutation properties also assert that some mutants still parse (so what reads a parsed value
//! is exercised too) and some do not.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use synclab_sim::scenario::{builtin, parse_scenario};
use synclab_sim::trace::{fates, ladder, strict_json, svg, text, Trace};

/// Runs `test` on `cases` values of `strategy`, from a fixed seed; panics on a failing case.
fn check<S: Strategy>(cases: u32, strategy: S, test: impl Fn(S::Value))
where
    S::Value: std::fmt::Debug,
{
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[9; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);
    runner
        .run(&strategy, |v| {
            test(v);
            Ok(())
        })
        .unwrap();
}

/// Edits of a valid text: (position fraction, what to do, bytes to insert).
fn edits() -> impl Strategy<Value = Vec<(f64, u8, String)>> {
    let token = prop_oneof![
        Just("\n".to_string()),
        Just("=".to_string()),
        Just("[[step]]\n".to_string()),
        Just("\"".to_string()),
        Just("18446744073709551615".to_string()),
        Just("-1".to_string()),
        Just("{\"t\":1,".to_string()),
        Just("]".to_string()),
        "[ -~]{0,12}",
    ];
    prop::collection::vec((0.0..1.0f64, 0..3u8, token), 1..6)
}

/// Applies `edits` to `base`: insert, delete a few bytes, or overwrite, at char boundaries.
fn mutate(base: &str, edits: &[(f64, u8, String)]) -> String {
    let mut s = base.to_string();
    for (at, what, token) in edits {
        let mut i = ((s.len() as f64) * at) as usize;
        while !s.is_char_boundary(i) {
            i -= 1;
        }
        match what {
            0 => s.insert_str(i, token),
            1 => {
                let mut end = (i + token.len().max(1)).min(s.len());
                while !s.is_char_boundary(end) {
                    end -= 1;
                }
                s.replace_range(i..end, "");
            }
            _ => {
                let mut end = (i + token.len()).min(s.len());
                while !s.is_char_boundary(end) {
                    end -= 1;
                }
                s.replace_range(i..end, token);
            }
        }
    }
    s
}

fn builtin_sources() -> Vec<String> {
    builtin::all().into_iter().map(|s| s.source).collect()
}

/// A recorded trace of a built-in scenario with faults, as text.
fn recorded_trace() -> String {
    let sc = builtin::builtin("rfc9293-fig6-handshake").expect("built-in");
    let r = synclab_sim::run(
        &sc,
        &synclab_sim::RunOptions {
            seed: 3,
            trace: true,
            ..Default::default()
        },
    );
    r.trace.expect("traced").join("\n")
}

/// Everything a CLI does with a parsed trace short of re-running it.
fn use_trace(t: &Trace) {
    let l = ladder::build(t);
    let _ = text::render(&l);
    let _ = svg::render(&l);
    if let Some(src) = t.meta()["source"].as_str() {
        if let Ok(sc) = parse_scenario("embedded", src) {
            let _ = fates::recording(t, &sc);
        }
    }
}

#[test]
fn arbitrary_bytes_never_panic_the_scenario_parser() {
    check(
        10_000,
        prop::collection::vec(any::<u8>(), 0..512),
        |bytes| {
            let _ = parse_scenario("fuzz.toml", &String::from_utf8_lossy(&bytes));
        },
    );
}

#[test]
fn mutated_scenarios_never_panic_the_scenario_parser() {
    let sources = builtin_sources();
    let n = sources.len();
    let parsed = AtomicU32::new(0);
    check(5_000, (0..n, edits()), |(i, e)| {
        if parse_scenario("fuzz.toml", &mutate(&sources[i], &e)).is_ok() {
            parsed.fetch_add(1, Relaxed);
        }
    });
    let parsed = parsed.into_inner();
    eprintln!("{parsed} of 5000 mutated scenarios parsed");
    assert!(parsed > 0 && parsed < 5_000);
}

#[test]
fn arbitrary_bytes_never_panic_the_trace_parser() {
    check(
        10_000,
        prop::collection::vec(any::<u8>(), 0..512),
        |bytes| {
            if let Ok(t) = Trace::parse("fuzz.jsonl", &String::from_utf8_lossy(&bytes)) {
                use_trace(&t);
            }
        },
    );
}

#[test]
fn mutated_traces_never_panic_the_trace_parser_or_the_diagrams() {
    let base = recorded_trace();
    assert!(
        Trace::parse("base.jsonl", &base).is_ok(),
        "the base trace parses"
    );
    let parsed = AtomicU32::new(0);
    check(3_000, edits(), |e| {
        if let Ok(t) = Trace::parse("fuzz.jsonl", &mutate(&base, &e)) {
            parsed.fetch_add(1, Relaxed);
            use_trace(&t);
        }
    });
    let parsed = parsed.into_inner();
    eprintln!("{parsed} of 3000 mutated traces parsed");
    assert!(parsed > 0 && parsed < 3_000);
}

#[test]
fn strict_json_agrees_with_serde_json_except_for_duplicates() {
    let json = prop_oneof![
        "[ -~]{0,40}",
        r#"\{("[ab]":[0-9],?){0,4}\}"#,
        r#"\[(\{"[ab]":(null|true|-?[0-9]{1,3}(\.[0-9])?)\},?){0,3}\]"#,
    ];
    check(5_000, json, |s| {
        let loose = serde_json::from_str::<serde_json::Value>(&s);
        match strict_json::parse(&s) {
            Ok(v) => assert_eq!(Some(v), loose.ok(), "{s:?}"),
            Err(e) => assert!(
                loose.is_err() || e.to_string().contains("duplicate key"),
                "{s:?}: {e}"
            ),
        }
    });
}
