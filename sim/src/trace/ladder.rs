//! A trace as the rows of a ladder diagram between its first two hosts, like RFC 9293's
//! figures: each segment with the sender's state when it left and the receiver's state after it
//! arrived; state changes that no segment shows get a row of their own.

use super::Trace;
use serde_json::Value;
use std::collections::HashMap;

/// How a segment's arrow ends: the one reading of a segment's fate both renderers draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Dropped by the network.
    Lost,
    /// Arrived at this virtual time.
    At(u64),
    /// Still in flight when the run ended.
    InFlight,
}

/// One row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Row {
    Seg {
        t: u64,
        end: End,
        /// Sent by the left host.
        from_left: bool,
        label: String,
        sender_state: String,
        receiver_state: String,
        injected: bool,
        /// A network duplicate (second copy).
        dup: bool,
    },
    State {
        t: u64,
        left: bool,
        state: String,
        note: String,
    },
}

/// The diagram's content.
#[derive(Clone, Debug)]
pub struct Ladder {
    pub left: String,
    pub right: String,
    pub rows: Vec<Row>,
    pub scenario: String,
    pub seed: u64,
}

fn s(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap_or_default().to_string()
}

/// Builds the rows.
pub fn build(t: &Trace) -> Ladder {
    let hosts = t.hosts();
    let left = hosts.first().cloned().unwrap_or_default();
    let right = hosts.get(1).cloned().unwrap_or_default();
    let side = |h: &str| -> Option<bool> {
        if h == left {
            Some(true)
        } else if h == right {
            Some(false)
        } else {
            None
        }
    };
    let mut rows: Vec<Row> = Vec::new();
    let mut by_id: HashMap<u64, usize> = HashMap::new();
    let mut cur: HashMap<String, String> = HashMap::new();
    let mut listening: HashMap<String, bool> = HashMap::new();
    // The arrival being processed (row index, receiving host), and state changes waiting for a
    // segment of the same input to show them.
    let mut arrival: Option<(usize, String)> = None;
    let mut pending: Vec<(u64, String, String, String)> = Vec::new();
    let flush = |pending: &mut Vec<(u64, String, String, String)>, rows: &mut Vec<Row>| {
        for (t, h, st, note) in pending.drain(..) {
            if let Some(l) = side(&h) {
                rows.push(Row::State {
                    t,
                    left: l,
                    state: st,
                    note,
                });
            }
        }
    };
    for v in &t.values[1..] {
        let ev = v["ev"].as_str().unwrap_or_default();
        let time = v["t"].as_u64().unwrap_or(0);
        if matches!(ev, "call" | "timer" | "arrive" | "inject" | "end") {
            flush(&mut pending, &mut rows);
            arrival = None;
        }
        match ev {
            "call" => {
                let h = s(v, "host");
                match v["call"].as_str() {
                    Some("listen") => {
                        listening.insert(h.clone(), true);
                        cur.insert(h.clone(), "LISTEN".into());
                        pending.push((time, h, "LISTEN".into(), "listen".into()));
                    }
                    Some("crash") => {
                        listening.insert(h.clone(), false);
                        cur.insert(h.clone(), "CLOSED".into());
                        pending.push((time, h, "CLOSED".into(), "crash".into()));
                    }
                    _ => {}
                }
            }
            "arrive" => {
                let id = v["id"].as_u64().unwrap_or(0);
                let h = s(v, "host");
                if let Some(&i) = by_id.get(&id) {
                    let mut idx = i;
                    if v["copy"].as_bool() == Some(true) {
                        let mut dup = rows[i].clone();
                        if let Row::Seg { dup: d, end, .. } = &mut dup {
                            *d = true;
                            *end = End::At(time);
                        }
                        rows.push(dup);
                        idx = rows.len() - 1;
                    } else if let Row::Seg { end, .. } = &mut rows[i] {
                        *end = End::At(time);
                    }
                    if let Row::Seg { receiver_state, .. } = &mut rows[idx] {
                        *receiver_state = cur.get(&h).cloned().unwrap_or_else(|| "CLOSED".into());
                    }
                    arrival = Some((idx, h));
                }
            }
            "send" | "inject" => {
                let (from, to) = (s(v, "from"), s(v, "to"));
                let (Some(fl), Some(tl)) = (side(&from), side(&to)) else {
                    continue;
                };
                if fl == tl {
                    continue;
                }
                let id = v["id"].as_u64().unwrap_or(0);
                let injected = ev == "inject";
                // A pending state of the sender is shown on this row instead.
                pending.retain(|(_, h, _, _)| *h != from);
                let end = if injected {
                    End::At(time) // delivered at once
                } else if v["fate"] == "lost" {
                    End::Lost
                } else {
                    End::InFlight
                };
                rows.push(Row::Seg {
                    t: time,
                    end,
                    from_left: fl,
                    label: s(v, "label"),
                    sender_state: if injected {
                        "(old duplicate)".into()
                    } else {
                        cur.get(&from).cloned().unwrap_or_else(|| "CLOSED".into())
                    },
                    receiver_state: String::new(),
                    injected,
                    dup: false,
                });
                by_id.insert(id, rows.len() - 1);
                if injected {
                    arrival = Some((rows.len() - 1, to));
                }
            }
            "state" => {
                let h = s(v, "host");
                let mut st = s(v, "to");
                if st == "CLOSED"
                    && s(v, "from") == "SYN-RECEIVED"
                    && listening.get(&h) == Some(&true)
                {
                    st = "LISTEN".into();
                }
                cur.insert(h.clone(), st.clone());
                match &arrival {
                    Some((i, ah)) if *ah == h => {
                        if let Row::Seg { receiver_state, .. } = &mut rows[*i] {
                            *receiver_state = st;
                        }
                    }
                    _ => {
                        pending.retain(|(_, ph, _, _)| *ph != h);
                        pending.push((time, h, st, String::new()));
                    }
                }
            }
            _ => {}
        }
    }
    flush(&mut pending, &mut rows);
    // A listen shows first among the rows of its instant, as in the RFC's figures.
    rows.sort_by_key(|r| match r {
        Row::Seg { t, .. } => (*t, 1),
        Row::State { t, note, .. } => (*t, if note == "listen" { 0 } else { 1 }),
    });
    Ladder {
        left,
        right,
        rows,
        scenario: s(t.meta(), "scenario"),
        seed: t.meta()["seed"].as_u64().unwrap_or(0),
    }
}
