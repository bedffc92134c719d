//! The oracles checked after every step: virtual time never decreases, legal transitions,
//! in-order exactly-once delivery, and agreement of both ends on sequence numbers.

use super::Failure;
use crate::socket::{Conn, Host, HostId};
use crate::tcp::State;

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

/// Virtual time never decreases: the next event (at `next` ms) must not come before the
/// current time `now` (a wrapped sum of times would make a segment arrive before it was sent).
pub fn check_time(now: u64, next: u64) -> Option<Failure> {
    (next < now).then(|| {
        fail(
            "monotonic-time",
            format!("the next event at or after {now} ms"),
            format!("an event at {next} ms"),
            now,
        )
    })
}

/// A state change must be an arrow of RFC 9293's state diagram.
pub fn check_transition(host: &str, from: State, to: State, t: u64) -> Option<Failure> {
    (!from.can_become(to)).then(|| {
        fail(
            "rfc-transitions",
            "a transition of RFC 9293 §3.3.2".into(),
            format!("{host}: {from} -> {to}"),
            t,
        )
    })
}

/// The connection on `peer_host` that is the other end of `c` (same 4-tuple reversed, and its
/// ISS is our IRS).
pub(crate) fn peer<'h>(hosts: &'h [Host], h: HostId, c: &Conn) -> Option<&'h Conn> {
    let (l, r) = c.tcb.ports();
    hosts[c.remote_host]
        .conns
        .iter()
        .find(|p| p.remote_host == h && p.tcb.ports() == (r, l) && p.tcb.iss() == c.tcb.irs())
}

/// Every byte a user received is the next byte its peer's user sent: in order, exactly once.
pub fn check_streams(hosts: &mut [Host], t: u64) -> Option<Failure> {
    for h in 0..hosts.len() {
        for ci in 0..hosts[h].conns.len() {
            let c = &hosts[h].conns[ci];
            if c.app_read.len() == c.checked {
                continue;
            }
            let new = c.checked..c.app_read.len();
            let ok = match peer(hosts, h, c) {
                Some(p) => p.app_sent.get(new.clone()) == Some(&c.app_read[new.clone()]),
                None => c.injected,
            };
            if !ok {
                return Some(fail(
                    "stream-delivery",
                    format!(
                        "{}:{} to receive the peer's bytes {}..{} in order, exactly once",
                        hosts[h].name,
                        c.tcb.ports().0,
                        new.start,
                        new.end
                    ),
                    "different bytes".into(),
                    t,
                ));
            }
            hosts[h].conns[ci].checked = new.end;
        }
    }
    None
}

/// Once both ends are synchronized they agree: each one's ISS is the other's IRS, and what one
/// has acknowledged lies between what the other had acknowledged and sent.
pub fn check_agreement(hosts: &[Host], t: u64) -> Option<Failure> {
    for (h, host) in hosts.iter().enumerate() {
        for c in host.conns.iter().filter(|c| c.alive && !c.injected) {
            if !c.tcb.state().is_synchronized() {
                continue;
            }
            let (l, r) = c.tcb.ports();
            let Some(&pi) = hosts[c.remote_host].demux.get(&(r, h, l)) else {
                continue;
            };
            let p = &hosts[c.remote_host].conns[pi];
            if p.injected || !p.alive || !p.tcb.state().is_synchronized() {
                continue;
            }
            let (una, max) = c.tcb.snd_range();
            let prcv = p.tcb.rcv_nxt_pos();
            if p.tcb.irs() != c.tcb.iss() || p.tcb.iss() != c.tcb.irs() || prcv < una || prcv > max
            {
                return Some(fail(
                    "agreement",
                    format!(
                        "{}:{l} (ISS {}, IRS {}, SND.UNA..SND.MAX {una}..{max}) and its peer to agree",
                        host.name,
                        c.tcb.iss(),
                        c.tcb.irs()
                    ),
                    format!(
                        "peer {}:{r} has ISS {}, IRS {}, RCV.NXT {prcv}",
                        hosts[c.remote_host].name,
                        p.tcb.iss(),
                        p.tcb.irs()
                    ),
                    t,
                ));
            }
        }
    }
    None
}

/// Lost in a crash (as opposed to closed by the protocol).
fn crashed(c: &Conn) -> bool {
    !c.alive && c.tcb.state() != State::Closed
}

