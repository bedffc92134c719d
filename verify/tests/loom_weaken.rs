//! The weakening machinery has teeth, and it can tell a needed ordering from a redundant one.
//!
//! Sites are found from what the models execute (`hooks::record`), never by line number, so
//! these tests stay right when the algorithm files move. The full sweep (minutes) is
//! `synclab model --all --weaken-all` (README "Weakening every ordering").

use synclab_core::model::Mutant;
use synclab_verify::models::weaken::hooks::{self, Access, Op, Strength};
use synclab_verify::models::weaken::sweep::{judge, SweepOptions, Verdict};
use synclab_verify::models::{self, ModelOptions, ModelSpec};

fn spec(name: &str) -> &'static ModelSpec {
    models::find(name).unwrap_or_else(|| panic!("no model {name}"))
}

fn options() -> SweepOptions {
    SweepOptions {
        preemptions: None,
        only_reached_files: true,
        progress: false,
    }
}

/// The accesses in `file` with `op` and `original` that `model` reaches (its baseline passes).
fn reached(model: &str, file: &str, op: Op, original: Strength) -> Vec<Access> {
    let s = spec(model);
    let (report, seen) = hooks::record(|| {
        s.check(
            Mutant::None,
            &ModelOptions {
                preemptions: s.default_preemptions,
            },
        )
    });
    assert!(report.ok, "baseline {model} failed: {:?}", report.message);
    seen.into_iter()
        .filter(|a| a.site.file.starts_with(file) && a.op == op && a.original == original)
        .collect()
}

fn verdict(models: &[&'static ModelSpec], access: Access, to: Strength) -> Verdict {
    let users: Vec<usize> = (0..models.len()).collect();
    let row = judge(models, &users, access, to, &options());
    eprintln!(
        "{} {} {} -> {}: {:?} by {:?} after {} interleavings",
        row.site,
        row.op,
        row.original,
        to.name(),
        row.verdict,
        row.model,
        row.interleavings
    );
    row.verdict
}

/// spsc's publishing `Release` stores of `tail` (push and push_slice), weakened to `Relaxed`:
/// the payload read races with its write, and loom catches it.
#[test]
fn spsc_publishing_release_store_weakened_is_caught() {
    let stores = reached(
        "spsc-batch",
        "core/src/ring/spsc/",
        Op::Store,
        Strength::Release,
    );
    assert!(
        !stores.is_empty(),
        "spsc-batch reaches no Release store in spsc/"
    );
    for a in stores {
        assert_eq!(
            verdict(&[spec("spsc-batch")], a, Strength::Relaxed),
            Verdict::Caught,
            "{a:?}"
        );
    }
}

/// Every futex wake of the eventcount, removed: the parked side is never woken, a deadlock
/// loom reports.
#[test]
fn eventcount_wake_removed_is_caught() {
    let wakes = reached(
        "spsc",
        "core/src/ring/eventcount.rs",
        Op::Wake,
        Strength::Call,
    );
    assert!(!wakes.is_empty(), "spsc parks but reaches no wake");
    for a in wakes {
        assert_eq!(
            verdict(&[spec("spsc")], a, Strength::Removed),
            Verdict::Caught
        );
    }
}

/// A known redundant ordering: the waiter's `Acquire` load of the eventcount's sequence (its
/// futex key). What the waiter needs to see is re-read by its own `ready()` check with the
/// ring's `Acquire` index loads, so `Relaxed` here loses nothing: the spsc model passes.
#[test]
fn eventcount_key_acquire_is_redundant() {
    let loads = reached(
        "spsc",
        "core/src/ring/eventcount.rs",
        Op::Load,
        Strength::Acquire,
    );
    assert_eq!(
        loads.len(),
        1,
        "expected the one Acquire load (the key): {loads:?}"
    );
    assert_eq!(
        verdict(&[spec("spsc")], loads[0], Strength::Relaxed),
        Verdict::Survived
    );
}
