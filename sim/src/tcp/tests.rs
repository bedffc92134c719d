//! The state machine tested by feeding it segments, timers and calls (sans-IO), the way smoltcp
//! and quinn-proto test theirs.

use super::*;

fn cfg() -> TcpConfig {
    TcpConfig::default()
}

fn seg(flags: &str, seq: u32, ack: u32, data: &[u8]) -> Segment {
    Segment {
        src_port: 80,
        dst_port: 5000,
        seq,
        ack,
        flags: Flags::parse(flags).unwrap(),
        wnd: 65535,
        data: data.to_vec(),
    }
}

fn bodies(o: &Outputs) -> Vec<String> {
    o.segments.iter().map(Segment::wire_body).collect()
}

/// An active connection, ISS 100, peer ISS 300, established at t=2.
fn established() -> Tcb {
    let (mut t, o) = Tcb::connect(cfg(), 5000, 80, 100, 0);
    assert_eq!(bodies(&o), ["S seq=100"]);
    let o = t.on_segment(&seg("SA", 300, 101, b""), 2);
    assert_eq!(bodies(&o), ["A seq=101 ack=301"]);
    assert_eq!(t.state(), State::Established);
    t
}

#[test]
fn active_open_reaches_established() {
    let t = established();
    assert_eq!((t.iss(), t.irs()), (100, 300));
    assert_eq!(t.next_deadline(), None, "nothing outstanding");
}

#[test]
fn syn_sent_answers_a_bad_ack_with_rst_and_stays() {
    let (mut t, _) = Tcb::connect(cfg(), 5000, 80, 100, 0);
    let o = t.on_segment(&seg("SA", 300, 91, b""), 1);
    assert_eq!(bodies(&o), ["R seq=91"]);
    assert_eq!(t.state(), State::SynSent);
    // A RST whose ACK is unacceptable is ignored; an acceptable one refuses the connection.
    assert!(t.on_segment(&seg("RA", 0, 99, b""), 1).segments.is_empty());
    assert_eq!(t.state(), State::SynSent);
    let o = t.on_segment(&seg("RA", 0, 101, b""), 1);
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.error(), Some(Errno::ConnRefused));
    assert!(o.events.contains(&Event::Error(Errno::ConnRefused)));
}

#[test]
fn syn_retries_back_off_then_time_out_at_183_s() {
    let (mut t, _) = Tcb::connect(cfg(), 5000, 80, 100, 0);
    let mut sent = Vec::new();
    while let Some(d) = t.next_deadline() {
        let o = t.on_timer(d);
        if t.state() == State::Closed {
            assert_eq!(d, 183_000);
            assert_eq!(t.error(), Some(Errno::TimedOut));
            break;
        }
        assert_eq!(bodies(&o), ["S seq=100"]);
        sent.push(d);
    }
    assert_eq!(sent, [1000, 3000, 7000, 15000, 31000, 63000, 123000]);
}

#[test]
fn rfc5961_rst_in_window_gets_a_challenge_ack_exact_rst_resets() {
    let mut t = established();
    let o = t.on_segment(&seg("R", 350, 0, b""), 10);
    assert_eq!(bodies(&o), ["A seq=101 ack=301"]);
    assert_eq!(t.state(), State::Established);
    assert!(t
        .on_segment(&seg("R", 300_000, 0, b""), 11)
        .segments
        .is_empty());
    assert_eq!(t.state(), State::Established);
    t.on_segment(&seg("R", 301, 0, b""), 12);
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.error(), Some(Errno::ConnReset));
}

#[test]
fn syn_in_a_synchronized_state() {
    let mut t = established();
    let o = t.on_segment(&seg("S", 5000, 0, b""), 10);
    assert_eq!(bodies(&o), ["A seq=101 ack=301"], "challenge ACK");
    assert_eq!(t.state(), State::Established);
    // Without RFC 5961: the old rule, a RST and the connection is reset.
    let (mut t, _) = Tcb::connect(
        TcpConfig {
            rfc5961: false,
            ..cfg()
        },
        5000,
        80,
        100,
        0,
    );
    t.on_segment(&seg("SA", 300, 101, b""), 2);
    let o = t.on_segment(&seg("S", 310, 0, b""), 10);
    assert_eq!(bodies(&o), ["R seq=101"]);
    assert_eq!(t.error(), Some(Errno::ConnReset));
}

