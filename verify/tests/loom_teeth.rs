//! Models added to give teeth to orderings the weakening sweep found surviving for want of a
//! model that reaches their race (README "Weakening every ordering"): each passes above its
//! exploration floor, catches the hand-written mutants it lists, and catches a weakening that
//! every other model lets survive. Sites are found from what the model executes, never by line
//! number.

use synclab_core::model::Mutant;
use synclab_verify::models::mpmc_claims::CLAIMS;
use synclab_verify::models::mpmc_handoff::HANDOFF;
use synclab_verify::models::sem_handles::SEMAPHORE_LEDGER_HANDLES;
use synclab_verify::models::weaken::hooks::{self, Access, Op, Strength};
use synclab_verify::models::weaken::sweep::{judge, SweepOptions, Verdict};
use synclab_verify::models::{find, ModelOptions, ModelSpec};

/// The accesses in `file` with `op` and `original` that `spec` reaches (its baseline passes).
fn reached(spec: &'static ModelSpec, file: &str, op: Op, original: Strength) -> Vec<Access> {
    let (report, seen) = hooks::record(|| {
        spec.check(
            Mutant::None,
            &ModelOptions {
                preemptions: spec.default_preemptions,
            },
        )
    });
    assert!(
        report.ok,
        "baseline {} failed: {:?}",
        spec.name, report.message
    );
    seen.into_iter()
        .filter(|a| a.site.file == file && a.op == op && a.original == original)
        .collect()
}

/// The verdict of `spec` on `access` weakened to `to`, at the model's default bound.
fn verdict(spec: &'static ModelSpec, access: Access, to: Strength) -> (Verdict, Option<String>) {
    let o = SweepOptions {
        preemptions: None,
        only_reached_files: true,
        progress: false,
    };
    let row = judge(&[spec], &[0], access, to, &o);
    eprintln!(
        "{} {:?} -> {:?}: {:?}",
        row.site, access.op, to, row.verdict
    );
    (row.verdict, row.message)
}

#[test]
fn loom_mpmc_claims_ok() {
    assert!(std::ptr::eq(find("mpmc-claims").unwrap(), &CLAIMS));
    CLAIMS.assert_passes();
}

/// A relaxed publish: a consumer reads the cell the producer is writing.
#[test]
fn loom_mpmc_claims_catches_relaxed_publish() {
    CLAIMS.assert_catches(Mutant::MpmcRelaxedPublish);
}

/// The consumers' claim CASes on `dequeue_pos` (`pop_steps`, `pop_once`) without their
/// `Release` half: the other consumer reads the advanced position, finds its slot empty and
/// reads a stale `enqueue_pos`, a spurious `Corrupt` that `mpmc-consumers` never reaches.
#[test]
fn loom_mpmc_claims_catches_claim_without_release() {
    let cases = reached(
        &CLAIMS,
        "core/src/ring/mpmc/ops.rs",
        Op::Cas,
        Strength::AcqRel,
    );
    assert_eq!(
        cases.len(),
        2,
        "pop_steps' and pop_once's claims: {cases:?}"
    );
    for a in cases {
        let (v, message) = verdict(&CLAIMS, a, Strength::Acquire);
        assert_eq!(v, Verdict::Caught, "{a:?}");
        let message = message.unwrap_or_default();
        assert!(message.contains("is ahead of enqueue_pos"), "{message}");
    }
}

#[test]
fn loom_mpmc_repair_handoff_ok() {
    assert!(std::ptr::eq(find("mpmc-repair-handoff").unwrap(), &HANDOFF));
    HANDOFF.assert_passes();
}

/// Two repairers both free the dead consumer's slot (a store, not a CAS), and a repairer that
/// frees a live consumer's slot lets the producer write the cell that consumer reads.
#[test]
fn loom_mpmc_repair_handoff_catches_its_mutants() {
    HANDOFF.assert_catches(Mutant::MpmcRepairWithoutCas);
    HANDOFF.assert_catches(Mutant::MpmcRepairLiveClaimer);
}

/// The repairer's `Release` CAS of `seq` (the slot moved on to its next lap) weakened to
/// `Relaxed`: the producer that writes the freed slot is no longer ordered after the dead
/// consumer's read of it (a data race loom reports). `mpmc-repair` lets it survive: there the
/// repairer is always the writer itself, or the drain after every thread joined.
#[test]
fn loom_mpmc_repair_handoff_catches_relaxed_seq_cas() {
    let cases = reached(
        &HANDOFF,
        "core/src/ring/mpmc/repair.rs",
        Op::Cas,
        Strength::Release,
    );
    assert_eq!(cases.len(), 1, "the repairer's seq CAS: {cases:?}");
    let (v, message) = verdict(&HANDOFF, cases[0], Strength::Relaxed);
    assert_eq!(v, Verdict::Caught, "{message:?}");
}

#[test]
fn loom_sem_ledger_handles_ok() {
    assert!(std::ptr::eq(
        find("semaphore-ledger-handles").unwrap(),
        &SEMAPHORE_LEDGER_HANDLES
    ));
    SEMAPHORE_LEDGER_HANDLES.assert_passes();
}

/// A recoverer's `Relaxed` free of the slot: the claim no longer acquires the zeroing, and the
/// second handle reads the dead holder's count.
#[test]
fn loom_sem_ledger_handles_catches_relaxed_free() {
    SEMAPHORE_LEDGER_HANDLES.assert_catches(Mutant::SemLedgerRelaxedFree);
}

/// `find_owned`'s `Acquire` load of the owner word weakened to `Relaxed`: the second handle
/// finds the slot its first handle claimed but is not ordered after the recoverer's zeroing,
/// and reads the dead holder's count. (Of the ledger's `Acquire` loads this model reaches, the
/// test asks that one is caught with that failure, without naming lines.)
#[test]
fn loom_sem_ledger_handles_catches_relaxed_find_owned() {
    let loads = reached(
        &SEMAPHORE_LEDGER_HANDLES,
        "core/src/sem/ledger.rs",
        Op::Load,
        Strength::Acquire,
    );
    assert!(!loads.is_empty(), "no Acquire load of the ledger reached");
    let caught = loads.iter().any(|&a| {
        let (v, message) = verdict(&SEMAPHORE_LEDGER_HANDLES, a, Strength::Relaxed);
        v == Verdict::Caught && message.unwrap_or_default().contains("second handle sees")
    });
    assert!(
        caught,
        "no ledger load weakening shows the dead holder's count: {loads:?}"
    );
}
