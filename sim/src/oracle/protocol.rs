//! Oracles on single protocol events, checked by the world as each input is processed (they
//! need to know what caused an output, which the end-state oracles of [`super::invariants`]
//! cannot see):
//! - `close-path`: FIN-WAIT-1, FIN-WAIT-2 and CLOSING end in TIME-WAIT; they reach CLOSED
//!   directly only by a RST, an error (a timeout), or a user call (RFC 9293 §3.10.7.4);
//! - `rst-validated`: a RST resets a connection other than in SYN-SENT only if its sequence
//!   number is RCV.NXT under RFC 5961 (§3.10.7.4 "first, check sequence number"; RFC 5961 §3.2),
//!   or in the window without it;
//! - `timer-acts`: a due retransmission, persist, delayed-ACK or TIME-WAIT timer does
//!   something: a segment (a retransmission or a zero-window probe, §3.8.6.1) or a state change;
//! - `eof-after-data`: a connection takes the peer's FIN only once every byte the peer's user
//!   sent before it has arrived (§3.10.7.4 "eighth, check the FIN bit": in sequence).

use super::invariants::peer;
use super::Failure;
use crate::socket::{ConnId, Host, HostId, Note};
use crate::tcp::{Flags, Segment, State};

fn fail(name: &str, expected: String, actual: String, t: u64) -> Failure {
    Failure {
        kind: format!("oracle:{name}"),
        line: None,
        expected,
        actual,
        t,
        last_segments: Vec::new(),
    }
}

/// What made a host produce an output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// A scenario step's call (close, abort, …).
    Call,
    /// A due timer.
    Timer,
    /// An arriving segment; whether it carried RST.
    Segment { rst: bool },
}

/// `close-path`: the notes of one input of host `host`.
pub fn check_close_path(host: &str, notes: &[Note], cause: Cause, t: u64) -> Option<Failure> {
    if matches!(cause, Cause::Call | Cause::Segment { rst: true }) {
        return None;
    }
    let errored = |c: ConnId| {
        notes
            .iter()
            .any(|n| matches!(n, Note::Error { conn, .. } if *conn == c))
    };
    notes.iter().find_map(|n| match *n {
        Note::State { conn, from, to }
            if to == State::Closed
                && matches!(from, State::FinWait1 | State::FinWait2 | State::Closing)
                && !errored(conn) =>
        {
            Some(fail(
                "close-path",
                format!("{host} conn {conn}: {from} to end in TIME-WAIT (RFC 9293 §3.10.7.4)"),
                format!("{from} -> CLOSED without a RST, an error or a user call"),
                t,
            ))
        }
        _ => None,
    })
}

/// What `rst-validated` remembers about a RST's connection before it is processed.
#[derive(Clone, Copy, Debug)]
pub struct RstTarget {
    conn: ConnId,
    state: State,
    /// How far the RST's sequence number lies past RCV.NXT (mod 2^32).
    offset: u32,
}

/// Before host `to` processes `seg` from `from`: the connection a RST is for, if one that must
/// validate it (not SYN-SENT, not CLOSED).
pub fn rst_target(hosts: &[Host], from: HostId, to: HostId, seg: &Segment) -> Option<RstTarget> {
    if !seg.flags.has(Flags::RST) {
        return None;
    }
    let host = &hosts[to];
    let &conn = host.demux.get(&(seg.dst_port, from, seg.src_port))?;
    let tcb = &host.conns[conn].tcb;
    let state = tcb.state();
    if matches!(state, State::Closed | State::SynSent | State::Listen) {
        return None;
    }
    let rcv_nxt = tcb.irs().wrapping_add(tcb.rcv_nxt_pos() as u32);
    Some(RstTarget {
        conn,
        state,
        offset: seg.seq.wrapping_sub(rcv_nxt),
    })
}

/// `rst-validated`: after host `to` processed the RST found by [`rst_target`].
pub fn check_rst(hosts: &[Host], to: HostId, target: RstTarget, t: u64) -> Option<Failure> {
    let host = &hosts[to];
    let c = &host.conns[target.conn];
    if c.tcb.state() != State::Closed {
        return None;
    }
    let ok = if host.cfg.rfc5961 {
        target.offset == 0
    } else {
        target.offset < host.cfg.rcv_wnd
    };
    (!ok).then(|| {
        fail(
            "rst-validated",
            format!(
                "{}:{} ({}) to ignore a RST {} bytes past RCV.NXT, or challenge it",
                host.name,
                c.tcb.ports().0,
                target.state,
                target.offset
            ),
            "the connection was reset".into(),
            t,
        )
    })
}

/// `timer-acts`: what one due timer produced.
pub fn check_timer_acts(host: &str, conn: ConnId, acted: bool, t: u64) -> Option<Failure> {
    (!acted).then(|| {
        fail(
            "timer-acts",
            format!(
                "{host} conn {conn}: a due timer to retransmit, probe the zero window (RFC 9293 \
                 §3.8.6.1), ACK or end TIME-WAIT"
            ),
            "nothing was sent and the state stayed".into(),
            t,
        )
    })
}

/// `eof-after-data`: every live connection that took its peer's FIN has every byte the peer's
/// user sent (read or waiting to be read).
pub fn check_eof(hosts: &[Host], t: u64) -> Option<Failure> {
    for (h, host) in hosts.iter().enumerate() {
        for c in &host.conns {
            if !c.alive || c.injected || !c.tcb.fin_received() {
                continue;
            }
            let Some(p) = peer(hosts, h, c) else { continue };
            if p.injected {
                continue;
            }
            let got = c.app_read.len() + c.tcb.readable();
            if got != p.app_sent.len() {
                return Some(fail(
                    "eof-after-data",
                    format!(
                        "{}:{} to take the FIN after all {} bytes its peer sent",
                        host.name,
                        c.tcb.ports().0,
                        p.app_sent.len()
                    ),
                    format!("FIN taken after {got} bytes"),
                    t,
                ));
            }
        }
    }
    None
}
