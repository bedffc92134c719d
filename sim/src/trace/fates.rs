//! Reads a trace's recorded choices (a [`Recording`]) for a replay that does not depend on the
//! RNG, and refuses a trace whose fates cannot be (a typed error naming the line and key).
//!
//! What is read:
//! - every `send` line's fate: `"fate":"lost"` with its `reason` (`loss`, `partition` or
//!   `rule`), `"fate":"delivered"` with `arrive` (and `dup_arrive` for a network duplicate), or
//!   `"fate":"held"` (held back behind the next segment of its direction) with `arrive` (its
//!   arrival had it not been held) and `release_at` (the latest it is released); times are
//!   virtual ms and none may precede the line's `t`; keys of another fate are refused;
//! - `iss` on a `state` line: the ISS a connection drew (its first state line carries it; one
//!   that drew, i.e. is past its host's `isn` list, must have it).
//!
//! Also checked, so a hand edit cannot make the replay meaningless: send times never go back,
//! segment ids are unique, and an `arrive` line names a segment an earlier `send` line sent.
//! Everything else in a trace (arrivals, states, returns, …) is an output: replay compares it.

use super::{Trace, TraceError};
use crate::net::recorded::RecordedFate;
use crate::net::{Fate, Loss};
use crate::scenario::{HostSpec, Scenario};
use crate::socket::HostId;
use crate::world::Recording;
use serde_json::Value;
use std::collections::HashMap;

/// Reads the recording of `t`, a trace of scenario `sc`.
pub fn recording(t: &Trace, sc: &Scenario) -> Result<Recording, TraceError> {
    let mut r = Reader {
        t,
        hosts: &sc.hosts,
        line: 0,
    };
    let mut rec = Recording::default();
    // Segment (and injection) id -> the line that sent it.
    let mut sent: HashMap<u64, usize> = HashMap::new();
    let mut last_send: Option<(usize, u64)> = None;
    for (i, v) in t.values.iter().enumerate().skip(1) {
        r.line = t.line_no[i];
        match v["ev"].as_str().unwrap_or_default() {
            "send" => {
                let at = r.u64(v, "t")?;
                if let Some((l, prev)) = last_send.filter(|&(_, prev)| at < prev) {
                    return Err(r.err(
                        "t",
                        format!("sent at {at} ms, before the send on line {l} ({prev} ms)"),
                    ));
                }
                last_send = Some((r.line, at));
                r.new_id(v, &mut sent)?;
                let (from, to) = (r.host(v, "from")?, r.host(v, "to")?);
                if from == to {
                    return Err(r.err("to", "a segment from a host to itself".into()));
                }
                let fate = r.fate(v, at)?;
                rec.net.push(from, to, RecordedFate { sent_at: at, fate });
            }
            "inject" => r.new_id(v, &mut sent)?,
            "arrive" => {
                let id = r.u64(v, "id")?;
                if !sent.contains_key(&id) {
                    return Err(r.err(
                        "id",
                        format!("segment {id} arrives, but no earlier `send` line sent it"),
                    ));
                }
            }
            "state" if v.get("iss").is_none() && v["from"] == "CLOSED" => {
                // A connection past its host's `isn` list drew its ISS: the trace must say it.
                let host = r.host(v, "host")?;
                let conn = r.u64(v, "conn")?;
                if conn >= sc.hosts[host].isn.len() as u64 {
                    return Err(r.err(
                        "iss",
                        format!(
                            "missing: connection {conn} of {} drew its ISS from the seed (a \
                             trace recorded before `iss` was added replays only with \
                             --from-seed)",
                            sc.hosts[host].name
                        ),
                    ));
                }
            }
            "state" if v.get("iss").is_some() => {
                let iss = r.u64(v, "iss")?;
                let iss = u32::try_from(iss)
                    .map_err(|_| r.err("iss", format!("{iss} does not fit in 32 bits")))?;
                let host = r.host(v, "host")?;
                let conn = r.u64(v, "conn")? as usize;
                if v["from"] != "CLOSED" {
                    return Err(r.err(
                        "iss",
                        "only a connection's first state line (from CLOSED) carries its ISS".into(),
                    ));
                }
                if rec.isns.insert((host, conn), iss).is_some() {
                    return Err(r.err("iss", format!("a second ISS for connection {conn}")));
                }
            }
            _ => {}
        }
    }
    Ok(rec)
}