/// At quiescence (no event left), a connection whose two ends both closed their sending side
/// has reached CLOSED at both ends (through TIME-WAIT or LAST-ACK, or by giving up): closing
/// ends as RFC 9293 says.
pub fn check_closes_complete(hosts: &[Host], t: u64) -> Option<Failure> {
    for (h, host) in hosts.iter().enumerate() {
        for c in &host.conns {
            if c.injected || crashed(c) || !c.tcb.write_closed() {
                continue;
            }
            let Some(p) = peer(hosts, h, c) else { continue };
            if p.injected || crashed(p) || !p.tcb.write_closed() {
                continue;
            }
            if c.tcb.state() != State::Closed {
                return Some(fail(
                    "close-completes",
                    format!(
                        "{}:{} (both ends closed, nothing left to happen) to be CLOSED",
                        host.name,
                        c.tcb.ports().0
                    ),
                    c.tcb.state().to_string(),
                    t,
                ));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::{Flags, Segment, Tcb, TcpConfig};
    use rand::SeedableRng;

    #[test]
    fn time_going_backwards_is_an_oracle_failure() {
        assert_eq!(check_time(5, 5), None);
        assert_eq!(check_time(5, 6), None);
        let f = check_time(u64::MAX - 1, 3).expect("time went backwards");
        assert_eq!(f.kind, "oracle:monotonic-time");
        assert!(f.actual.contains("3 ms"), "{}", f.actual);
    }

    /// A on host 0 connected to B on host 1 (B's connection made from A's SYN).
    fn pair() -> Vec<Host> {
        let cfg = TcpConfig::default();
        let mut a = Host::new("A", 0, cfg, vec![]);
        let mut b = Host::new("B", 1, cfg, vec![]);
        let (ta, o) = Tcb::connect(cfg, 5000, 80, 100, 0);
        let syn = o.segments[0].clone();
        a.add_conn(ta, 1, 0, None);
        let (tb, _) = Tcb::from_syn(cfg, &syn, 0, 1);
        b.add_conn(tb, 0, 1, None);
        vec![a, b]
    }

    #[test]
    fn illegal_transitions_fire() {
        assert!(check_transition("A", State::SynSent, State::Established, 5).is_none());
        let f = check_transition("A", State::TimeWait, State::Established, 5).unwrap();
        assert_eq!((f.kind.as_str(), f.t), ("oracle:rfc-transitions", 5));
        assert!(f.actual.contains("TIME-WAIT -> ESTABLISHED"));
    }

    #[test]
    fn delivery_must_be_the_peers_bytes_in_order_once() {
        let mut hosts = pair();
        hosts[0].conns[0].app_sent = b"hello".to_vec();
        hosts[1].conns[0].app_read = b"hel".to_vec();
        assert!(check_streams(&mut hosts, 3).is_none());
        hosts[1].conns[0].app_read.extend_from_slice(b"lo");
        assert!(check_streams(&mut hosts, 4).is_none());
        hosts[1].conns[0].app_read.extend_from_slice(b"o"); // once too often
        let f = check_streams(&mut hosts, 9).unwrap();
        assert_eq!((f.kind.as_str(), f.t), ("oracle:stream-delivery", 9));
        let mut hosts = pair();
        hosts[0].conns[0].app_sent = b"hello".to_vec();
        hosts[1].conns[0].app_read = b"hlelo".to_vec(); // out of order
        assert!(check_streams(&mut hosts, 9).is_some());
    }

    #[test]
    fn synchronized_ends_must_agree() {
        let mut hosts = pair();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        // Complete the handshake by hand: B's SYN,ACK to A, A's ACK to B.
        let mut out = crate::socket::HostOut::default();
        let sa = Segment {
            src_port: 80,
            dst_port: 5000,
            seq: 0,
            ack: 101,
            flags: Flags::SYN.with(Flags::ACK),
            wnd: 65535,
            data: vec![],
        };
        hosts[0].on_segment(2, 1, &sa, false, &mut rng, &mut out);
        let ack = out.segments.pop().unwrap().1;
        hosts[1].on_segment(3, 0, &ack, false, &mut rng, &mut out);
        assert_eq!(hosts[1].conns[0].tcb.state(), State::Established);
        assert!(check_agreement(&hosts, 3).is_none());
        // A connection that believes a different peer ISN disagrees.
        let cfg = TcpConfig::default();
        let (mut t, _) = Tcb::connect(cfg, 5000, 80, 100, 0);
        t.on_segment(
            &Segment {
                seq: 77,
                ..sa.clone()
            },
            2,
        );
        hosts[0].conns[0].tcb = t;
        let f = check_agreement(&hosts, 4).unwrap();
        assert_eq!(f.kind, "oracle:agreement");
    }
}

#[cfg(test)]
mod close_tests {
    use super::*;
    use crate::tcp::{Call, Tcb, TcpConfig};

    #[test]
    fn both_ends_closed_but_not_closed_fires() {
        let cfg = TcpConfig::default();
        let mut a = Host::new("A", 0, cfg, vec![]);
        let mut b = Host::new("B", 1, cfg, vec![]);
        let (mut ta, o) = Tcb::connect(cfg, 5000, 80, 100, 0);
        let (mut tb, o2) = Tcb::from_syn(cfg, &o.segments[0], 300, 1);
        let o3 = ta.on_segment(&o2.segments[0], 2);
        tb.on_segment(&o3.segments[0], 3);
        ta.on_call(Call::Close, 4);
        tb.on_call(Call::Close, 4);
        a.add_conn(ta, 1, 0, None);
        b.add_conn(tb, 0, 1, None);
        let hosts = vec![a, b];
        let f = check_closes_complete(&hosts, 9).unwrap();
        assert_eq!(f.kind, "oracle:close-completes");
        assert!(f.actual.contains("FIN-WAIT-1"), "{}", f.actual);
    }
}
