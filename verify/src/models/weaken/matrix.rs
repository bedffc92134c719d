//! The kill matrix (`synclab model --matrix`): for every mutant, the hand-written ones and every
//! automatic weakening, which oracle catches it.
//!
//! Oracles and what this branch can say about each:
//! - **loom**: run here; the smallest preemption bound (0 up to the model's default) at which
//!   the model catches the mutant.
//! - **randomised scheduler** (shuttle): each hand-written mutant under its object's shuttle
//!   scenario (`crate::shuttle::column`): caught / survived / n/a, with the seconds taken;
//!   weakenings are n/a (shuttle is sequentially consistent).
//! - **property tests** (`core/tests/prop_rings.rs`): they run on `RealMemory`, whose mutant
//!   switch is the constant `false` and whose orderings cannot be weakened at run time, so no
//!   mutant can be run under them: "not applicable", stated per row.
//! - **real processes**: `synclab run` has no `--mutant` (real memory again): "not applicable".

use super::sweep::{self, Sweep, SweepOptions, Verdict};
use crate::models::{ModelOptions, ModelSpec};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use synclab_core::model::Mutant;

/// Why the property tests cannot run a mutant.
pub const PROPTEST_NA: &str =
    "not applicable: property tests run on RealMemory, where no mutant or weakening can be switched on";
/// Why real-process runs cannot run a mutant.
pub const PROCESSES_NA: &str =
    "not applicable: `synclab run` has no --mutant (real memory compiles mutants away)";

/// The smallest preemption bound in `0..=max` at which `spec` catches `run`'s mutant, with the
/// interleavings of that run; `None` if no bound up to `max` catches it.
fn min_bound(spec: &ModelSpec, mut run: impl FnMut(&ModelOptions) -> bool) -> Option<usize> {
    let max = spec.default_preemptions.unwrap_or(3);
    (0..=max).find(|&b| {
        run(&ModelOptions {
            preemptions: Some(b),
        })
    })
}

fn quiet<R>(f: impl FnOnce() -> R) -> R {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = f();
    std::panic::set_hook(hook);
    r
}

fn row(name: String, kind: &str, loom: Value, shuttle: Value) -> Value {
    json!({
        "mutant": name,
        "kind": kind,
        "loom": loom,
        "shuttle": shuttle,
        "proptest": PROPTEST_NA,
        "processes": PROCESSES_NA,
    })
}

/// The hand-written mutants: per mutant, each model that lists it and its smallest catching
/// bound (null: not caught up to the model's default bound), and its shuttle verdict.
pub fn hand_written(models: &[&'static ModelSpec], progress: bool) -> Vec<Value> {
    let mut by_mutant: BTreeMap<u32, (Mutant, Vec<Value>)> = BTreeMap::new();
    for spec in models {
        for &m in spec.mutants {
            let bound = quiet(|| min_bound(spec, |o| spec.check(m, o).found_failure()));
            if progress {
                eprintln!("{:<40} {:<26} bound {:?}", m.name(), spec.name, bound);
            }
            by_mutant
                .entry(m as u32)
                .or_insert((m, Vec::new()))
                .1
                .push(json!({ "model": spec.name, "bound": bound }));
        }
    }
    by_mutant
        .into_values()
        .map(|(m, loom)| {
            let shuttle = quiet(|| crate::shuttle::column::hand_written(m));
            if progress {
                eprintln!("{:<40} shuttle {}", m.name(), shuttle);
            }
            row(m.name().to_string(), "hand-written", json!(loom), shuttle)
        })
        .collect()
}

/// The automatic weakenings: a sweep, then for each caught one the smallest bound at which the
/// catching model catches it.
pub fn weakenings(models: &[&'static ModelSpec], o: &SweepOptions) -> (Sweep, Vec<Value>) {
    let s = sweep::sweep(models, o);
    let mut rows = Vec::new();
    // Unreached and mutant-only sites are not mutants: they stay in the sweep's table only.
    for r in s.results.iter().filter(|r| r.weakened.is_some()) {
        let name = format!(
            "{} {} {}->{}",
            r.site,
            r.op,
            r.original,
            r.weakened.unwrap_or("-")
        );
        let loom = match (r.verdict, &r.model) {
            (Verdict::Caught, Some(model)) => {
                let spec = models
                    .iter()
                    .find(|m| m.name == model)
                    .expect("a model run");
                let bound =
                    quiet(|| min_bound(spec, |opts| caught_with(spec, opts, r).unwrap_or(false)));
                json!([{ "model": model, "bound": bound }])
            }
            _ => json!({ "verdict": r.verdict }),
        };
        let shuttle = json!({ "verdict": "n/a", "reason": crate::shuttle::column::WEAKENING_NA });
        rows.push(row(name, "weakening", loom, shuttle));
    }
    (s, rows)
}

/// Re-runs `spec` with the row's weakening at `opts`; whether it fails. `None` when the row does
/// not name a reached access (unreached rows).
fn caught_with(spec: &ModelSpec, opts: &ModelOptions, r: &sweep::Row) -> Option<bool> {
    let access = r.access?;
    let to = r.weakened_strength?;
    let (rep, _) = super::hooks::weakened(access, to, || spec.check(Mutant::None, opts));
    Some(rep.found_failure())
}
