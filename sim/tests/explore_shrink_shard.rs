//! Shrinking and sharding: a failing path of the exhaustive search and a failing seed of a sweep
//! (both on a mutant) shrink to a smaller fault schedule whose trace `sim replay` reproduces and
//! the ladder draws; and a sweep or search split into shards and merged gives the totals of the
//! unsharded run.

use serde_json::{json, Value};
use synclab_sim::explore::merge::merge;
use synclab_sim::explore::shrink::{shrink_path, shrink_seed, Shrunk};
use synclab_sim::explore::{search, sweep_with, SearchOptions, Shard, SweepOptions};
use synclab_sim::net::choice::Choice;
use synclab_sim::scenario::builtin::{self, builtin};
use synclab_sim::tcp::Mutant;
use synclab_sim::trace::replay::{replay, Mode};
use synclab_sim::trace::{ladder, text, Trace};
use synclab_sim::{NetOverride, Scenario};

fn mutated(name: &str, m: Mutant) -> Scenario {
    let mut sc = builtin(name).unwrap();
    sc.tcp.mutant = m;
    sc
}

/// The shrunk trace replays from its recorded fates with no divergence, fails the same oracle,
/// and draws.
fn check_reproduces(sh: &Shrunk, m: Mutant) {
    let t = Trace::parse("shrunk.jsonl", &sh.trace.join("\n")).expect("a valid trace");
    assert_eq!(t.meta()["mutant"], json!(m.name()));
    // The trace embeds the shrunk script.
    let embedded = synclab_sim::trace::replay::scenario_of(&t).expect("the embedded scenario");
    assert_eq!(embedded.steps.len(), sh.steps_after);
    let r = replay(&t, Mode::RecordedFates).expect("replays");
    assert_eq!(r.divergence, None);
    assert!(
        r.run.failures.iter().any(|f| f.kind == sh.kind),
        "{:?}",
        r.run.failures
    );
    let d = text::render(&ladder::build(&t));
    assert!(d.contains("FIN"), "{d}");
}

#[test]
fn a_failing_search_path_shrinks_to_one_fault() {
    let sc = mutated("active-close-client", Mutant::FinBeforeData);
    // Of the failing paths the search finds, the one with the most faults: most of them are
    // needless (one lost or held-back data segment is enough).
    let o = SearchOptions {
        depth: 5,
        ..Default::default()
    };
    let s = search(std::slice::from_ref(&sc), &o, &|_| {});
    let faults = |p: &[Choice]| p.iter().filter(|&&c| c != Choice::Deliver).count();
    let path = s.scenarios[0]
        .findings
        .iter()
        .map(|f| f.path.clone())
        .max_by_key(|p| faults(p))
        .expect("the search catches the mutant");
    assert!(faults(&path) >= 2, "{path:?}");
    let sh = shrink_path(&sc, 1, &path).expect("the path fails");
    assert_eq!(sh.kind, "oracle:eof-after-data");
    assert_eq!(sh.faults_before, faults(&path));
    assert_eq!(sh.faults_after, 1, "{}", sh.text());
    assert!(sh.faults_after < sh.faults_before);
    // The server's accept, reads and close are not needed: the client's send and close after
    // the handshake, one data segment lost, are enough.
    assert_eq!((sh.steps_before, sh.steps_after), (8, 4), "{}", sh.text());
    assert_eq!(sh.removed_steps, vec![20, 26, 33, 40]);
    check_reproduces(&sh, Mutant::FinBeforeData);
}

/// A mutant caught with no fault at all: only the script shrinks, to the steps the failing
/// oracle needs (for TIME-WAIT skipped: a connection and both closes; the data and the reads
/// go), and the shrunk trace replays and draws.
#[test]
fn a_failing_seed_shrinks_its_script() {
    let sc = mutated("active-close-client", Mutant::TimeWaitSkipped);
    let sh = shrink_seed(&sc, 0, NetOverride::default()).expect("the mutant fails seed 0");
    assert_eq!(sh.kind, "oracle:close-path");
    assert_eq!(sh.faults_after, 0);
    assert!(sh.expect_removed);
    assert_eq!((sh.steps_before, sh.steps_after), (8, 5), "{}", sh.text());
    check_reproduces(&sh, Mutant::TimeWaitSkipped);
    // 1-minimal: taking out any remaining step loses the failure.
    let t = Trace::parse("shrunk.jsonl", &sh.trace.join("\n")).unwrap();
    let shrunk = synclab_sim::trace::replay::scenario_of(&t).unwrap();
    for i in 0..shrunk.steps.len() {
        if let Some(fewer) = synclab_sim::explore::script::without_step(&shrunk, i) {
            let r = synclab_sim::run(&fewer, &synclab_sim::RunOptions::default());
            assert!(
                !r.failures.iter().any(|f| f.kind == sh.kind),
                "step {i} was not needed"
            );
        }
    }
}

