//! Seed sweeps. Runs scenarios under many seeds (optionally with network faults), on all cores
//! (rayon), and reports every run where an oracle fired or the event limit was hit, with the
//! seed to reproduce it (`synclab sim run --scenario … --seed …`). Expectations such as exact
//! wires are counted separately: faults are expected to change them. The result does not
//! depend on the number of threads: runs are numbered scenario-major and reported in that order.

use super::{Shard, KEPT_FINDINGS};
use crate::scenario::Scenario;
use crate::world::{run, NetOverride, RunOptions};
use rayon::prelude::*;
use serde_json::{json, Value};
use std::time::Instant;

/// A run that broke an invariant.
#[derive(Clone, Debug)]
pub struct Finding {
    pub scenario: String,
    pub seed: u64,
    /// The run's number in the sweep (scenario-major, then seed): the order of reports.
    pub job: u64,
    /// The failures, one line each.
    pub failures: Vec<String>,
    /// The first oracle's kind (`oracle:…`, or `limit`).
    pub kind: String,
}

/// The result of a sweep.
#[derive(Clone, Debug, Default)]
pub struct Sweep {
    pub runs: u64,
    pub segments: u64,
    /// Runs whose expectations (not oracles) failed.
    pub expectation_failures: u64,
    /// Runs where an oracle fired or the event limit was hit (the first [`KEPT_FINDINGS`]).
    pub findings: Vec<Finding>,
    pub finding_count: u64,
    /// Wall-clock seconds.
    pub elapsed_s: f64,
}

/// What to sweep.
#[derive(Clone, Copy, Debug, Default)]
pub struct SweepOptions {
    pub first_seed: u64,
    pub seeds: u64,
    pub net: NetOverride,
    pub shard: Shard,
}

impl Sweep {
    /// No oracle fired anywhere.
    pub fn ok(&self) -> bool {
        self.finding_count == 0
    }

    /// Runs per second of wall-clock time.
    pub fn runs_per_s(&self) -> f64 {
        if self.elapsed_s > 0.0 {
            self.runs as f64 / self.elapsed_s
        } else {
            0.0
        }
    }

    /// As JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "ok": self.ok(),
            "runs": self.runs,
            "segments": self.segments,
            "expectation_failures": self.expectation_failures,
            "oracle_failures": self.finding_count,
            "elapsed_s": self.elapsed_s,
            "runs_per_s": self.runs_per_s(),
            "findings": self.findings.iter().map(|f| json!({
                "scenario": f.scenario, "seed": f.seed, "job": f.job, "kind": f.kind,
                "failures": f.failures
            })).collect::<Vec<_>>(),
        })
    }

    /// A human summary.
    pub fn text(&self) -> String {
        let mut s = format!(
            "{} runs, {} segments: {} with an oracle failure, {} with only expectation failures \
             ({:.1} s, {:.0} runs/s)\n",
            self.runs,
            self.segments,
            self.finding_count,
            self.expectation_failures,
            self.elapsed_s,
            self.runs_per_s()
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
    let o = SweepOptions {
        first_seed: first,
        seeds: count,
        net,
        shard: Shard::default(),
    };
    sweep_with(scenarios, &o, &|_| {})
}

/// One run's contribution.
struct Outcome {
    segments: u64,
    expectation_failed: bool,
    finding: Option<Finding>,
}

fn run_one(sc: &Scenario, seed: u64, job: u64, net: NetOverride) -> Outcome {
    let r = run(
        sc,
        &RunOptions {
            seed,
            net,
            trace: false,
            ..Default::default()
        },
    );
    let first = r
        .failures
        .iter()
        .find(|f| f.is_oracle() || f.kind == "limit");
    Outcome {
        segments: r.segments,
        expectation_failed: first.is_none() && !r.ok,
        finding: first.map(|f| Finding {
            scenario: sc.name.clone(),
            seed,
            job,
            kind: f.kind.clone(),
            failures: r.failures.iter().map(|f| f.text()).collect(),
        }),
    }
}

/// Runs this shard's part of the sweep on all cores; `progress(n)` is called as runs finish
/// (`n` of them each time; from any thread). Memory does not grow with the number of runs:
/// partial results are summed as threads finish, keeping the findings of the lowest job numbers.
pub fn sweep_with(
    scenarios: &[Scenario],
    o: &SweepOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Sweep {
    let start = Instant::now();
    let jobs = scenarios.len() as u64 * o.seeds;
    let mut s = (0..jobs)
        .into_par_iter()
        .filter(|&j| o.shard.owns(j))
        .map(|job| {
            let sc = &scenarios[(job / o.seeds) as usize];
            let out = run_one(sc, o.first_seed + job % o.seeds, job, o.net);
            progress(1);
            out
        })
        .fold(Sweep::default, |mut s, out| {
            s.add(out);
            s
        })
        .reduce(Sweep::default, Sweep::join);
    s.elapsed_s = start.elapsed().as_secs_f64();
    s
}

impl Sweep {
    /// Counts one run.
    fn add(&mut self, out: Outcome) {
        self.runs += 1;
        self.segments += out.segments;
        self.expectation_failures += u64::from(out.expectation_failed);
        if let Some(f) = out.finding {
            self.finding_count += 1;
            self.findings.push(f);
            self.keep_first_findings();
        }
    }

    /// Two partial sweeps as one.
    fn join(mut self, other: Sweep) -> Sweep {
        self.runs += other.runs;
        self.segments += other.segments;
        self.expectation_failures += other.expectation_failures;
        self.finding_count += other.finding_count;
        self.findings.extend(other.findings);
        self.keep_first_findings();
        self
    }

    fn keep_first_findings(&mut self) {
        self.findings.sort_by_key(|f| f.job);
        self.findings.truncate(KEPT_FINDINGS);
    }
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
