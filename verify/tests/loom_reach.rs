//! The two loom models added so that every ordering site `--weaken-all` lists is reached
//! (README "Weakening every ordering"): `spsc-fenced` (a `Wakeups::FutexFenced` ring: the
//! eventcounts' symmetric-fence handshake) and `semaphore-token-recover` (a multi-permit waiter
//! dies owning the priority token). Each passes above its exploration floor and catches the
//! mutants it lists; the race that found a real ordering bug in `register` now passes.

use synclab_core::model::Mutant;
use synclab_verify::models::sem_token::{concurrent_recover_at_token_bit, SEMAPHORE_TOKEN_RECOVER};
use synclab_verify::models::spsc::FENCED;
use synclab_verify::models::{find, ModelOptions};

#[test]
fn loom_spsc_fenced_ok() {
    assert!(std::ptr::eq(find("spsc-fenced").unwrap(), &FENCED));
    FENCED.assert_passes();
}

/// A relaxed publish: the consumer reads a payload cell the producer is writing (loom's
/// causality check).
#[test]
fn loom_spsc_fenced_catches_relaxed_publish() {
    FENCED.assert_catches(Mutant::SpscRelaxedPublish);
}

/// Either half of the symmetric `SeqCst` fence pair removed: a lost wakeup (loom deadlock).
#[test]
fn loom_spsc_fenced_catches_missing_fences() {
    FENCED.assert_catches(Mutant::EventcountNoFence);
    FENCED.assert_catches(Mutant::EventcountNoHeavyFence);
}

#[test]
fn loom_sem_token_recover_ok() {
    assert!(std::ptr::eq(
        find("semaphore-token-recover").unwrap(),
        &SEMAPHORE_TOKEN_RECOVER
    ));
    SEMAPHORE_TOKEN_RECOVER.assert_passes();
}

/// Liveness judged by pid alone: the dead owner's reused pid keeps its token, L waits forever.
#[test]
fn loom_sem_token_recover_catches_pid_only() {
    SEMAPHORE_TOKEN_RECOVER.assert_catches(Mutant::SemLedgerPidOnly);
}

/// The race that found `register`'s Relaxed token-bit CAS (`verify/src/models/sem_token.rs`
/// module docs): a recoverer racing the dying owner's CAS. Correct code passes now; the test
/// also asserts that the scenario explores (a refused or empty run would prove nothing).
#[test]
fn loom_sem_token_recover_race_with_death_passes() {
    let e = concurrent_recover_at_token_bit(&ModelOptions {
        preemptions: Some(2),
    });
    assert!(e.refused.is_none(), "loom refused: {:?}", e.refused);
    assert!(e.ok, "the token-bit race fails: {:?}", e.message);
    assert!(e.interleavings > 1, "explored {}", e.interleavings);
}
