//! `sim::explore`: seed sweeps. Runs scenarios under many seeds (optionally with network faults)
//! and reports every run where an oracle fired or the event limit was hit, with the seed to
//! reproduce it (`synclab sim run --scenario … --seed …`). Expectations such as exact wires are
//! counted separately: faults are expected to change them.

use crate::scenario::Scenario;
use crate::world::{run, NetOverride, RunOptions};
use serde_json::{json, Value};

/// A run that broke an invariant.
#[derive(Clone, Debug)]
pub struct Finding {
    pub scenario: String,
    pub seed: u64,
    /// The failures, one line each.
    pub failures: Vec<String>,
}

/// The result of a sweep.
#[derive(Clone, Debug, Default)]
pub struct Sweep {
    pub runs: u64,
    pub segments: u64,
    /// Runs whose expectations (not oracles) failed.
    pub expectation_failures: u64,
    /// Runs where an oracle fired or the event limit was hit (at most 20 kept).
    pub findings: Vec<Finding>,
    pub finding_count: u64,
}

impl Sweep {
    /// No oracle fired anywhere.
    pub fn ok(&self) -> bool {
        self.finding_count == 0
    }

    /// As JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "ok": self.ok(),
            "runs": self.runs,
            "segments": self.segments,
            "expectation_failures": self.expectation_failures,
            "oracle_failures": self.finding_count,
            "findings": self.findings.iter().map(|f| json!({
                "scenario": f.scenario, "seed": f.seed, "failures": f.failures
            })).collect::<Vec<_>>(),
        })
    }

    /// A human summary.
    pub fn text(&self) -> String {
        let mut s = format!(
            "{} runs, {} segments: {} with an oracle failure, {} with only expectation failures\n",
            self.runs, self.segments, self.finding_count, self.expectation_failures
        );
        for f in &self.findings {
            s.push_str(&format!("  {} --seed {}:\n", f.scenario, f.seed));
            for l in &f.failures {
                s.push_str(&format!("    {}\n", l.replace('\n', "\n    ")));
            }
        }
        s
    }
}

/// Runs every scenario under seeds `first..first + count` with `net` overrides.
pub fn sweep(scenarios: &[Scenario], first: u64, count: u64, net: NetOverride) -> Sweep {
    let mut out = Sweep::default();
    for sc in scenarios {
        for seed in first..first + count {
            let r = run(
                sc,
                &RunOptions {
                    seed,
                    net,
                    trace: false,
                    ..Default::default()
                },
            );
            out.runs += 1;
            out.segments += r.segments;
            let broken = r
                .failures
                .iter()
                .any(|f| f.is_oracle() || f.kind == "limit");
            if broken {
                out.finding_count += 1;
                if out.findings.len() < 20 {
                    out.findings.push(Finding {
                        scenario: sc.name.clone(),
                        seed,
                        failures: r.failures.iter().map(|f| f.text()).collect(),
                    });
                }
            } else if !r.ok {
                out.expectation_failures += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::builtin::builtin;

    #[test]
    fn a_small_sweep_finds_nothing() {
        let sc = vec![builtin("rfc9293-fig8-old-duplicate-syn").unwrap()];
        let net = NetOverride {
            loss: Some(0.3),
            ..Default::default()
        };
        let s = sweep(&sc, 0, 50, net);
        assert_eq!(s.runs, 50);
        assert!(s.ok(), "{}", s.text());
        assert!(s.expectation_failures > 0, "loss changes the exact wire");
        assert_eq!(s.to_json()["ok"], true);
    }
}