#[test]
fn passive_open_and_reset_back_to_listen() {
    let syn = Segment {
        src_port: 5000,
        dst_port: 80,
        ..seg("S", 90, 0, b"")
    };
    let (mut t, o) = Tcb::from_syn(cfg(), &syn, 300, 1);
    assert_eq!(bodies(&o), ["SA seq=300 ack=91"]);
    assert_eq!(t.state(), State::SynReceived);
    let o = t.on_segment(&seg("R", 91, 0, b""), 3);
    assert_eq!(t.state(), State::Closed);
    assert_eq!(
        t.error(),
        None,
        "a passive connection just goes back to LISTEN"
    );
    assert!(o.segments.is_empty());
}

#[test]
fn data_out_of_order_and_duplicated_arrives_in_order_once() {
    let mut t = established();
    let o = t.on_segment(&seg("A", 306, 101, b"world"), 5);
    assert_eq!(bodies(&o), ["A seq=101 ack=301"], "a hole: duplicate ACK");
    assert_eq!(t.readable(), 0);
    t.on_segment(&seg("A", 306, 101, b"world"), 6);
    let o = t.on_segment(&seg("A", 301, 101, b"hello"), 7);
    assert_eq!(bodies(&o), ["A seq=101 ack=311"]);
    t.on_segment(&seg("A", 303, 101, b"llowo"), 8); // overlapping old data
    let o = t.on_call(Call::Recv(100), 9);
    assert_eq!(o.data, b"helloworld");
}

#[test]
fn time_wait_acks_a_retransmitted_fin_and_restarts_2msl() {
    let mut t = established();
    let o = t.on_call(Call::Close, 10);
    assert_eq!(bodies(&o), ["FA seq=101 ack=301"]);
    assert_eq!(t.state(), State::FinWait1);
    t.on_segment(&seg("A", 301, 102, b""), 11);
    assert_eq!(t.state(), State::FinWait2);
    let o = t.on_segment(&seg("FA", 301, 102, b""), 12);
    assert_eq!(bodies(&o), ["A seq=102 ack=302"]);
    assert_eq!(t.state(), State::TimeWait);
    assert_eq!(t.next_deadline(), Some(12 + 60_000));
    let o = t.on_segment(&seg("FA", 301, 102, b""), 1000);
    assert_eq!(bodies(&o), ["A seq=102 ack=302"]);
    assert_eq!(t.next_deadline(), Some(1000 + 60_000));
    t.on_timer(61_000);
    assert_eq!(t.state(), State::Closed);
}

#[test]
fn simultaneous_close_goes_through_closing() {
    let mut t = established();
    t.on_call(Call::Close, 10);
    let o = t.on_segment(&seg("FA", 301, 101, b""), 11);
    assert_eq!(bodies(&o), ["A seq=102 ack=302"]);
    assert_eq!(t.state(), State::Closing);
    t.on_segment(&seg("A", 302, 102, b""), 12);
    assert_eq!(t.state(), State::TimeWait);
}

#[test]
fn retransmission_goes_back_to_snd_una_and_backs_off() {
    let mut t = established();
    t.on_call(Call::Send(vec![7; 1000]), 10);
    assert_eq!(t.next_deadline(), Some(10 + 1000));
    let o = t.on_timer(1010);
    assert_eq!(
        bodies(&o),
        ["A seq=101 ack=301 len=536", "A seq=637 ack=301 len=464"]
    );
    assert_eq!(t.next_deadline(), Some(1010 + 2000), "doubled");
    t.on_segment(&seg("A", 301, 1101, b""), 1020);
    assert_eq!(t.next_deadline(), None);
}

#[test]
fn delayed_ack_waits_then_acks() {
    let c = TcpConfig {
        delayed_ack_ms: 200,
        ..cfg()
    };
    let (mut t, _) = Tcb::connect(c, 5000, 80, 100, 0);
    t.on_segment(&seg("SA", 300, 101, b""), 2);
    let o = t.on_segment(&seg("A", 301, 101, b"hi"), 10);
    assert!(o.segments.is_empty(), "in-order data: the ACK waits");
    assert_eq!(t.next_deadline(), Some(210));
    let o = t.on_timer(210);
    assert_eq!(bodies(&o), ["A seq=101 ack=303"]);
    // A segment of ours carries the ACK and cancels the wait.
    t.on_segment(&seg("A", 303, 101, b"yo"), 300);
    let o = t.on_call(Call::Send(b"x".to_vec()), 301);
    assert_eq!(bodies(&o), ["A seq=101 ack=305 len=1"]);
    assert_eq!(
        t.next_deadline(),
        Some(301 + 1000),
        "only the retransmission timer"
    );
}

