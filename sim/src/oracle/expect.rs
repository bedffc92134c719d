//! The scenario's `[expect]`, checked at the end of a run: the exact wire per sending host, each
//! handle's state trajectory, each 4-tuple's incarnations.

use super::Failure;
use crate::scenario::{Scenario, StatePat};
use crate::socket::{Handle, Host, HostId};
use crate::tcp::{Segment, State};

/// One segment a host's TCP emitted.
#[derive(Clone, Debug)]
pub struct WireRec {
    pub t: u64,
    pub from: HostId,
    pub to: HostId,
    /// The header (payload dropped).
    pub seg: Segment,
    /// The payload length.
    pub len: usize,
}

impl WireRec {
    /// Its wire string, with ports and time: `A:5000>B:80 S seq=100 at=0`.
    pub fn text(&self, hosts: &[Host]) -> String {
        format!(
            "{}:{}>{}:{} {} at={}",
            hosts[self.from].name,
            self.seg.src_port,
            hosts[self.to].name,
            self.seg.dst_port,
            self.seg.wire_body_len(self.len),
            self.t
        )
    }
}

fn failure(kind: &str, line: usize, expected: String, actual: String, t: u64) -> Failure {
    Failure {
        kind: kind.into(),
        line: Some(line),
        expected,
        actual,
        t,
        last_segments: Vec::new(),
    }
}

/// Formats a trajectory like the scenario writes it, with times.
pub fn show_trajectory(tr: &[(State, u64)]) -> String {
    let v: Vec<String> = tr.iter().map(|(s, t)| format!("\"{s}@{t}\"")).collect();
    format!("[{}]", v.join(", "))
}

fn show_pats(p: &[StatePat]) -> String {
    let v: Vec<String> = p
        .iter()
        .map(|s| match s.at {
            Some(t) => format!("\"{}@{t}\"", s.state),
            None => format!("\"{}\"", s.state),
        })
        .collect();
    format!("[{}]", v.join(", "))
}

/// Collapses repeats (a trajectory lists each state entered, repeats collapsed).
fn collapse(tr: &[(State, u64)]) -> Vec<(State, u64)> {
    let mut out: Vec<(State, u64)> = Vec::new();
    for &(s, t) in tr {
        if out.last().is_none_or(|l| l.0 != s) {
            out.push((s, t));
        }
    }
    out
}

fn matches(p: &[StatePat], tr: &[(State, u64)]) -> bool {
    let tr = collapse(tr);
    p.len() == tr.len() && p.iter().zip(&tr).all(|(p, &(s, t))| p.matches(s, t))
}

/// Every expectation of `sc` against the end of a run.
pub fn check(sc: &Scenario, hosts: &[Host], wire: &[WireRec], now: u64) -> Vec<Failure> {
    let mut out = Vec::new();
    if let Some(pats) = &sc.expect.wire {
        for (h, host) in hosts.iter().enumerate() {
            let exp: Vec<_> = pats.iter().filter(|p| p.from == h).collect();
            let got: Vec<_> = wire.iter().filter(|w| w.from == h).collect();
            for i in 0..exp.len().max(got.len()) {
                match (exp.get(i), got.get(i)) {
                    (Some(e), Some(g)) if e.matches(g.from, g.to, &g.seg, g.len, g.t) => {}
                    (Some(e), Some(g)) => {
                        out.push(failure(
                            "wire",
                            e.line,
                            format!("{}'s segment #{} to be `{}`", host.name, i + 1, e.text),
                            format!("`{}`", g.text(hosts)),
                            g.t,
                        ));
                        break;
                    }
                    (Some(e), None) => {
                        out.push(failure(
                            "wire",
                            e.line,
                            format!("{}'s segment #{} to be `{}`", host.name, i + 1, e.text),
                            "no such segment".into(),
                            now,
                        ));
                        break;
                    }
                    (None, Some(g)) => {
                        let line = exp.last().map_or(1, |e| e.line);
                        out.push(failure(
                            "wire",
                            line,
                            format!("{} to send {} segment(s)", host.name, exp.len()),
                            format!("an extra one: `{}`", g.text(hosts)),
                            g.t,
                        ));
                        break;
                    }
                    (None, None) => unreachable!(),
                }
            }
        }
    }
    for s in &sc.expect.sockets {
        let host = &hosts[s.host];
        let tr = match host.last_binding(&s.sock) {
            Some(Handle::Conn(c)) => host.conns[*c].trajectory.clone(),
            Some(Handle::Listener(l)) => host.listeners[*l].trajectory.clone(),
            None => Vec::new(),
        };
        if !matches(&s.states, &tr) {
            out.push(failure(
                "socket",
                s.line,
                format!("{} {:?} states {}", host.name, s.sock, show_pats(&s.states)),
                show_trajectory(&collapse(&tr)),
                now,
            ));
        }
    }
    for c in &sc.expect.conns {
        let host = &hosts[c.host];
        let incs: Vec<Vec<(State, u64)>> = host
            .conns
            .iter()
            .filter(|x| x.remote_host == c.remote.0 && x.tcb.ports() == (c.local_port, c.remote.1))
            .map(|x| x.trajectory.clone())
            .collect();
        let ok = incs.len() == c.incarnations.len()
            && c.incarnations.iter().zip(&incs).all(|(p, t)| matches(p, t));
        if !ok {
            let exp: Vec<String> = c.incarnations.iter().map(|p| show_pats(p)).collect();
            let got: Vec<String> = incs.iter().map(|t| show_trajectory(&collapse(t))).collect();
            out.push(failure(
                "conn",
                c.line,
                format!(
                    "{}:{} <-> {}:{} incarnations [{}]",
                    host.name,
                    c.local_port,
                    hosts[c.remote.0].name,
                    c.remote.1,
                    exp.join(", ")
                ),
                format!("[{}]", got.join(", ")),
                now,
            ));
        }
    }
    out
}
