//! The simulator against the real Linux kernel (issue 12): each scenario runs through
//! `synclab sim kernel NAME --json`, which re-executes itself into a private network namespace
//! (loopback only), drives the steps on real sockets, captures every segment and compares with
//! the simulator. Each test pins the measured result: agreement, or exactly which parts differ
//! (the README's table explains each difference). Skips, printing the reason, only where the
//! machine refuses to create a network namespace.

use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;

/// Runs the comparison (the simulator under `profile`); `None` (after printing why) when the
/// namespace was refused.
fn kernel(name: &str, profile: &str) -> Option<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_synclab"))
        .args(["sim", "kernel", name, "--profile", profile, "--json"])
        .output()
        .expect("synclab runs");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{name}: no JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    if let Some(reason) = v["skipped"].as_str() {
        eprintln!("skipped {name}: {reason}");
        return None;
    }
    assert!(v.get("error").is_none(), "{name}: {}", v["error"]);
    assert!(
        !v["kernel"]["segments"].as_array().unwrap().is_empty(),
        "{name}: the capture saw segments"
    );
    Some(v)
}

fn agrees(name: &str, profile: &str) {
    if let Some(v) = kernel(name, profile) {
        assert_eq!(
            v["agrees"], true,
            "{name} ({profile}) differs from the kernel: {:#}",
            v["differences"]
        );
    }
}

/// The comparison differs in exactly these parts; returns the differences.
fn differs_in(name: &str, profile: &str, expected: &[&str]) -> Vec<Value> {
    match kernel(name, profile) {
        Some(v) => check_differs(&v, name, profile, expected),
        None => Vec::new(),
    }
}

/// `v` differs in exactly these parts; returns the differences.
fn check_differs(v: &Value, name: &str, profile: &str, expected: &[&str]) -> Vec<Value> {
    let diffs = v["differences"].as_array().unwrap().clone();
    let got: BTreeSet<&str> = diffs.iter().map(|d| d["what"].as_str().unwrap()).collect();
    let want: BTreeSet<&str> = expected.iter().copied().collect();
    assert_eq!(got, want, "{name} ({profile}): {:#}", v["differences"]);
    diffs
}

/// The default ACKs the FIN at once; Linux delays that ACK and it rides on the application's
/// FIN or data: the only difference is that bare ACK. Under the Linux profile they agree.
///
/// Linux sends the bare ACK too when the application is slower than its delayed-ACK timer
/// (40 ms at least), which a loaded machine can make the harness be: such a run is repeated,
/// at most [`TRIES`] runs in all, saying so.
fn fins_ack_rides_on_the_next_segment(name: &str, host: &str) {
    let what = format!("segments from {host}");
    let mut run = 1;
    let v = loop {
        let Some(v) = kernel(name, "rfc9293") else {
            return;
        };
        if v["agrees"] == false || run == TRIES {
            break v;
        }
        eprintln!("{name}: Linux sent the bare ACK (a slow run); running it again");
        run += 1;
    };
    let diffs = check_differs(&v, name, "rfc9293", &[&what]);
    if let Some(d) = diffs.first() {
        let split = |k: &str| -> Vec<String> {
            d[k].as_str()
                .unwrap()
                .split(", ")
                .map(String::from)
                .collect()
        };
        let (kernel, mut sim) = (split("kernel"), split("sim"));
        let i = (0..sim.len())
            .find(|&i| kernel.get(i) != Some(&sim[i]))
            .expect("a segment differs");
        let numbers = |seg: &str| seg.split(' ').skip(2).take(2).collect::<Vec<_>>().join(" ");
        let (bare, next) = (&sim[i], sim.get(i + 1).expect("a segment follows"));
        assert!(
            bare.split(' ').nth(1) == Some("A") && numbers(bare) == numbers(next),
            "{name}: expected a bare ACK merged into the next segment: {bare} / {next}"
        );
        sim.remove(i);
        assert_eq!(kernel, sim, "{name}");
    }
    for _ in 1..TRIES {
        match kernel(name, "linux") {
            Some(v) if v["agrees"] == false => {
                eprintln!("{name} (linux): differs (a slow run?); running it again")
            }
            _ => return,
        }
    }
    agrees(name, "linux");
}

/// Runs of a timing-sensitive comparison before its result counts.
const TRIES: usize = 3;

#[test]
fn handshake_agrees() {
    agrees("rfc9293-fig6-handshake", "rfc9293");
}

#[test]
fn connect_to_a_closed_port_agrees() {
    agrees("connect-closed-port", "rfc9293");
}

