//! Replay against the recorded network (`Mode::RecordedFates`): it does not depend on the RNG
//! (a different seed changes nothing), traces recorded by an older build replay, a hand-edited
//! fate gives a different run that the oracles still check, and inconsistent fates are refused
//! with their line and key.

use serde_json::Value;
use synclab_sim::scenario::builtin::{self, builtin};
use synclab_sim::trace::replay::{replay, scenario_of, Mode};
use synclab_sim::trace::{fates, Trace, TraceError};
use synclab_sim::{parse_scenario, run, NetOverride, RunOptions, Scenario};

const FAULTS: NetOverride = NetOverride {
    loss: Some(0.2),
    duplicate: Some(0.1),
    reorder: Some(0.1),
    delay: None,
};

fn record(sc: &Scenario, seed: u64, net: NetOverride) -> Vec<String> {
    let opts = RunOptions {
        seed,
        net,
        trace: true,
        ..Default::default()
    };
    run(sc, &opts).trace.expect("traced")
}

fn parse(lines: &[String]) -> Trace {
    Trace::parse("mem.jsonl", &lines.join("\n")).expect("trace parses")
}

/// Runs the trace's scenario with its recorded choices but another seed.
fn rerun_with_seed(t: &Trace, seed: u64, net: NetOverride) -> Vec<String> {
    let sc = scenario_of(t).unwrap();
    let opts = RunOptions {
        seed,
        net,
        trace: true,
        recorded: Some(fates::recording(t, &sc).expect("fates read")),
    };
    let r = run(&sc, &opts);
    assert_eq!(r.unrecorded, 0);
    r.trace.unwrap()
}

/// A built-in without its `isn` lists: every ISN is drawn.
fn without_isns(name: &str) -> Scenario {
    let sc = builtin(name).unwrap();
    let src: String = sc
        .source
        .lines()
        .filter(|l| !l.starts_with("isn"))
        .map(|l| format!("{l}\n"))
        .collect();
    parse_scenario(&sc.file, &src).unwrap()
}

#[test]
fn recorded_fates_replay_identically_under_another_seed() {
    let mut scenarios = builtin::all();
    scenarios.push(without_isns("handshake-close-under-loss"));
    scenarios.push(without_isns("rfc9293-fig11-old-syn-two-passive"));
    let mut drawn = 0;
    for sc in &scenarios {
        for seed in 0..4 {
            let lines = record(sc, seed, FAULTS);
            drawn += lines.iter().filter(|l| l.contains("\"iss\":")).count();
            let t = parse(&lines);
            let again = rerun_with_seed(&t, seed + 1000, FAULTS);
            // Everything but the header (which names the seed) is the same.
            assert_eq!(again[1..], lines[1..], "{} seed {seed}", sc.name);
        }
    }
    assert!(drawn >= 8, "drawn ISNs recorded: {drawn}");
}

#[test]
fn another_seed_without_the_recording_gives_another_run() {
    // The control for the test above: the seed does matter when fates are not recorded.
    let sc = builtin("handshake-close-under-loss").unwrap();
    let a = record(&sc, 1, NetOverride::default());
    let b = record(&sc, 1001, NetOverride::default());
    assert_ne!(a[1..], b[1..]);
}

