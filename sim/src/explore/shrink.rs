//! Shrinking: a failing run (a seed of a sweep, or a path of the exhaustive search) becomes a
//! fault schedule ([`Planned`] fates of the segments the network was free to choose for, in
//! send order, quiet past its end), which is then reduced while the same oracle still fires:
//! each fault in turn is replaced by a quiet delivery and kept out if the run still fails the
//! same way, until no single fault can go (a 1-minimal schedule); trailing quiet entries are
//! cut. The result is run once more with a trace, which records every segment's fate and every
//! drawn ISN, so `synclab sim replay` reproduces it from the trace alone and `sim diagram`
//! draws it. The scenario's steps are not shrunk.

use crate::fasthash::FastMap;
use crate::net::choice::{Choice, Planned};
use crate::scenario::Scenario;
use crate::socket::{ConnId, HostId};
use crate::world::{NetOverride, RunOptions, RunResult, World};
use serde_json::{json, Value};

/// A shrunk failure.
#[derive(Clone, Debug)]
pub struct Shrunk {
    pub scenario: String,
    pub seed: u64,
    /// The oracle kept failing (`oracle:…` or `limit`).
    pub kind: String,
    /// Faults in the schedule before and after.
    pub faults_before: usize,
    pub faults_after: usize,
    /// The minimal schedule: (index among free segments, fate), faults only.
    pub schedule: Vec<(usize, Planned)>,
    /// Runs made while shrinking.
    pub runs: u64,
    /// The failing run's trace, one JSON object a line.
    pub trace: Vec<String>,
    /// The failing run's result.
    pub run: RunResult,
}

impl Shrunk {
    /// As JSON (without the trace).
    pub fn to_json(&self) -> Value {
        json!({
            "scenario": self.scenario,
            "seed": self.seed,
            "kind": self.kind,
            "faults_before": self.faults_before,
            "faults_after": self.faults_after,
            "schedule": self.schedule.iter().map(|(i, p)| json!({"segment": i, "fate": p.name()}))
                .collect::<Vec<_>>(),
            "runs": self.runs,
        })
    }

    /// A human summary.
    pub fn text(&self) -> String {
        let mut s = format!(
            "shrunk {} (seed {}): {} -> {} faults, still {} ({} runs)\n",
            self.scenario, self.seed, self.faults_before, self.faults_after, self.kind, self.runs
        );
        for (i, p) in &self.schedule {
            s.push_str(&format!("  free segment #{i}: {}\n", p.name()));
        }
        s
    }
}

/// What a shrinking run needs besides the plan.
struct Target<'s> {
    sc: &'s Scenario,
    seed: u64,
    net: NetOverride,
    isns: FastMap<(HostId, ConnId), u32>,
    kind: String,
}

impl Target<'_> {
    fn world(&self, plan: &[Planned], trace: bool) -> World<'_> {
        let mut w = World::new(
            self.sc,
            &RunOptions {
                seed: self.seed,
                net: self.net,
                trace,
                ..Default::default()
            },
        );
        w.follow_plan(plan.to_vec());
        w.use_isns(self.isns.clone());
        w
    }

    fn fails(&self, plan: &[Planned]) -> bool {
        first_kind(&self.world(plan, false).run()).as_deref() == Some(self.kind.as_str())
    }
}

/// The first oracle (or limit) failure's kind.
fn first_kind(r: &RunResult) -> Option<String> {
    r.failures
        .iter()
        .find(|f| f.is_oracle() || f.kind == "limit")
        .map(|f| f.kind.clone())
}

fn trim(plan: &mut Vec<Planned>) {
    while plan.last() == Some(&Planned::Quiet) {
        plan.pop();
    }
}

fn shrink_plan(t: &Target, mut plan: Vec<Planned>) -> Shrunk {
    trim(&mut plan);
    let faults_before = plan.iter().filter(|p| p.is_fault()).count();
    let mut runs = 0;
    loop {
        let mut changed = false;
        for i in (0..plan.len()).rev() {
            if !plan[i].is_fault() {
                continue;
            }
            let mut candidate = plan.clone();
            candidate[i] = Planned::Quiet;
            trim(&mut candidate);
            runs += 1;
            if t.fails(&candidate) {
                plan = candidate;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let run = t.world(&plan, true).run();
    Shrunk {
        scenario: t.sc.name.clone(),
        seed: t.seed,
        kind: t.kind.clone(),
        faults_before,
        faults_after: plan.iter().filter(|p| p.is_fault()).count(),
        schedule: plan
            .iter()
            .enumerate()
            .filter(|(_, p)| p.is_fault())
            .map(|(i, p)| (i, *p))
            .collect(),
        runs,
        trace: run.trace.clone().unwrap_or_default(),
        run,
    }
}

/// Shrinks a failing seed of a sweep (`net`: the sweep's overrides). `None` if no oracle fires
/// on that seed.
pub fn shrink_seed(sc: &Scenario, seed: u64, net: NetOverride) -> Option<Shrunk> {
    let mut w = World::new(
        sc,
        &RunOptions {
            seed,
            net,
            ..Default::default()
        },
    );
    w.log_fates();
    w.begin();
    while w.advance() {}
    let plan = w.fate_log().to_vec();
    let isns = w.drawn_isns();
    let kind = first_kind(&w.end())?;
    let t = Target {
        sc,
        seed,
        net,
        isns,
        kind,
    };
    Some(shrink_plan(&t, plan))
}

/// Shrinks a failing path of the exhaustive search (run with ISN seed `seed`). `None` if no
/// oracle fires on it.
pub fn shrink_path(sc: &Scenario, seed: u64, path: &[Choice]) -> Option<Shrunk> {
    let mut w = World::new(
        sc,
        &RunOptions {
            seed,
            ..Default::default()
        },
    );
    w.defer_fates();
    w.begin();
    let mut plan = Vec::new();
    let mut next = path.iter();
    loop {
        while !w.oracle_fired() && w.undecided() == 0 && w.advance() {}
        if w.oracle_fired() || w.undecided() == 0 {
            break;
        }
        plan.push(w.decide(next.next().copied().unwrap_or(Choice::Deliver)));
    }
    let isns = w.drawn_isns();
    let kind = first_kind(&w.end())?;
    let t = Target {
        sc,
        seed,
        net: NetOverride::default(),
        isns,
        kind,
    };
    Some(shrink_plan(&t, plan))
}
