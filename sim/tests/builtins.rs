//! Every built-in scenario passes under its own settings, each in its own test.

use synclab_sim::scenario::builtin::builtin;
use synclab_sim::{run, RunOptions};

fn check(name: &str) {
    let sc = builtin(name).expect("built-in exists");
    let r = run(
        &sc,
        &RunOptions {
            seed: 1,
            trace: true,
            ..Default::default()
        },
    );
    if !r.ok {
        for l in r.trace.as_deref().unwrap_or_default() {
            if !l.contains("\"meta\"") {
                eprintln!("{l}");
            }
        }
        for f in &r.failures {
            eprintln!("{}", f.text());
        }
        panic!("{name} failed");
    }
}

macro_rules! builtin_tests {
    ($($test:ident => $name:literal,)*) => {
        $(#[test] fn $test() { check($name); })*
    };
}

builtin_tests! {
    fig6_handshake => "rfc9293-fig6-handshake",
    fig7_simultaneous => "rfc9293-fig7-simultaneous-open",
    fig8_old => "rfc9293-fig8-old-duplicate-syn",
    fig9_half => "rfc9293-fig9-half-open-active",
    fig10_half => "rfc9293-fig10-half-open-passive",
    fig11_old => "rfc9293-fig11-old-syn-two-passive",
    fig12_normal => "rfc9293-fig12-normal-close",
    fig13_simultaneous => "rfc9293-fig13-simultaneous-close",
    handshake_close_under_loss => "handshake-close-under-loss",
    active_close_client => "active-close-client",
    active_close_server => "active-close-server",
    syn_lost => "syn-lost",
    synack_lost => "synack-lost",
    final_ack_lost => "final-ack-lost",
    fin_lost => "fin-lost",
    connect_closed_port => "connect-closed-port",
    connect_timeout_partition => "connect-timeout-partition",
    abort_mid_stream => "abort-mid-stream",
    half_close_data_flows_back => "half-close-data-flows-back",
    backlog_full => "backlog-full",
    duplicated_reordered_syn => "duplicated-reordered-syn",
    partition_heals_during_handshake => "partition-heals-during-handshake",
    time_wait_then_reconnect => "time-wait-then-reconnect",
    bulk_1mb_lossy => "bulk-1mb-lossy",
    time_wait_fin_retransmitted => "time-wait-fin-retransmitted",
    rfc5961_challenge_acks => "rfc5961-challenge-acks",
    zero_window_probe => "zero-window-probe",
    time_wait_server_side_reconnect => "time-wait-server-side-reconnect",
    zero_window_probe_held_closed => "zero-window-probe-held-closed",
    simultaneous_open_first_syn_lost => "simultaneous-open-first-syn-lost",
    simultaneous_close_first_fin_lost => "simultaneous-close-first-fin-lost",
    close_with_unread_data => "close-with-unread-data",
}
