//! What one run of a scenario showed, in a form shared by the kernel run and the simulator:
//! every segment the hosts sent (flags, sequence and acknowledgment numbers, payload length),
//! every connection's state samples, and each step's result. The namespace child prints one
//! [`Observation`] as JSON; the parent builds the simulator's from a trace.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One segment as a host sent it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seg {
    /// Milliseconds since the run started.
    pub t_ms: u64,
    pub from: String,
    pub from_port: u16,
    pub to: String,
    pub to_port: u16,
    /// Letters of S F R A in that order (PSH is left out: it is not compared).
    pub flags: String,
    pub seq: u32,
    pub ack: u32,
    pub len: u32,
}

/// The states one connection was seen in, in order, repeats collapsed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnStates {
    pub host: String,
    pub local_port: u16,
    /// The peer as `HOST:PORT`.
    pub remote: String,
    /// RFC 9293 spellings (`SYN-SENT`, `ESTABLISHED`, …).
    pub states: Vec<String>,
}

/// How a step ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepEnd {
    /// The step's index among the scenario's steps.
    pub step: usize,
    /// `ok` or an errno name; `blocked` if it had not returned when the run stopped.
    pub result: String,
}

/// Everything one run showed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    pub segments: Vec<Seg>,
    pub conns: Vec<ConnStates>,
    pub steps: Vec<StepEnd>,
}

impl Seg {
    /// The sending endpoint, `HOST:PORT`.
    pub fn src(&self) -> String {
        format!("{}:{}", self.from, self.from_port)
    }
    /// The receiving endpoint, `HOST:PORT`.
    pub fn dst(&self) -> String {
        format!("{}:{}", self.to, self.to_port)
    }
}

/// Adds `state` to a trajectory unless it repeats the last one.
pub fn push_state(states: &mut Vec<String>, state: &str) {
    if states.last().map(String::as_str) != Some(state) {
        states.push(state.to_string());
    }
}

/// Each segment as `SRC>DST FLAGS seq=N [ack=N] [len=N]` with sequence numbers relative to the
/// ISN of its direction (the sequence number of the first SYN sent that way; 0 if none was),
/// and acknowledgments relative to the other direction's ISN. Grouped by sending host, in
/// order, as the scenario format's `wire` compares them.
pub fn relative_wire(segs: &[Seg]) -> BTreeMap<String, Vec<String>> {
    let mut isn: BTreeMap<(String, String), u32> = BTreeMap::new();
    for s in segs.iter().filter(|s| s.flags.contains('S')) {
        isn.entry((s.src(), s.dst())).or_insert(s.seq);
    }
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in segs {
        let own = isn.get(&(s.src(), s.dst())).copied().unwrap_or(0);
        let peer = isn.get(&(s.dst(), s.src())).copied().unwrap_or(0);
        let mut line = format!(
            "{}>{} {} seq={}",
            s.src(),
            s.dst(),
            s.flags,
            s.seq.wrapping_sub(own)
        );
        if s.flags.contains('A') {
            line.push_str(&format!(" ack={}", s.ack.wrapping_sub(peer)));
        }
        if s.len > 0 {
            line.push_str(&format!(" len={}", s.len));
        }
        out.entry(s.from.clone()).or_default().push(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(from: &str, fp: u16, to: &str, tp: u16, flags: &str, seq: u32, ack: u32) -> Seg {
        Seg {
            t_ms: 0,
            from: from.into(),
            from_port: fp,
            to: to.into(),
            to_port: tp,
            flags: flags.into(),
            seq,
            ack,
            len: 0,
        }
    }

    #[test]
    fn numbers_are_relative_to_each_directions_isn() {
        let segs = [
            seg("A", 5000, "B", 80, "S", 4_000_000_000, 0),
            seg("B", 80, "A", 5000, "SA", 7, 4_000_000_001),
            seg("A", 5000, "B", 80, "A", 4_000_000_001, 8),
            seg("B", 81, "A", 5001, "RA", 0, 12),
        ];
        let w = relative_wire(&segs);
        assert_eq!(w["A"], ["A:5000>B:80 S seq=0", "A:5000>B:80 A seq=1 ack=1"]);
        assert_eq!(
            w["B"],
            ["B:80>A:5000 SA seq=0 ack=1", "B:81>A:5001 RA seq=0 ack=12"]
        );
    }
}
