//! Loom models of the semaphore's holder ledger and `recover()`
//! (`synclab_verify::models::sem_ledger`): each correct model passes, and loom finds every ledger
//! mutant (ok == false). Models run the shipped `synclab_core::sem` code on `LoomMemory`, with a
//! model-controlled process table deciding who is alive. Bounds: each model's default ("preemption
//! bound K" is loom's bound), stated per test.

use synclab_core::model::Mutant;
use synclab_verify::models::find;
use synclab_verify::models::sem_ledger::{
    LEDGER_MUTANTS, SEMAPHORE_LEDGER, SEMAPHORE_LEDGER_PROCESS, SEMAPHORE_LEDGER_RECOVER_LIVE,
    SEMAPHORE_LEDGER_RECOVER_RACE, SEMAPHORE_LEDGER_REUSE,
};

/// Recover, first half: dead D's entry (its pid reused by L), 2 recoverers race (2 threads),
/// unbounded: every interleaving.
#[test]
fn loom_sem_ledger_recover_race_ok() {
    SEMAPHORE_LEDGER_RECOVER_RACE.assert_passes();
}

/// Recover-race scenario (2 threads, unbounded): a recovery lock taken with a store instead of
/// a CAS lets both recoverers in, and both return D's one permit (the second give-back finds
/// the count full: `Corrupt`).
#[test]
fn loom_sem_ledger_recover_race_catches_claim_without_cas() {
    SEMAPHORE_LEDGER_RECOVER_RACE.assert_catches(Mutant::SemLedgerClaimWithoutCas);
}

/// Recover-race scenario (2 threads, unbounded): judging liveness by pid alone, D's reused pid
/// makes D look alive and its permit is never returned (count not exact).
#[test]
fn loom_sem_ledger_recover_race_catches_pid_only() {
    SEMAPHORE_LEDGER_RECOVER_RACE.assert_catches(Mutant::SemLedgerPidOnly);
}

/// Recover, second half: L starts with dead D's pid, acquires and releases while a recoverer
/// runs (2 threads), preemption bound 3.
#[test]
fn loom_sem_ledger_recover_live_ok() {
    SEMAPHORE_LEDGER_RECOVER_LIVE.assert_passes();
}

/// Recover-live scenario (2 threads, bound 3): a Relaxed owner load lets the recoverer see L's
/// key but a pid table from before L started (D's start time), so live L is judged dead and
/// recovered (L's release: NotHeld).
#[test]
fn loom_sem_ledger_recover_live_catches_relaxed_owner_load() {
    SEMAPHORE_LEDGER_RECOVER_LIVE.assert_catches(Mutant::SemLedgerRelaxedOwnerLoad);
}

/// Recover-live scenario (2 threads, bound 3): liveness by pid alone takes L for D, so D's
/// permit is never returned (count not exact).
#[test]
fn loom_sem_ledger_recover_live_catches_pid_only() {
    SEMAPHORE_LEDGER_RECOVER_LIVE.assert_catches(Mutant::SemLedgerPidOnly);
}

/// Reuse: 1 slot, dead D's entry; newcomer N (D's pid reused) and recoverer R (2 threads),
/// unbounded: every interleaving.
#[test]
fn loom_sem_ledger_reuse_ok() {
    SEMAPHORE_LEDGER_REUSE.assert_passes();
}

/// Reuse scenario (2 threads, bound 2): a recoverer that claims with a store instead of a CAS
/// overwrites N's reclaimed entry and takes N's permit (N's release: NotHeld).
#[test]
fn loom_sem_ledger_reuse_catches_claim_without_cas() {
    SEMAPHORE_LEDGER_REUSE.assert_catches(Mutant::SemLedgerClaimWithoutCas);
}

/// Reuse scenario (2 threads, bound 2): a slot freed with a Relaxed store hands N the dead
/// holder's count (N's `held_by_me()` reads 1 before it acquired anything).
#[test]
fn loom_sem_ledger_reuse_catches_relaxed_free() {
    SEMAPHORE_LEDGER_REUSE.assert_catches(Mutant::SemLedgerRelaxedFree);
}

/// Reuse scenario (2 threads, bound 2): liveness by pid alone takes N (D's pid, reused) for D,
/// so D's entry is never recovered and N never gets the slot (count not exact).
#[test]
fn loom_sem_ledger_reuse_catches_pid_only() {
    SEMAPHORE_LEDGER_REUSE.assert_catches(Mutant::SemLedgerPidOnly);
}

/// Process: one process with 2 handles, 2 threads each acquiring through one handle and
/// releasing through the other, and a recoverer (3 threads), max 2, 2 slots, preemption bound 3.
#[test]
fn loom_sem_ledger_process_ok() {
    SEMAPHORE_LEDGER_PROCESS.assert_passes();
}

/// Process scenario (3 threads, bound 3): unserialised first-use claims give the process two
/// slots, one per handle, so one handle does not see the permits taken through the other.
#[test]
fn loom_sem_ledger_process_catches_claim_unlocked() {
    SEMAPHORE_LEDGER_PROCESS.assert_catches(Mutant::SemLedgerClaimUnlocked);
}

/// Process scenario (3 threads, bound 3): an un-record by load + store loses one of two
/// concurrent releases (the ledger keeps a permit the process no longer holds).
#[test]
fn loom_sem_ledger_process_catches_release_without_cas() {
    SEMAPHORE_LEDGER_PROCESS.assert_catches(Mutant::SemLedgerReleaseWithoutCas);
}

/// Process scenario (3 threads, bound 3): counting a process that cannot be judged as dead
/// recovers a live holder's permits while it releases them.
#[test]
fn loom_sem_ledger_process_catches_unknown_is_dead() {
    SEMAPHORE_LEDGER_PROCESS.assert_catches(Mutant::SemLedgerUnknownIsDead);
}

/// The `semaphore-ledger` spec (what `synclab model semaphore-ledger` runs: every scenario in
/// turn at bound 1) is registered, lists every ledger mutant, passes, and catches each of them;
/// every mutant is also in some scenario's list (each scenario test above catches its own).
#[test]
fn loom_sem_ledger_main_spec_passes_and_catches_every_mutant() {
    assert!(std::ptr::eq(
        find("semaphore-ledger").unwrap(),
        &SEMAPHORE_LEDGER
    ));
    let all: Vec<Mutant> = Mutant::ALL
        .iter()
        .copied()
        .filter(|m| m.name().starts_with("sem-ledger-"))
        .collect();
    assert_eq!(SEMAPHORE_LEDGER.mutants, all.as_slice());
    assert_eq!(LEDGER_MUTANTS, all.as_slice());
    let by_scenarios: Vec<Mutant> = [
        &SEMAPHORE_LEDGER_RECOVER_RACE,
        &SEMAPHORE_LEDGER_RECOVER_LIVE,
        &SEMAPHORE_LEDGER_REUSE,
        &SEMAPHORE_LEDGER_PROCESS,
    ]
    .iter()
    .flat_map(|spec| spec.mutants.iter().copied())
    .collect();
    for m in &all {
        assert!(by_scenarios.contains(m), "{} is in no scenario", m.name());
    }
    SEMAPHORE_LEDGER.assert_passes();
    for m in &all {
        SEMAPHORE_LEDGER.assert_catches(*m);
    }
}
