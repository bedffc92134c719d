//! The oracles checked after every step: legal transitions, in-order exactly-once delivery, and
//! agreement of both ends on sequence numbers.

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
fn peer<'h>(hosts: &'h [Host], h: HostId, c: &Conn) -> Option<&'h Conn> {
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
