//! Loom model of the semaphore's crash recovery (`synclab_verify::models::sem_crash`): a holder
//! stopped between any two of its steps leaks nothing after `recover()`, and loom finds both
//! crash mutants. Bound: preemption bound 2 per crash point (6 crash points).

use synclab_core::model::Mutant;
use synclab_verify::models::find;
use synclab_verify::models::sem_crash::{CRASH_MUTANTS, SEMAPHORE_CRASH};

/// Every crash point 0..=5 (0 = no crash), 3 threads (H, L, main), bound 2.
#[test]
fn loom_sem_crash_ok() {
    assert!(std::ptr::eq(
        find("semaphore-crash").unwrap(),
        &SEMAPHORE_CRASH
    ));
    SEMAPHORE_CRASH.assert_passes();
}

/// No window around the count change: L's recovery cuts live H between its CAS and its record
/// and hands H's permit out again (L's release overflows).
#[test]
fn loom_sem_crash_catches_no_intent() {
    SEMAPHORE_CRASH.assert_catches(Mutant::SemCrashNoIntent);
}

/// Recovery trusts what dead entries recorded: H killed after its CAS, before its record,
/// leaks its permit (the count ends at 1).
#[test]
fn loom_sem_crash_catches_trusts_dead_entry() {
    SEMAPHORE_CRASH.assert_catches(Mutant::SemCrashTrustsDeadEntry);
}

/// Every `sem-crash-*` mutant is this model's.
#[test]
fn loom_sem_crash_lists_every_crash_mutant() {
    let all: Vec<Mutant> = Mutant::ALL
        .iter()
        .copied()
        .filter(|m| m.name().starts_with("sem-crash-"))
        .collect();
    assert_eq!(CRASH_MUTANTS, all.as_slice());
}

/// A `LocalSemaphore`'s single-writer entry stores made `Relaxed`: L's cut sees H's record
/// without H's count CAS (too many permits: `Corrupt`), or the reverse (H's permit handed out
/// again).
#[test]
fn loom_sem_crash_catches_local_relaxed_record() {
    SEMAPHORE_CRASH.assert_catches(Mutant::SemCrashLocalRelaxedRecord);
}