#[test]
fn lost_syn_agrees() {
    agrees("syn-lost", "rfc9293");
}

#[test]
fn lost_syn_ack_agrees() {
    agrees("synack-lost", "rfc9293");
}

#[test]
fn lost_final_ack_agrees() {
    agrees("final-ack-lost", "rfc9293");
}

#[test]
fn simultaneous_open_agrees_in_both_profiles() {
    agrees("simultaneous-open-first-syn-lost", "rfc9293");
    agrees("simultaneous-open-first-syn-lost", "linux");
}

#[test]
fn simultaneous_close_agrees_in_both_profiles() {
    agrees("simultaneous-close-first-fin-lost", "rfc9293");
    agrees("simultaneous-close-first-fin-lost", "linux");
}

#[test]
fn normal_close_fins_ack() {
    fins_ack_rides_on_the_next_segment("rfc9293-fig12-normal-close", "B");
}

#[test]
fn data_and_close_from_the_client_fins_ack() {
    fins_ack_rides_on_the_next_segment("active-close-client", "B");
}

#[test]
fn data_and_close_from_the_server_fins_ack() {
    fins_ack_rides_on_the_next_segment("active-close-server", "A");
}

#[test]
fn lost_fin_fins_ack() {
    fins_ack_rides_on_the_next_segment("fin-lost", "B");
}

#[test]
fn half_close_fins_ack() {
    fins_ack_rides_on_the_next_segment("half-close-data-flows-back", "B");
}

#[test]
fn time_wait_fin_retransmitted_fins_ack() {
    fins_ack_rides_on_the_next_segment("time-wait-fin-retransmitted", "B");
}

/// Linux answers a close with unread data with a RST, the default with a FIN; the Linux
/// profile does the same as Linux.
#[test]
fn close_with_unread_data_rst_instead_of_fin() {
    let diffs = differs_in(
        "close-with-unread-data",
        "rfc9293",
        &[
            "segments from A",
            "segments from B",
            "states of A:5000>B:80",
            "states of B:80>A:5000",
        ],
    );
    if let Some(b) = diffs.iter().find(|d| d["what"] == "segments from B") {
        assert!(b["kernel"].as_str().unwrap().ends_with("RA seq=1 ack=6"));
        assert!(b["sim"].as_str().unwrap().ends_with("FA seq=1 ack=6"));
    }
    agrees("close-with-unread-data", "linux");
}

/// Linux's accept queue holds backlog + 1: its second SYN is not dropped, the third is (and
/// comes again after 1 s). The default drops the second; the Linux profile (`backlog_extra = 1`)
/// agrees with Linux in both scenarios.
#[test]
fn full_backlog_linux_queues_one_more_then_drops_the_syn() {
    differs_in("backlog-full", "rfc9293", &["segments from A"]);
    agrees("backlog-full", "linux");
    let diffs = differs_in("backlog-full-third", "rfc9293", &["segments from A"]);
    if let Some(a) = diffs.first() {
        let kernel = a["kernel"].as_str().unwrap();
        assert!(
            kernel.ends_with("A:5003>B:80 S seq=0, A:5003>B:80 S seq=0, A:5003>B:80 A seq=1 ack=1"),
            "Linux drops the third SYN once: {kernel}"
        );
    }
    agrees("backlog-full-third", "linux");
}

/// Figure 7 with the SYNs and then the SYN,ACKs held in an NFQUEUE until both were sent, so
/// they cross: each end ACKs the SYN,ACK that reaches it in SYN-RECEIVED, as §3.10.7.4's first
/// check says, in the simulator and on Linux.
#[test]
fn figure_7_simultaneous_open_crossing_agrees_in_both_profiles() {
    agrees("rfc9293-fig7-simultaneous-open", "rfc9293");
    agrees("rfc9293-fig7-simultaneous-open", "linux");
}

/// Figure 13 with both FINs held in the NFQUEUE until both were sent, so they cross: each FIN
/// acknowledges only the peer's SYN (neither end had the other's FIN when it closed), then each
/// end ACKs the FIN that reached it in FIN-WAIT-1 (CLOSING, then TIME-WAIT), in the simulator
/// and on Linux.
#[test]
fn figure_13_crossing_fins_agree_in_both_profiles() {
    let Some(v) = kernel("rfc9293-fig13-simultaneous-close", "rfc9293") else {
        return;
    };
    assert_eq!(v["agrees"], true, "{:#}", v["differences"]);
    let segs = v["kernel"]["segments"].as_array().unwrap();
    let isn = |host: &str| {
        segs.iter()
            .find(|s| s["from"] == host && s["flags"].as_str().unwrap().contains('S'))
            .and_then(|s| s["seq"].as_u64())
            .expect("a SYN")
    };
    for (host, peer) in [("A", "B"), ("B", "A")] {
        let fin = segs
            .iter()
            .find(|s| s["from"] == host && s["flags"] == "FA")
            .expect("a FIN");
        assert_eq!(
            fin["ack"].as_u64(),
            Some((isn(peer) + 1) % (1 << 32)),
            "{host}'s FIN was sent before the peer's FIN arrived (they crossed)"
        );
    }
    agrees("rfc9293-fig13-simultaneous-close", "linux");
}

