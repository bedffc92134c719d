//! Bounded exhaustive search. The world runs in deferred mode: each segment the network is free
//! to choose for (no partition or rule forces its fate) stops the run at a choice point, and the
//! search tries every [`Choice`] for it (deliver, drop, duplicate, reorder, late), depth first, for the
//! first `depth` such segments of every path; past that depth the network is quiet (every
//! segment delivered after the shortest delay), so every path is a whole run, oracles checked
//! after every event and at its end. After each choice the world's state is hashed
//! ([`World::state_hash`](crate::world::World::state_hash)); a state already explored with as
//! much or more depth left is not explored again.
//!
//! Timers fire at their deadlines in virtual time; the search fires a timer before a delivery
//! through the network's choices: a drop lets the retransmission timer fire, a late delivery
//! arrives after the sender's first retransmission timeout fired and its retransmission
//! arrived, a held-back segment arrives after later ones. It never fires a timer before its
//! deadline.
//!
//! Counts: *states* are distinct hashes after a choice (plus the root), *transitions* are the
//! choices tried, *paths* the whole runs ended (leaves), *deepest* the most choices on a path.

use super::{Shard, KEPT_FINDINGS};
use crate::fasthash::FastMap;
use crate::net::choice::Choice;
use crate::scenario::Scenario;
use crate::world::{RunOptions, World};
use rayon::prelude::*;
use serde_json::{json, Value};
use std::time::Instant;

/// How to search.
#[derive(Clone, Copy, Debug)]
pub struct SearchOptions {
    /// Choices per path (segments whose fate is enumerated).
    pub depth: u32,
    /// The seed of ISNs the scenario does not give.
    pub seed: u64,
    /// A path with more events than this ends as a `limit` finding.
    pub max_events: u64,
    /// A scenario's search stops (incomplete) past this many states.
    pub max_states: u64,
    pub shard: Shard,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            depth: 4,
            seed: 1,
            max_events: 200_000,
            max_states: 2_000_000,
            shard: Shard::default(),
        }
    }
}

/// A path on which an oracle fired.
#[derive(Clone, Debug)]
pub struct PathFinding {
    pub scenario: String,
    /// The choices, in the order the segments were sent (quiet past the path).
    pub path: Vec<Choice>,
    /// The first oracle's kind.
    pub kind: String,
    pub failures: Vec<String>,
}

/// One scenario's search.
#[derive(Clone, Debug, Default)]
pub struct ScenarioSearch {
    pub scenario: String,
    /// Its number among the scenarios searched (the shard split and the order of reports).
    pub job: u64,
    pub states: u64,
    pub transitions: u64,
    pub paths: u64,
    pub deepest: u32,
    /// Every path explored (false: stopped at `max_states`).
    pub complete: bool,
    pub finding_count: u64,
    pub findings: Vec<PathFinding>,
    pub elapsed_s: f64,
}

/// A search over scenarios.
#[derive(Clone, Debug, Default)]
pub struct Search {
    pub depth: u32,
    pub scenarios: Vec<ScenarioSearch>,
    pub elapsed_s: f64,
}

/// The name of a choice in reports.
pub fn choice_name(c: Choice) -> &'static str {
    c.name()
}

impl Search {
    /// No oracle fired on any path, and every search was complete.
    pub fn ok(&self) -> bool {
        self.scenarios
            .iter()
            .all(|s| s.finding_count == 0 && s.complete)
    }

    fn total(&self, f: impl Fn(&ScenarioSearch) -> u64) -> u64 {
        self.scenarios.iter().map(f).sum()
    }

