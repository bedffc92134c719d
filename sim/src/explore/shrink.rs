//! Shrinking: a failing run (a seed of a sweep, or a path of the exhaustive search) becomes a
//! fault schedule ([`Planned`] fates of the segments the network was free to choose for, in
//! send order, quiet past its end), which is then reduced while the same oracle still fires:
//! each fault in turn is replaced by a quiet delivery and kept out if the run still fails the
//! same way, until no single fault can go (a 1-minimal schedule); trailing quiet entries are
//! cut. Then the script: the `[expect]` table, then each step in turn (last first) is taken
//! out of the scenario ([`super::script`]) and kept out if the run, with the schedule as it
//! stands, still fails the same way. The two alternate until neither changes (removing a step
//! can make a fault needless, and the other way round). The result is run once more with a
//! trace, which embeds the shrunk scenario's text and records every segment's fate and every
//! drawn ISN, so `synclab sim replay` reproduces it from the trace alone and `sim diagram`
//! draws it.

use super::script;
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
    /// Steps in the scenario before and after.
    pub steps_before: usize,
    pub steps_after: usize,
    /// The source lines of the steps taken out (in the original scenario), in file order.
    pub removed_steps: Vec<usize>,
    /// The shrunk scenario's `[expect]` table was taken out.
    pub expect_removed: bool,
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
            "steps_before": self.steps_before,
            "steps_after": self.steps_after,
            "removed_step_lines": self.removed_steps,
            "expect_removed": self.expect_removed,
            "schedule": self.schedule.iter().map(|(i, p)| json!({"segment": i, "fate": p.name()}))
                .collect::<Vec<_>>(),
            "runs": self.runs,
        })
    }

    /// A human summary.
    pub fn text(&self) -> String {
        let mut s = format!(
            "shrunk {} (seed {}): {} -> {} faults, {} -> {} steps, still {} ({} runs)\n",
            self.scenario,
            self.seed,
            self.faults_before,
            self.faults_after,
            self.steps_before,
            self.steps_after,
            self.kind,
            self.runs
        );
        if !self.removed_steps.is_empty() {
            let lines: Vec<String> = self.removed_steps.iter().map(|l| l.to_string()).collect();
            s.push_str(&format!(
                "  steps taken out (lines of the original): {}\n",
                lines.join(", ")
            ));
        }
        for (i, p) in &self.schedule {
            s.push_str(&format!("  free segment #{i}: {}\n", p.name()));
        }
        s
    }
}

/// What a shrinking run needs besides the plan: the scenario as shrunk so far.
struct Target {
    sc: Scenario,
    seed: u64,
    net: NetOverride,
    isns: FastMap<(HostId, ConnId), u32>,
    kind: String,
}

impl Target {
    fn world<'a>(&'a self, sc: &'a Scenario, plan: &[Planned], trace: bool) -> World<'a> {
        let mut w = World::new(
            sc,
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
        self.fails_with(&self.sc, plan)
    }

    fn fails_with(&self, sc: &Scenario, plan: &[Planned]) -> bool {
        first_kind(&self.world(sc, plan, false).run()).as_deref() == Some(self.kind.as_str())
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

/// Takes faults out of `plan` until no single one can go; whether any went.
fn shrink_faults(t: &Target, plan: &mut Vec<Planned>, runs: &mut u64) -> bool {
    let mut any = false;
    loop {
        let mut changed = false;
        for i in (0..plan.len()).rev() {
            if !plan[i].is_fault() {
                continue;
            }
            let mut candidate = plan.clone();
            candidate[i] = Planned::Quiet;
            trim(&mut candidate);
            *runs += 1;
            if t.fails(&candidate) {
                *plan = candidate;
                changed = true;
            }
        }
        if !changed {
            return any;
        }
        any = true;
    }
}

/// Takes `[expect]`, then steps (last first), out of `t.sc` while it still fails with `plan`;
/// `lines` maps the current steps to their lines in the original. Whether any went.
fn shrink_script(
    t: &mut Target,
    plan: &[Planned],
    lines: &mut Vec<usize>,
    expect_removed: &mut bool,
    runs: &mut u64,
) -> bool {
    let mut any = false;
    if let Some(sc) = script::without_expect(&t.sc) {
        *runs += 1;
        if t.fails_with(&sc, plan) {
            t.sc = sc;
            *expect_removed = true;
            any = true;
        }
    }
    for i in (0..t.sc.steps.len()).rev() {
        let Some(sc) = script::without_step(&t.sc, i) else {
            continue;
        };
        *runs += 1;
        if t.fails_with(&sc, plan) {
            t.sc = sc;
            lines.remove(i);
            any = true;
        }
    }
    any
}

fn shrink_plan(mut t: Target, mut plan: Vec<Planned>) -> Shrunk {
    trim(&mut plan);
    let faults_before = plan.iter().filter(|p| p.is_fault()).count();
    let original: Vec<usize> = t.sc.steps.iter().map(|s| s.line).collect();
    let mut lines = original.clone();
    let mut expect_removed = false;
    let mut runs = 0;
    // Each script pass that changes something removes a step or `[expect]`, so this ends;
    // it ends after a pass that changed nothing, with the faults as shrunk as they go.
    shrink_faults(&t, &mut plan, &mut runs);
    while shrink_script(&mut t, &plan, &mut lines, &mut expect_removed, &mut runs) {
        shrink_faults(&t, &mut plan, &mut runs);
    }
    let run = t.world(&t.sc, &plan, true).run();
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
        steps_before: original.len(),
        steps_after: lines.len(),
        removed_steps: original
            .into_iter()
            .filter(|l| !lines.contains(l))
            .collect(),
        expect_removed,
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
        sc: sc.clone(),
        seed,
        net,
        isns,
        kind,
    };
    Some(shrink_plan(t, plan))
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
        sc: sc.clone(),
        seed,
        net: NetOverride::default(),
        isns,
        kind,
    };
    Some(shrink_plan(t, plan))
}
