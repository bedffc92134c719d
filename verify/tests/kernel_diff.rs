//! The simulator against the real Linux kernel (issue 12): each scenario runs through
//! `synclab sim kernel NAME --json`, which re-executes itself into a private network namespace
//! (loopback only), drives the steps on real sockets, captures every segment and compares with
//! the simulator. Each test pins the measured result: agreement, or exactly which parts differ
//! (the README's table explains each difference). Skips, printing the reason, only where the
//! machine refuses to create a network namespace.

use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;

/// Runs the comparison; `None` (after printing why) when the namespace was refused.
fn kernel(name: &str) -> Option<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_synclab"))
        .args(["sim", "kernel", name, "--json"])
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
    Some(v)
}

fn agrees(name: &str) {
    if let Some(v) = kernel(name) {
        assert_eq!(
            v["agrees"], true,
            "{name} differs from the kernel: {:#}",
            v["differences"]
        );
        assert!(
            !v["kernel"]["segments"].as_array().unwrap().is_empty(),
            "{name}: the capture saw segments"
        );
    }
}

fn differs_in(name: &str, expected: &[&str]) {
    if let Some(v) = kernel(name) {
        let got: BTreeSet<String> = v["differences"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["what"].as_str().unwrap().to_string())
            .collect();
        let want: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
        assert_eq!(got, want, "{name}: {:#}", v["differences"]);
    }
}

#[test]
fn handshake_agrees() {
    agrees("rfc9293-fig6-handshake");
}

#[test]
fn normal_close_agrees() {
    agrees("rfc9293-fig12-normal-close");
}

#[test]
fn data_and_close_from_the_client_agrees() {
    agrees("active-close-client");
}

#[test]
fn connect_to_a_closed_port_agrees() {
    agrees("connect-closed-port");
}

#[test]
fn lost_syn_agrees() {
    agrees("syn-lost");
}

#[test]
fn lost_syn_ack_agrees() {
    agrees("synack-lost");
}

#[test]
fn lost_final_ack_agrees() {
    agrees("final-ack-lost");
}

#[test]
fn simultaneous_open_agrees() {
    agrees("simultaneous-open-first-syn-lost");
}

#[test]
fn simultaneous_close_agrees() {
    agrees("simultaneous-close-first-fin-lost");
}

#[test]
fn time_wait_fin_retransmitted_agrees() {
    agrees("time-wait-fin-retransmitted");
}

/// Linux delays the ACK of a FIN (delayed ACK); when the application closes or sends before
/// that timer fires, the ACK rides on its FIN or data and the bare ACK the simulator sends is
/// missing. Which
/// happens depends on how fast the application runs (measured: alone, merged; under a loaded
/// `cargo test`, separate), so either is accepted, and nothing else.
fn agrees_or_fin_ack_merged(name: &str, host: &str) {
    let Some(v) = kernel(name) else { return };
    let diffs = v["differences"].as_array().unwrap();
    if diffs.is_empty() {
        return;
    }
    assert_eq!(diffs.len(), 1, "{name}: {:#}", v["differences"]);
    assert_eq!(diffs[0]["what"], format!("segments from {host}"));
    let split = |k: &str| -> Vec<String> {
        diffs[0][k]
            .as_str()
            .unwrap()
            .split(", ")
            .map(String::from)
            .collect()
    };
    let (kernel, sim) = (split("kernel"), split("sim"));
    let i = (0..sim.len())
        .find(|&i| kernel.get(i) != Some(&sim[i]))
        .expect("a segment differs");
    let bare = &sim[i];
    let next = sim.get(i + 1).expect("a FIN follows the bare ACK");
    let numbers = |seg: &str| seg.split(' ').skip(2).take(2).collect::<Vec<_>>().join(" ");
    assert!(
        bare.split(' ').nth(1) == Some("A") && numbers(bare) == numbers(next),
        "{name}: the only difference must be a bare ACK merged into the segment after it: {bare} / {next}"
    );
    let mut merged = sim.clone();
    merged.remove(i);
    assert_eq!(kernel, merged, "{name}");
}

#[test]
fn data_and_close_from_the_server_agrees_or_merges_the_fins_ack() {
    agrees_or_fin_ack_merged("active-close-server", "A");
}

#[test]
fn lost_fin_agrees_or_merges_the_fins_ack() {
    agrees_or_fin_ack_merged("fin-lost", "B");
}

#[test]
fn half_close_agrees_or_merges_the_fins_ack() {
    agrees_or_fin_ack_merged("half-close-data-flows-back", "B");
}

/// Linux's accept queue holds backlog + 1: the second SYN is not dropped.
#[test]
fn full_backlog_differs_linux_queues_one_more() {
    differs_in("backlog-full", &["segments from A"]);
}

/// Linux answers a close with unread data with a RST, the default with a FIN.
#[test]
fn close_with_unread_data_differs_rst_instead_of_fin() {
    differs_in(
        "close-with-unread-data",
        &[
            "segments from A",
            "segments from B",
            "states of A:5000>B:80",
            "states of B:80>A:5000",
        ],
    );
}

/// Crossing SYNs on loopback are not simultaneous: the first SYN meets no socket.
#[test]
fn figure_7_crossing_is_not_reproduced_on_loopback() {
    differs_in(
        "rfc9293-fig7-simultaneous-open",
        &[
            "segments from A",
            "segments from B",
            "states of A:5000>B:6000",
            "states of B:6000>A:5000",
            "step 0",
            "step 1",
        ],
    );
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