/// Linux reopens a connection from TIME-WAIT on a new SYN (RFC 9293 §3.6.1 MAY-2) with an ISN
/// above the old incarnation's; the simulator sends the §3.10.7.4 challenge ACK, is reset, and
/// connects on the retransmitted SYN. Only the segments differ (README, 5c).
#[test]
fn time_wait_reopen_differs_linux_takes_the_syn() {
    let diffs = differs_in(
        "time-wait-server-side-reconnect",
        "linux",
        &["segments from A", "segments from B"],
    );
    if let Some(b) = diffs.iter().find(|d| d["what"] == "segments from B") {
        assert!(b["kernel"].as_str().unwrap().contains("SA seq=65539"));
        assert!(b["sim"]
            .as_str()
            .unwrap()
            .contains("A seq=2 ack=2, B:80>A:5000 A seq=2 ack=2"));
    }
}

/// An abort after the data was read: Linux's RST carries an ACK (`RA`), the default's is
/// §3.10.5's bare `<SEQ=SND.NXT><CTL=RST>`; the Linux profile (`abort_rst_ack`) agrees.
#[test]
fn abort_rst_carries_an_ack_on_linux() {
    let diffs = differs_in("abort-after-transfer", "rfc9293", &["segments from A"]);
    if let Some(a) = diffs.first() {
        assert!(a["kernel"].as_str().unwrap().ends_with("RA seq=1001 ack=1"));
        assert!(a["sim"].as_str().unwrap().ends_with("R seq=1001"));
    }
    agrees("abort-after-transfer", "linux");
}

/// A reconnect on a 4-tuple in TIME-WAIT: Linux's connect fails with EADDRNOTAVAIL, the
/// default's with EADDRINUSE (plus the FIN's bare ACK, unless the run was slow); the Linux
/// profile agrees (a slow run is repeated, as for the FIN's ACK).
#[test]
fn time_wait_reconnect_errno_eaddrnotavail_on_linux() {
    let name = "time-wait-reconnect-refused";
    let Some(v) = kernel(name, "rfc9293") else {
        return;
    };
    let diffs = v["differences"].as_array().unwrap();
    let step = diffs
        .iter()
        .find(|d| d["what"] == "step 6")
        .expect("the reconnect's errno differs");
    assert_eq!(
        (&step["kernel"], &step["sim"]),
        (&"EADDRNOTAVAIL".into(), &"EADDRINUSE".into())
    );
    assert!(
        diffs
            .iter()
            .all(|d| d["what"] == "step 6" || d["what"] == "segments from B"),
        "{diffs:#?}"
    );
    for _ in 1..TRIES {
        match kernel(name, "linux") {
            Some(v) if v["agrees"] == false => {
                eprintln!("{name} (linux): differs (a slow run?); running it again")
            }
            _ => return,
        }
    }
    agrees(name, "linux");
}

/// `rcv_wnd = 1000` is not reproduced on the kernel (Linux will not offer a 1000-byte window):
/// Linux sends the 3000 bytes at once and never probes (README, 5d).
#[test]
fn zero_window_probe_differs_the_window_is_not_reproduced() {
    let diffs = differs_in(
        "zero-window-probe",
        "linux",
        &["segments from A", "segments from B"],
    );
    if let Some(a) = diffs.iter().find(|d| d["what"] == "segments from A") {
        let kernel = a["kernel"].as_str().unwrap();
        assert!(!kernel.contains("len=1,") && kernel.ends_with("seq=2681 ack=1 len=320"));
        assert!(a["sim"].as_str().unwrap().contains("seq=1001 ack=1 len=1"));
    }
}

#[test]
fn scenarios_the_kernel_cannot_drive_are_refused_with_the_reason() {
    let out = Command::new(env!("CARGO_BIN_EXE_synclab"))
        .args(["sim", "kernel", "bulk-1mb-lossy"])
        .output()
        .expect("synclab runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("random loss"), "{err}");
}
