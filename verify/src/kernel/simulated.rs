//! The simulator's side of a comparison: runs the scenario and reads its trace into an
//! [`Observation`] (segments from `send` lines, trajectories from `state` lines, step results
//! from `return` lines).

use super::observed::{push_state, ConnStates, Observation, Seg, StepEnd};
use serde_json::Value;
use synclab_sim::{run, RunOptions, Scenario};

/// Runs `sc` once (seed 1) in the simulator and returns what it showed.
pub fn simulate(sc: &Scenario) -> Observation {
    let r = run(
        sc,
        &RunOptions {
            seed: 1,
            trace: true,
            ..Default::default()
        },
    );
    let mut obs = Observation::default();
    for line in r.trace.as_deref().unwrap_or_default() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        match v["ev"].as_str() {
            Some("send") => {
                if let Some(s) = parse_send(&v) {
                    obs.segments.push(s);
                }
            }
            Some("state") => add_state(&mut obs, &v),
            Some("return") => obs.steps.push(StepEnd {
                step: v["step"].as_u64().unwrap_or(0) as usize,
                result: v["result"].as_str().unwrap_or("?").to_string(),
            }),
            _ => {}
        }
    }
    obs
}

fn add_state(obs: &mut Observation, v: &Value) {
    let host = v["host"].as_str().unwrap_or("?");
    let port = v["port"].as_u64().unwrap_or(0) as u16;
    let remote = v["remote"].as_str().unwrap_or("?");
    let to = v["to"].as_str().unwrap_or("?");
    let i = match obs
        .conns
        .iter()
        .position(|c| c.host == host && c.local_port == port && c.remote == remote)
    {
        Some(i) => i,
        None => {
            obs.conns.push(ConnStates {
                host: host.to_string(),
                local_port: port,
                remote: remote.to_string(),
                states: Vec::new(),
            });
            obs.conns.len() - 1
        }
    };
    push_state(&mut obs.conns[i].states, to);
}

/// A `send` line's `wire` (`A:5000>B:80 SA seq=300 ack=101 [len=N]`) and `t`.
fn parse_send(v: &Value) -> Option<Seg> {
    let wire = v["wire"].as_str()?;
    let mut words = wire.split_whitespace();
    let (src, dst) = words.next()?.split_once('>')?;
    let (from, from_port) = src.split_once(':')?;
    let (to, to_port) = dst.split_once(':')?;
    let flags: String = words.next()?.chars().filter(|c| *c != 'P').collect();
    let mut seg = Seg {
        t_ms: v["t"].as_u64()?,
        from: from.to_string(),
        from_port: from_port.parse().ok()?,
        to: to.to_string(),
        to_port: to_port.parse().ok()?,
        flags,
        seq: 0,
        ack: 0,
        len: 0,
    };
    for w in words {
        let (k, n) = w.split_once('=')?;
        let n: u32 = n.parse().ok()?;
        match k {
            "seq" => seg.seq = n,
            "ack" => seg.ack = n,
            "len" => seg.len = n,
            _ => {}
        }
    }
    Some(seg)
}