#[test]
fn zero_window_is_probed_with_backoff() {
    let mut t = established();
    t.on_segment(
        &Segment {
            wnd: 0,
            ..seg("A", 301, 101, b"")
        },
        3,
    );
    let o = t.on_call(Call::Send(vec![1; 10]), 4);
    assert!(o.segments.is_empty(), "the window is closed");
    assert_eq!(t.next_deadline(), Some(1004));
    let o = t.on_timer(1004);
    assert_eq!(bodies(&o), ["A seq=101 ack=301 len=1"]);
    assert_eq!(t.next_deadline(), Some(1004 + 2000));
    // The window opens: everything is sent from SND.UNA.
    let o = t.on_segment(&seg("A", 301, 101, b""), 1500);
    assert_eq!(bodies(&o), ["A seq=101 ack=301 len=10"]);
}

/// A connection whose peer closed its window before 10 bytes were queued (at t=4).
fn window_closed_with_data_waiting() -> Tcb {
    let mut t = established();
    let zero = Segment {
        wnd: 0,
        ..seg("A", 301, 101, b"")
    };
    t.on_segment(&zero, 3);
    t.on_call(Call::Send(vec![1; 10]), 4);
    t
}

#[test]
fn answered_zero_window_probes_never_time_out() {
    let mut t = window_closed_with_data_waiting();
    let answer = Segment {
        wnd: 0,
        ..seg("A", 301, 101, b"")
    };
    // Three times the data retransmission limit of probes, each answered with a zero window.
    for _ in 0..3 * tcb::DATA_RETRIES {
        let d = t.next_deadline().expect("the persist timer runs");
        let o = t.on_timer(d);
        assert_eq!(bodies(&o), ["A seq=101 ack=301 len=1"], "a probe at {d}");
        t.on_segment(&answer, d + 1);
        assert_eq!(
            t.state(),
            State::Established,
            "alive after the probe at {d}"
        );
    }
    assert_eq!(t.error(), None);
}

#[test]
fn unanswered_zero_window_probes_time_out() {
    let mut t = window_closed_with_data_waiting();
    let mut probes = 0;
    while let Some(d) = t.next_deadline() {
        let o = t.on_timer(d);
        if t.state() == State::Closed {
            break;
        }
        assert_eq!(bodies(&o), ["A seq=101 ack=301 len=1"]);
        probes += 1;
    }
    assert_eq!(t.error(), Some(Errno::TimedOut));
    // The first probe, then DATA_RETRIES unanswered ones.
    assert_eq!(probes, 1 + tcb::DATA_RETRIES);
}

/// An established connection under the Linux profile.
fn established_linux() -> Tcb {
    let (mut t, _) = Tcb::connect(cfg().linux(), 5000, 80, 100, 0);
    t.on_segment(&seg("SA", 300, 101, b""), 2);
    t
}

#[test]
fn linux_profile_delays_the_fins_ack_so_our_fin_carries_it() {
    let mut t = established_linux();
    let o = t.on_segment(&seg("FA", 301, 101, b""), 10);
    assert!(o.segments.is_empty(), "the ACK waits");
    assert_eq!(t.state(), State::CloseWait);
    assert_eq!(t.next_deadline(), Some(50));
    let o = t.on_call(Call::Close, 11);
    assert_eq!(bodies(&o), ["FA seq=101 ack=302"]);
    // Left alone, the ACK goes at the deadline; the default ACKs at once.
    let mut t = established_linux();
    t.on_segment(&seg("FA", 301, 101, b""), 10);
    assert_eq!(bodies(&t.on_timer(50)), ["A seq=101 ack=302"]);
    let mut t = established();
    let o = t.on_segment(&seg("FA", 301, 101, b""), 10);
    assert_eq!(bodies(&o), ["A seq=101 ack=302"]);
}

#[test]
fn linux_profile_resets_on_close_with_unread_data() {
    let mut t = established_linux();
    t.on_segment(&seg("PA", 301, 101, b"hello"), 10);
    let o = t.on_call(Call::Close, 20);
    assert_eq!(bodies(&o), ["RA seq=101 ack=306"]);
    assert_eq!(t.state(), State::Closed);
    let mut t = established();
    t.on_segment(&seg("PA", 301, 101, b"hello"), 10);
    let o = t.on_call(Call::Close, 20);
    assert_eq!(
        bodies(&o),
        ["FA seq=101 ack=306"],
        "the default sends its FIN"
    );
}