/// The line being read.
struct Reader<'a> {
    t: &'a Trace,
    hosts: &'a [HostSpec],
    line: usize,
}

impl Reader<'_> {
    fn err(&self, key: &str, message: String) -> TraceError {
        TraceError {
            file: self.t.file.clone(),
            line: self.line,
            key: key.to_string(),
            message,
        }
    }

    fn u64(&self, v: &Value, key: &str) -> Result<u64, TraceError> {
        v[key]
            .as_u64()
            .ok_or_else(|| self.err(key, "missing or not an unsigned integer".into()))
    }

    fn opt_u64(&self, v: &Value, key: &str) -> Result<Option<u64>, TraceError> {
        match v.get(key) {
            None => Ok(None),
            Some(_) => self.u64(v, key).map(Some),
        }
    }

    fn host(&self, v: &Value, key: &str) -> Result<HostId, TraceError> {
        let name = v[key]
            .as_str()
            .ok_or_else(|| self.err(key, "missing or not a string".into()))?;
        self.hosts
            .iter()
            .position(|h| h.name == name)
            .ok_or_else(|| self.err(key, format!("no host {name:?} in the scenario")))
    }

    fn new_id(&self, v: &Value, sent: &mut HashMap<u64, usize>) -> Result<(), TraceError> {
        let id = self.u64(v, "id")?;
        if let Some(l) = sent.insert(id, self.line) {
            return Err(self.err("id", format!("segment {id} was already sent on line {l}")));
        }
        Ok(())
    }

    /// A time of the fate of a segment sent at `sent`: present and not before it.
    fn time(&self, v: &Value, key: &str, sent: u64) -> Result<u64, TraceError> {
        let at = self.u64(v, key)?;
        if at < sent {
            return Err(self.err(
                key,
                format!("{at} ms is before the segment was sent ({sent} ms)"),
            ));
        }
        Ok(at)
    }

    /// Refuses the keys of fates other than `fate`.
    fn only(&self, v: &Value, fate: &str, keys: &[&str]) -> Result<(), TraceError> {
        for key in ["reason", "arrive", "dup_arrive", "release_at"] {
            if !keys.contains(&key) && v.get(key).is_some() {
                return Err(self.err(key, format!("a {fate} segment has no `{key}`")));
            }
        }
        Ok(())
    }

    fn fate(&self, v: &Value, sent: u64) -> Result<Fate, TraceError> {
        let fate = v["fate"]
            .as_str()
            .ok_or_else(|| self.err("fate", "missing or not a string".into()))?;
        match fate {
            "lost" => {
                self.only(v, fate, &["reason"])?;
                let why = match v["reason"].as_str() {
                    Some("loss") => Loss::Random,
                    Some("partition") => Loss::Partition,
                    Some("rule") => Loss::Rule,
                    _ => {
                        return Err(self.err(
                            "reason",
                            "missing or not one of \"loss\", \"partition\", \"rule\"".into(),
                        ))
                    }
                };
                Ok(Fate::Lost(why))
            }
            "delivered" => {
                self.only(v, fate, &["arrive", "dup_arrive"])?;
                let at = self.time(v, "arrive", sent)?;
                let dup_at = match self.opt_u64(v, "dup_arrive")? {
                    None => None,
                    Some(_) => Some(self.time(v, "dup_arrive", sent)?),
                };
                Ok(Fate::Delivered { at, dup_at })
            }
            "held" => {
                self.only(v, fate, &["arrive", "release_at"])?;
                if v.get("arrive").is_none() || v.get("release_at").is_none() {
                    let key = if v.get("arrive").is_none() {
                        "arrive"
                    } else {
                        "release_at"
                    };
                    return Err(self.err(
                        key,
                        "missing: a held segment needs `arrive` and `release_at` (a trace \
                         recorded before they were added replays only with --from-seed)"
                            .into(),
                    ));
                }
                let at = self.time(v, "arrive", sent)?;
                let release_at = self.u64(v, "release_at")?;
                if release_at < at {
                    return Err(self.err(
                        "release_at",
                        format!("{release_at} ms is before its `arrive` ({at} ms)"),
                    ));
                }
                Ok(Fate::Held { at, release_at })
            }
            other => Err(self.err(
                "fate",
                format!("expected \"lost\", \"delivered\" or \"held\", found {other:?}"),
            )),
        }
    }
}
