//! Loom models of the counting semaphore (`synclab_verify::models::sem`): each correct model
//! passes, and loom finds every mutant (ok == false). Each test states its bounds; "preemption
//! bound K" is loom's bound. Models run the shipped `synclab_core::sem` code on `LoomMemory`.

use synclab_core::model::Mutant;
use synclab_verify::models::find;
use synclab_verify::models::sem::{
    SEMAPHORE, SEMAPHORE_CLOSE, SEMAPHORE_MANY, SEMAPHORE_MUTEX, SEMAPHORE_TIMEOUT,
    SEMAPHORE_TOKEN, SEMAPHORE_WAKE, SEM_MUTANTS,
};

/// Wake: 4 threads (2 × `acquire()`, 2 × `release(1)`), count 0, max 2, preemption bound 2.
#[test]
fn loom_sem_wake_ok() {
    SEMAPHORE_WAKE.assert_passes();
}

/// Wake scenario (4 threads, bound 2): releasing only on a 0→positive transition leaves the
/// second waiter asleep (loom: deadlock).
#[test]
fn loom_sem_wake_catches_wake_on_zero_to_positive() {
    SEMAPHORE_WAKE.assert_catches(Mutant::SemWakeOnZeroToPositive);
}

/// Wake scenario (4 threads, bound 2): a waiter count read apart from the count update misses
/// a waiter that registered in between (loom: deadlock).
#[test]
fn loom_sem_wake_catches_split_words_relaxed() {
    SEMAPHORE_WAKE.assert_catches(Mutant::SemSplitWordsRelaxed);
}

/// Mutex: 2 threads, 1 permit, a shared loom cell, preemption bound 3.
#[test]
fn loom_sem_mutex_ok() {
    SEMAPHORE_MUTEX.assert_passes();
}

/// Mutex scenario (2 threads, bound 3): a `Relaxed` permit-taking CAS races on the cell.
#[test]
fn loom_sem_mutex_catches_relaxed_acquire() {
    SEMAPHORE_MUTEX.assert_catches(Mutant::SemRelaxedAcquire);
}

/// Timeout: (a) 3 threads: timed `acquire_many(2)`, `acquire()`, `release(1)` on count 0 / max 2;
/// (b) 2 threads: timed `acquire()` racing `release(1)` on count 0 / max 1. Preemption bound 3.
#[test]
fn loom_sem_timeout_ok() {
    SEMAPHORE_TIMEOUT.assert_passes();
}

/// Timeout scenario (bound 3): the timed-out token holder does not pass on the wakeup, and the
/// untimed waiter sleeps forever with a permit free (loom: deadlock).
#[test]
fn loom_sem_timeout_catches_timeout_swallows_wake() {
    SEMAPHORE_TIMEOUT.assert_catches(Mutant::SemTimeoutSwallowsWake);
}

/// Close: 3 threads (`acquire()`, `acquire_many(2)`, `close()`), count 0 / max 2, bound 3.
#[test]
fn loom_sem_close_ok() {
    SEMAPHORE_CLOSE.assert_passes();
}

/// Many: 3 threads (`acquire_many(2)`, 2 × `acquire()`, each releasing), count 2 / max 2, bound 3.
#[test]
fn loom_sem_many_ok() {
    SEMAPHORE_MANY.assert_passes();
}

/// Token: 3 threads (`acquire_many(2)`, `acquire()`, one releaser doing `release(1)` then
/// `release(2)`), count 0 / max 3, preemption bound 3.
#[test]
fn loom_sem_token_ok() {
    SEMAPHORE_TOKEN.assert_passes();
}

/// The `semaphore` spec (what `synclab model semaphore` runs) is registered, lists every sem
/// mutant but the ledger's (`loom_sem_ledger.rs`), and its run (every scenario, bound 2) catches
/// each one.
#[test]
fn loom_sem_main_spec_catches_every_mutant() {
    assert!(std::ptr::eq(find("semaphore").unwrap(), &SEMAPHORE));
    let all: Vec<Mutant> = Mutant::ALL
        .iter()
        .copied()
        .filter(|m| {
            m.name().starts_with("sem-")
                && !m.name().starts_with("sem-ledger-")
                && !m.name().starts_with("sem-crash-")
                && !m.name().starts_with("sem-progress-")
        })
        .collect();
    assert_eq!(SEMAPHORE.mutants, all.as_slice());
    assert_eq!(SEM_MUTANTS, all.as_slice());
    for m in SEMAPHORE.mutants {
        SEMAPHORE.assert_catches(*m);
    }
}

/// The `semaphore` spec's correct run: every scenario at bound 2.
#[test]
fn loom_sem_main_spec_ok() {
    SEMAPHORE.assert_passes();
}
