//! Exploration floors (`verify/src/models/floors.rs`): every registered model has one, the
//! cheap models reach theirs here, and a collapsed exploration (the same model at preemption
//! bound 0, as a refactor that lost its interleavings would look) falls under it and is refused.
//! The expensive models' floors are checked where they already run: `assert_passes` in
//! `loom_rings.rs`, `loom_sem.rs`, `loom_sem_ledger.rs` and `loom_takeover.rs` (no model is
//! explored twice at its full bound).

use synclab_core::model::Mutant;
use synclab_verify::models::{self, floors, ModelOptions, MODELS};

#[test]
fn every_registered_model_has_a_floor_and_every_floor_a_model() {
    for m in MODELS {
        assert!(
            floors::floor(m.name).is_some(),
            "model {} has no floor",
            m.name
        );
    }
    for (name, floor) in floors::FLOORS {
        assert!(
            models::find(name).is_some(),
            "floor for unknown model {name}"
        );
        assert!(*floor > 1, "floor of {name} must exceed one execution");
    }
    assert_eq!(floors::FLOORS.len(), MODELS.len(), "one floor per model");
}

/// The models that explore in well under a second at their default bound reach their floors.
#[test]
fn cheap_models_reach_their_floors() {
    for name in [
        "spsc-batch",
        "spsc-takeover",
        "eventcount",
        "eventcount-rounds",
        "semaphore-mutex",
        "semaphore-ledger-reuse",
    ] {
        let r = models::find(name).unwrap().assert_passes();
        eprintln!(
            "{name}: {} executions, floor {}",
            r.interleavings,
            floors::floor(name).unwrap()
        );
    }
}

/// Every model at preemption bound 0 (a collapsed exploration) explores fewer executions than
/// its floor, so the floor would catch such a collapse at the default bound.
#[test]
fn a_collapsed_exploration_is_under_every_floor() {
    let collapsed = ModelOptions {
        preemptions: Some(0),
    };
    for m in MODELS {
        let r = m.check(Mutant::None, &collapsed);
        assert!(
            r.ok,
            "{} at bound 0 failed: {:?} {:?}",
            m.name, r.message, r.refused
        );
        let verdict = floors::check(m.name, r.interleavings);
        eprintln!(
            "{}: {} executions at bound 0, floor {}: {:?}",
            m.name,
            r.interleavings,
            floors::floor(m.name).unwrap(),
            verdict
        );
        assert!(
            verdict.is_err(),
            "{} explores {} executions at bound 0: its floor does not tell a collapse",
            m.name,
            r.interleavings
        );
    }
}

#[test]
fn a_model_without_a_floor_is_refused() {
    assert!(floors::check("no-such-model", 1_000_000).is_err());
}