#[test]
fn a_failing_seed_shrinks_to_fewer_faults() {
    let sc = mutated("handshake-close-under-loss", Mutant::FinBeforeData);
    let net = NetOverride {
        loss: Some(0.2),
        reorder: Some(0.2),
        duplicate: Some(0.1),
        ..Default::default()
    };
    let (seed, sh) = (0..200)
        .find_map(|s| shrink_seed(&sc, s, net).map(|sh| (s, sh)))
        .expect("some seed trips the mutant");
    // (seed 0 today: 6 faults, shrunk to one data segment delayed past the FIN.)
    assert!(
        sh.faults_after >= 1 && sh.faults_after < sh.faults_before,
        "seed {seed}: {}",
        sh.text()
    );
    check_reproduces(&sh, Mutant::FinBeforeData);
}

fn as_report(mode: &str, params: Value, shard: Shard, body: Value) -> Value {
    let mut v = json!({"mode": mode, "params": params,
                       "shard": {"index": shard.index, "count": shard.count}});
    v.as_object_mut()
        .unwrap()
        .extend(body.as_object().unwrap().clone());
    v
}

#[test]
fn shards_merged_give_the_unsharded_totals() {
    let scs: Vec<Scenario> = builtin::all()
        .into_iter()
        .filter(|s| s.name != "bulk-1mb-lossy")
        .map(|mut s| {
            s.tcp.mutant = Mutant::FinBeforeData; // findings to carry through the merge
            s
        })
        .collect();
    let net = NetOverride {
        loss: Some(0.1),
        ..Default::default()
    };
    let params = json!({"seeds": 7});
    let run = |shard: Shard| {
        let o = SweepOptions {
            first_seed: 3,
            seeds: 7,
            net,
            shard,
        };
        as_report(
            "sweep",
            params.clone(),
            shard,
            sweep_with(&scs, &o, &|_| {}).to_json(),
        )
    };
    let whole = run(Shard::default());
    let parts: Vec<(String, Value)> = (0..3)
        .map(|i| (format!("s{i}"), run(Shard { index: i, count: 3 })))
        .collect();
    let merged = merge(&parts).expect("merges");
    for key in [
        "runs",
        "segments",
        "expectation_failures",
        "oracle_failures",
        "findings",
        "ok",
    ] {
        assert_eq!(merged[key], whole[key], "{key}");
    }
    assert!(whole["oracle_failures"].as_u64().unwrap() > 0);

    let o = |shard| SearchOptions {
        depth: 3,
        shard,
        ..Default::default()
    };
    let search_report = |shard: Shard| {
        let s = search(&scs[..8], &o(shard), &|_| {});
        as_report("exhaustive", params.clone(), shard, s.to_json())
    };
    let whole = search_report(Shard::default());
    let parts: Vec<(String, Value)> = (0..2)
        .map(|i| (format!("e{i}"), search_report(Shard { index: i, count: 2 })))
        .collect();
    let merged = merge(&parts).expect("merges");
    for key in [
        "states",
        "transitions",
        "paths",
        "deepest",
        "oracle_failures",
        "ok",
    ] {
        assert_eq!(merged[key], whole[key], "{key}");
    }
    let names = |v: &Value| -> Vec<Value> {
        v["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["scenario"].clone())
            .collect()
    };
    assert_eq!(names(&merged), names(&whole));

    // A missing shard, a shard twice, or shards of different commands are refused.
    assert!(merge(&parts[..1])
        .unwrap_err()
        .contains("missing shards: 1/2"));
    let twice = vec![parts[0].clone(), parts[0].clone()];
    assert!(merge(&twice).unwrap_err().contains("again"));
    let mut other = parts[1].clone();
    other.1["params"] = json!({"seeds": 8});
    assert!(merge(&[parts[0].clone(), other])
        .unwrap_err()
        .contains("params"));
}
