//! Teeth for the TCP model: every mutant of `tcp::mutant` is caught by a seed sweep and by the
//! bounded exhaustive search (an oracle fires), while the unmutated model passes both on the
//! same scenarios; and the exhaustive search holds every oracle on every state of the
//! handshake, close, simultaneous and reset scenarios at depth 4 (deeper runs are behind
//! `synclab sim explore --exhaustive --depth D`).

use synclab_sim::explore::{search, sweep, SearchOptions};
use synclab_sim::scenario::builtin::{self, builtin};
use synclab_sim::tcp::Mutant;
use synclab_sim::{NetOverride, Scenario};

fn with_mutant(scs: &[Scenario], m: Mutant) -> Vec<Scenario> {
    scs.iter()
        .cloned()
        .map(|mut s| {
            s.tcp.mutant = m;
            s
        })
        .collect()
}

/// The oracle each mutant is expected to trip.
fn expected_oracle(m: Mutant) -> &'static str {
    match m {
        Mutant::None => "",
        Mutant::SynSentAckWithoutSyn => "oracle:agreement",
        Mutant::TimeWaitSkipped => "oracle:close-path",
        Mutant::FinBeforeData => "oracle:eof-after-data",
        Mutant::RstOutsideWindow => "oracle:rst-validated",
        Mutant::NoZeroWindowProbe => "oracle:timer-acts",
    }
}

#[test]
fn the_seed_sweep_catches_every_mutant() {
    // Every built-in but the 1 MB transfer (slow in a debug build), 12 seeds, their own nets.
    let scs: Vec<Scenario> = builtin::all()
        .into_iter()
        .filter(|s| s.name != "bulk-1mb-lossy")
        .collect();
    let clean = sweep(&scs, 0, 12, NetOverride::default());
    assert!(clean.ok(), "the model itself: {}", clean.text());
    for m in Mutant::ALL {
        let s = sweep(&with_mutant(&scs, m), 0, 12, NetOverride::default());
        assert!(!s.ok(), "{m} not caught by the sweep");
        assert!(
            s.findings.iter().any(|f| f.kind == expected_oracle(m)),
            "{m}: {:?}",
            s.findings.iter().map(|f| &f.kind).collect::<Vec<_>>()
        );
    }
}

/// Handshake, close, simultaneous open and close, resets, and the scenarios the mutants need
/// (a half-open connection, a close after data, a zero window).
fn search_set() -> Vec<Scenario> {
    [
        "rfc9293-fig6-handshake",
        "rfc9293-fig7-simultaneous-open",
        "rfc9293-fig12-normal-close",
        "rfc9293-fig13-simultaneous-close",
        "rfc5961-challenge-acks",
        "connect-closed-port",
        "rfc9293-fig9-half-open-active",
        "rfc9293-fig10-half-open-passive",
        "active-close-client",
        "zero-window-probe",
    ]
    .iter()
    .map(|n| builtin(n).unwrap())
    .collect()
}

#[test]
fn every_oracle_holds_on_every_state_to_depth_4() {
    let o = SearchOptions {
        depth: 4,
        ..Default::default()
    };
    let s = search(&search_set(), &o, &|_| {});
    assert!(s.ok(), "{}", s.text());
    for sc in &s.scenarios {
        assert!(sc.complete, "{}", sc.scenario);
        assert!(sc.paths > 0 && sc.transitions > 0, "{}", sc.scenario);
        assert_eq!(sc.deepest, 4, "{}", sc.scenario);
    }
    // Equal states are explored once: fewer states than transitions somewhere.
    assert!(s.scenarios.iter().any(|x| x.states < x.transitions + 1));
}

#[test]
fn the_exhaustive_search_catches_every_mutant() {
    // Depth 4: the FIN-before-data mutant needs the data segment (the 4th free segment of
    // active-close-client) dropped, held back or late.
    let o = SearchOptions {
        depth: 4,
        ..Default::default()
    };
    for m in Mutant::ALL {
        let s = search(&with_mutant(&search_set(), m), &o, &|_| {});
        let kinds: Vec<&str> = s
            .scenarios
            .iter()
            .flat_map(|x| x.findings.iter().map(|f| f.kind.as_str()))
            .collect();
        assert!(
            kinds.contains(&expected_oracle(m)),
            "{m} not caught by the exhaustive search: {kinds:?}"
        );
    }
}