    /// As JSON.
    pub fn to_json(&self) -> Value {
        let per: Vec<Value> = self
            .scenarios
            .iter()
            .map(|s| {
                json!({
                    "scenario": s.scenario, "job": s.job, "states": s.states, "transitions": s.transitions,
                    "paths": s.paths, "deepest": s.deepest, "complete": s.complete,
                    "oracle_failures": s.finding_count, "elapsed_s": s.elapsed_s,
                    "findings": s.findings.iter().map(|f| json!({
                        "path": f.path.iter().map(|&c| choice_name(c)).collect::<Vec<_>>(),
                        "kind": f.kind, "failures": f.failures,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({
            "ok": self.ok(),
            "depth": self.depth,
            "states": self.total(|s| s.states),
            "transitions": self.total(|s| s.transitions),
            "paths": self.total(|s| s.paths),
            "deepest": self.scenarios.iter().map(|s| s.deepest).max().unwrap_or(0),
            "oracle_failures": self.total(|s| s.finding_count),
            "elapsed_s": self.elapsed_s,
            "scenarios": per,
        })
    }

    /// A human summary: one line a scenario, then the findings.
    pub fn text(&self) -> String {
        let mut s = format!(
            "exhaustive search to depth {}: {} states, {} transitions, {} paths, {} with an \
             oracle failure ({:.1} s)\n",
            self.depth,
            self.total(|s| s.states),
            self.total(|s| s.transitions),
            self.total(|s| s.paths),
            self.total(|s| s.finding_count),
            self.elapsed_s
        );
        let w = self
            .scenarios
            .iter()
            .map(|s| s.scenario.len())
            .max()
            .unwrap_or(0);
        for sc in &self.scenarios {
            s.push_str(&format!(
                "  {:<w$}  {:>8} states {:>9} transitions {:>8} paths  deepest {:>2}  {:>6.2} s{}{}\n",
                sc.scenario,
                sc.states,
                sc.transitions,
                sc.paths,
                sc.deepest,
                sc.elapsed_s,
                if sc.complete { "" } else { "  INCOMPLETE (state limit)" },
                if sc.finding_count > 0 {
                    format!("  {} FAILING PATHS", sc.finding_count)
                } else {
                    String::new()
                },
            ));
            // The first failing path of each scenario (--json has up to KEPT_FINDINGS).
            for f in sc.findings.iter().take(1) {
                let path: Vec<_> = f.path.iter().map(|&c| choice_name(c)).collect();
                s.push_str(&format!("    path [{}]:\n", path.join(", ")));
                for l in &f.failures {
                    s.push_str(&format!("      {}\n", l.replace('\n', "\n      ")));
                }
            }
        }
        s
    }
}

/// Searches this shard's scenarios (scenario `i` belongs to shard `i mod N`), one scenario a
/// core; `progress(1)` as each finishes.
pub fn search(
    scenarios: &[Scenario],
    o: &SearchOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Search {
    let start = Instant::now();
    let mine: Vec<(u64, &Scenario)> = (0..)
        .zip(scenarios)
        .filter(|(i, _)| o.shard.owns(*i))
        .collect();
    let per = mine
        .par_iter()
        .map(|&(job, sc)| {
            let r = ScenarioSearch {
                job,
                ..search_one(sc, o)
            };
            progress(1);
            r
        })
        .collect();
    Search {
        depth: o.depth,
        scenarios: per,
        elapsed_s: start.elapsed().as_secs_f64(),
    }
}

/// Runs `w` until it waits for a choice or is over.
fn run_to_choice(w: &mut World) {
    while !w.oracle_fired() && w.undecided() == 0 && w.advance() {}
}

/// The exhaustive search of one scenario.
pub fn search_one(sc: &Scenario, o: &SearchOptions) -> ScenarioSearch {
    let start = Instant::now();
    let mut out = ScenarioSearch {
        scenario: sc.name.clone(),
        complete: true,
        states: 1,
        ..Default::default()
    };
    let mut root = World::new(
        sc,
        &RunOptions {
            seed: o.seed,
            ..Default::default()
        },
    );
    root.defer_fates();
    root.limit_events(o.max_events);
    root.begin();
    // The smallest number of choices made on reaching each state explored.
    let mut seen: FastMap<u64, u32> = FastMap::default();
    seen.insert(root.state_hash(), 0);
    let mut stack: Vec<(World, Vec<Choice>)> = vec![(root, Vec::new())];
    while let Some((mut w, path)) = stack.pop() {
        run_to_choice(&mut w);
        out.deepest = out.deepest.max(path.len() as u32);
        if w.oracle_fired() || w.undecided() == 0 {
            out.paths += 1;
            leaf(w.end(), path, &mut out);
            continue;
        }
        if path.len() as u32 >= o.depth {
            w.decide(Choice::Deliver);
            stack.push((w, path));
            continue;
        }
        if out.states >= o.max_states {
            out.complete = false;
            break;
        }
        let made = path.len() as u32 + 1;
        for c in Choice::ALL.into_iter().rev() {
            let mut child = w.clone();
            child.decide(c);
            out.transitions += 1;
            let h = child.state_hash();
            match seen.get(&h) {
                Some(&d) if d <= made => continue,
                Some(_) => {}
                None => out.states += 1,
            }
            seen.insert(h, made);
            let mut p = path.clone();
            p.push(c);
            stack.push((child, p));
        }
    }
    out.elapsed_s = start.elapsed().as_secs_f64();
    out
}

fn leaf(r: crate::RunResult, path: Vec<Choice>, out: &mut ScenarioSearch) {
    let Some(first) = r
        .failures
        .iter()
        .find(|f| f.is_oracle() || f.kind == "limit")
    else {
        return;
    };
    out.finding_count += 1;
    if out.findings.len() < KEPT_FINDINGS {
        out.findings.push(PathFinding {
            scenario: out.scenario.clone(),
            path,
            kind: first.kind.clone(),
            failures: r.failures.iter().map(|f| f.text()).collect(),
        });
    }
}