#[test]
fn traces_recorded_before_fates_were_replayable_replay_from_their_fates() {
    // Recorded by the build before this mode existed (tests/golden/); no held-back segment.
    for name in [
        "fig13-simultaneous-close",
        "handshake-close-under-loss-seed1",
        "fig8-old-duplicate-syn",
    ] {
        let path = format!("{}/tests/golden/{name}.jsonl", env!("CARGO_MANIFEST_DIR"));
        let t = Trace::parse(&path, &std::fs::read_to_string(&path).unwrap()).unwrap();
        let r = replay(&t, Mode::RecordedFates).unwrap();
        assert_eq!(r.divergence, None, "{name}");
    }
    // One with a held-back segment lacks the keys that fate needs: refused, naming them.
    let name = "duplicated-reordered-syn-faults-seed5";
    let path = format!("{}/tests/golden/{name}.jsonl", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let held = 1 + text.lines().position(|l| l.contains("\"held\"")).unwrap();
    let old = Trace::parse(&path, &text).unwrap();
    let e = replay(&old, Mode::RecordedFates).unwrap_err();
    assert_eq!((e.line, e.key.as_str()), (held, "arrive"), "{e}");
    assert!(e.to_string().contains("--from-seed"), "{e}");
    // From the seed it replays: the held line's new keys are not a divergence.
    let r = replay(&old, Mode::FromSeed).unwrap();
    assert_eq!(r.divergence, None);
}

#[test]
fn a_trace_without_the_iss_it_drew_is_refused_but_replays_from_the_seed() {
    let sc = without_isns("rfc9293-fig6-handshake");
    let lines: Vec<String> = record(&sc, 5, NetOverride::default())
        .into_iter()
        .map(|l| {
            // As an older build wrote it.
            let mut v: Value = serde_json::from_str(&l).unwrap();
            v.as_object_mut().unwrap().remove("iss");
            v.to_string()
        })
        .collect();
    let first = 1 + lines
        .iter()
        .position(|l| l.contains("\"from\":\"CLOSED\""))
        .unwrap();
    let e = replay(&parse(&lines), Mode::RecordedFates).unwrap_err();
    assert_eq!((e.line, e.key.as_str()), (first, "iss"), "{e}");
    assert!(e.message.contains("--from-seed"), "{e}");
    let r = replay(&parse(&lines), Mode::FromSeed).unwrap();
    assert_eq!(r.divergence, None);
}

#[test]
fn a_drop_edited_into_a_delivery_gives_a_different_run_still_checked() {
    let sc = builtin("handshake-close-under-loss").unwrap();
    let lines = record(&sc, 1, NetOverride::default());
    let lost_before = lines.iter().filter(|l| l.contains("\"lost\"")).count();
    let i = lines
        .iter()
        .position(|l| l.contains("\"ev\":\"send\"") && l.contains("\"fate\":\"lost\""))
        .expect("seed 1 loses a segment");
    let mut v: Value = serde_json::from_str(&lines[i]).unwrap();
    let t = v["t"].as_u64().unwrap();
    let o = v.as_object_mut().unwrap();
    o.remove("reason");
    o.insert("fate".into(), "delivered".into());
    o.insert("arrive".into(), (t + 10).into());
    let mut edited = lines.clone();
    edited[i] = v.to_string();

    let r = replay(&parse(&edited), Mode::RecordedFates).expect("an edited fate replays");
    // The run follows the edit: it departs from the recorded outputs after the edited line...
    let d = r.divergence.clone().expect("the outputs differ");
    assert!(d.line > i + 1, "{d:?}");
    let got = r.run.trace.clone().unwrap();
    assert_eq!(got[..=i], edited[..=i]);
    // ...is a different run (fewer losses) that ran to its end under the oracles...
    assert!(!r.run.oracle_fired(), "{:?}", r.run.failures);
    assert!(r.run.ok, "{:?}", r.run.failures);
    let lost_after = got.iter().filter(|l| l.contains("\"lost\"")).count();
    assert!(lost_after < lost_before, "{lost_after} < {lost_before}");
    // ...and its own trace is a recording that replays without divergence.
    let again = replay(&parse(&got), Mode::RecordedFates).unwrap();
    assert_eq!(again.divergence, None);
    // From the seed, the edit is not an input: the old run comes back, diverging at the edit.
    let from_seed = replay(&parse(&edited), Mode::FromSeed).unwrap();
    assert_eq!(from_seed.divergence.unwrap().line, i + 1);
}

/// Applies `edit` to the first line matching `pick` of a faulty fig8 run (seed 4: a duplicate,
/// a loss, an injected segment); returns the error and the 1-based line edited.
fn refused(pick: fn(&Value) -> bool, edit: fn(&mut Value)) -> (TraceError, usize) {
    let sc = builtin("rfc9293-fig8-old-duplicate-syn").unwrap();
    let mut lines = record(&sc, 4, FAULTS);
    let i = lines
        .iter()
        .position(|l| pick(&serde_json::from_str(l).unwrap()))
        .expect("a line to edit");
    let mut v: Value = serde_json::from_str(&lines[i]).unwrap();
    edit(&mut v);
    lines[i] = v.to_string();
    let e = replay(&parse(&lines), Mode::RecordedFates).expect_err("refused");
    assert_eq!(e.file, "mem.jsonl");
    (e, i + 1)
}

fn is_send(v: &Value) -> bool {
    v["ev"] == "send" && v["t"].as_u64() > Some(0)
}
fn delivered(v: &Value) -> bool {
    is_send(v) && v["fate"] == "delivered"
}
fn lost(v: &Value) -> bool {
    is_send(v) && v["fate"] == "lost"
}

#[test]
fn inconsistent_fates_are_refused_naming_line_and_key() {
    type Case = (
        fn(&Value) -> bool,
        fn(&mut Value),
        &'static str,
        &'static str,
    );
    let cases: [Case; 12] = [
        (
            lost,
            |v| {
                v.as_object_mut().unwrap().remove("reason");
            },
            "reason",
            "missing",
        ),
        (
            delivered,
            |v| v["arrive"] = (v["t"].as_u64().unwrap() - 1).into(),
            "arrive",
            "before the segment was sent",
        ),
        (
            delivered,
            |v| v["dup_arrive"] = 0.into(),
            "dup_arrive",
            "before the segment was sent",
        ),
        (
            delivered,
            |v| v["fate"] = "vanished".into(),
            "fate",
            "expected \"lost\"",
        ),
        (
            delivered,
            |v| v["reason"] = "loss".into(),
            "reason",
            "a delivered segment has no `reason`",
        ),
        (
            delivered,
            |v| {
                v.as_object_mut().unwrap().remove("arrive");
            },
            "arrive",
            "missing",
        ),
        (
            delivered,
            |v| v["fate"] = "held".into(),
            "release_at",
            "missing",
        ),
        (
            lost,
            |v| v["reason"] = "cosmic rays".into(),
            "reason",
            "not one of \"loss\"",
        ),
        (
            lost,
            |v| v["arrive"] = 5.into(),
            "arrive",
            "a lost segment has no `arrive`",
        ),
        (is_send, |v| v["from"] = "C".into(), "from", "no host \"C\""),
        (
            |v| v["ev"] == "send" && v["t"].as_u64() > Some(5),
            |v| v["t"] = 1.into(),
            "t",
            "before the send on line",
        ),
        (
            |v| v["ev"] == "arrive",
            |v| v["id"] = 999.into(),
            "id",
            "no earlier `send` line sent it",
        ),
    ];
    for (pick, edit, key, what) in cases {
        let (e, line) = refused(pick, edit);
        assert_eq!((e.line, e.key.as_str()), (line, key), "{e}");
        assert!(e.to_string().contains(what), "{e}");
        assert!(
            e.to_string()
                .starts_with(&format!("mem.jsonl:{line}: key `{key}`")),
            "{e}"
        );
    }
}

#[test]
fn a_second_segment_with_one_id_and_a_misplaced_iss_are_refused() {
    let (e, line) = refused(
        |v| v["ev"] == "send" && v["id"] == 3,
        |v| v["id"] = 1.into(),
    );
    assert_eq!((e.line, e.key.as_str()), (line, "id"), "{e}");
    assert!(e.message.contains("already sent on line"), "{e}");
    let (e, line) = refused(
        |v| v["ev"] == "state" && v["from"] != "CLOSED",
        |v| v["iss"] = 7.into(),
    );
    assert_eq!((e.line, e.key.as_str()), (line, "iss"), "{e}");
}

#[test]
fn errors_and_divergences_name_file_lines_counting_blank_ones() {
    let sc = builtin("rfc9293-fig6-handshake").unwrap();
    let lines = record(&sc, 1, NetOverride::default());
    let i = lines.iter().position(|l| l.contains("\"send\"")).unwrap();
    let mut text = lines.clone();
    text[i] = text[i].replace("\"fate\":\"delivered\"", "\"fate\":\"late\"");
    text.insert(1, String::new()); // a blank line after the header
    let t = Trace::parse("blank.jsonl", &text.join("\n")).unwrap();
    let e = replay(&t, Mode::RecordedFates).unwrap_err();
    assert_eq!((e.line, e.key.as_str()), (i + 2, "fate"), "{e}");
}

#[test]
fn segments_beyond_the_recording_meet_a_quiet_network() {
    // An empty recording: every segment is beyond it. A quiet network keeps the scenario's
    // partitions and rules, loses nothing at random and takes the shortest delay: the same run
    // as the quiet overrides give, whatever the seed.
    for (name, delay) in [
        ("handshake-close-under-loss", 5),
        ("connect-timeout-partition", 1),
    ] {
        let sc = builtin(name).unwrap();
        let quiet = NetOverride {
            loss: Some(0.0),
            duplicate: Some(0.0),
            reorder: Some(0.0),
            delay: Some((delay, delay)),
        };
        let want = record(&sc, 1, quiet);
        let opts = RunOptions {
            seed: 99,
            trace: true,
            recorded: Some(Default::default()),
            ..Default::default()
        };
        let r = run(&sc, &opts);
        assert_eq!(r.unrecorded, r.segments, "{name}");
        assert_eq!(r.trace.unwrap()[1..], want[1..], "{name}");
    }
}

#[test]
fn a_delivery_edited_into_a_drop_runs_past_the_recording() {
    let sc = builtin("rfc9293-fig6-handshake").unwrap();
    let mut lines = record(&sc, 1, NetOverride::default());
    let i = lines.iter().position(|l| l.contains("\"send\"")).unwrap();
    let mut v: Value = serde_json::from_str(&lines[i]).unwrap();
    let o = v.as_object_mut().unwrap();
    o.remove("arrive");
    o.insert("fate".into(), "lost".into());
    o.insert("reason".into(), "loss".into());
    lines[i] = v.to_string();
    // The SYN's arrival line now names a lost segment: an output the replay will not produce,
    // so it is where the replay departs.
    let r = replay(&parse(&lines), Mode::RecordedFates).unwrap();
    let d = r.divergence.expect("diverges");
    assert!(d.recorded.contains("\"arrive\""), "{d:?}");
    // The SYN is retransmitted: A sends one segment more than was recorded.
    assert_eq!(r.run.unrecorded, 1);
    assert!(r
        .run
        .trace
        .as_ref()
        .unwrap()
        .iter()
        .any(|l| l.contains("\"timer\"")));
    assert!(!r.run.oracle_fired(), "{:?}", r.run.failures);
}
