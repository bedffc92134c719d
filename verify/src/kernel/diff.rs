//! Comparing a kernel observation with the simulator's: per sending host, the relative
//! segments in order; per connection, the kernel's sampled states against the simulator's
//! trajectory; per step, the result.

use super::observed::{relative_wire, Observation};
use serde::Serialize;
use std::collections::BTreeSet;

/// One difference, in words, with both sides.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// `segments HOST`, `states HOST:PORT>REMOTE` or `step N`.
    pub what: String,
    pub kernel: String,
    pub sim: String,
}

/// Every difference between `kernel` and `sim` (empty: they agree).
pub fn compare(kernel: &Observation, sim: &Observation) -> Vec<Difference> {
    let mut out = Vec::new();
    let kw = relative_wire(&kernel.segments);
    let sw = relative_wire(&sim.segments);
    let hosts: BTreeSet<&String> = kw.keys().chain(sw.keys()).collect();
    for h in hosts {
        let k = kw.get(h).cloned().unwrap_or_default();
        let s = sw.get(h).cloned().unwrap_or_default();
        if k != s {
            out.push(Difference {
                what: format!("segments from {h}"),
                kernel: k.join(", "),
                sim: s.join(", "),
            });
        }
    }
    for sc in &sim.conns {
        let kc = kernel
            .conns
            .iter()
            .find(|k| k.host == sc.host && k.local_port == sc.local_port && k.remote == sc.remote);
        let kstates = kc.map(|k| k.states.clone()).unwrap_or_default();
        if !states_agree(&kstates, &sc.states) {
            out.push(Difference {
                what: format!("states of {}:{}>{}", sc.host, sc.local_port, sc.remote),
                kernel: kstates.join(" "),
                sim: sc.states.join(" "),
            });
        }
    }
    for kc in &kernel.conns {
        let known = sim
            .conns
            .iter()
            .any(|s| s.host == kc.host && s.local_port == kc.local_port && s.remote == kc.remote);
        if !known {
            out.push(Difference {
                what: format!("states of {}:{}>{}", kc.host, kc.local_port, kc.remote),
                kernel: kc.states.join(" "),
                sim: "(no such connection)".into(),
            });
        }
    }
    let steps: BTreeSet<usize> = kernel
        .steps
        .iter()
        .chain(&sim.steps)
        .map(|s| s.step)
        .collect();
    for i in steps {
        let r = |o: &Observation| {
            o.steps
                .iter()
                .find(|s| s.step == i)
                .map_or("not started".to_string(), |s| s.result.clone())
        };
        let (k, s) = (r(kernel), r(sim));
        if k != s {
            out.push(Difference {
                what: format!("step {i}"),
                kernel: k,
                sim: s,
            });
        }
    }
    out
}

/// The kernel's samples agree with the simulator's trajectory when they are a subsequence of
/// it (sampling can miss a short-lived state) ending in the same state, or in TIME-WAIT where
/// the simulator goes on to CLOSED (Linux holds TIME-WAIT 60 s; the kernel run stops sooner).
pub fn states_agree(kernel: &[String], sim: &[String]) -> bool {
    let mut it = sim.iter();
    let subsequence = kernel.iter().all(|k| it.any(|s| s == k));
    let last_ok = match (kernel.last(), sim.last()) {
        (Some(k), Some(s)) if k == s => true,
        (Some(k), Some(s)) => {
            k == "TIME-WAIT" && s == "CLOSED" && sim.get(sim.len().wrapping_sub(2)) == Some(k)
        }
        (None, None) => true,
        _ => false,
    };
    subsequence && last_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn samples_must_be_an_ordered_part_ending_alike() {
        let sim = v("SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT CLOSED");
        assert!(states_agree(&v("ESTABLISHED FIN-WAIT-2 TIME-WAIT"), &sim));
        assert!(states_agree(
            &v("SYN-SENT ESTABLISHED TIME-WAIT CLOSED"),
            &sim
        ));
        assert!(
            !states_agree(&v("ESTABLISHED FIN-WAIT-2"), &sim),
            "ends elsewhere"
        );
        assert!(
            !states_agree(&v("FIN-WAIT-2 ESTABLISHED TIME-WAIT"), &sim),
            "out of order"
        );
        assert!(
            !states_agree(&v("ESTABLISHED CLOSING TIME-WAIT"), &sim),
            "a state not in the sim"
        );
    }
}
