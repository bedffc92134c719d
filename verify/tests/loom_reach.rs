//! The two loom models added so that every ordering site `--weaken-all` lists is reached
//! (README "Weakening every ordering"): `spsc-fenced` (a `Wakeups::FutexFenced` ring: the
//! eventcounts' symmetric-fence handshake) and `semaphore-token-recover` (a multi-permit waiter
//! dies owning the priority token). Each passes above its exploration floor and catches the
//! mutants it lists; the open core finding of `sem_token.rs` is asserted as still failing.

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

/// The open core finding (`verify/src/models/sem_token.rs` module docs): a recoverer racing
/// the token-setting CAS leaks the dead waiter's registration. This asserts that correct code
/// still fails the way documented; once `register`'s CAS is `Release` it passes, and this test
/// must flip (and the scenario join `semaphore-token-recover`).
#[test]
fn loom_sem_token_recover_race_is_an_open_finding() {
    let e = concurrent_recover_at_token_bit(&ModelOptions {
        preemptions: Some(2),
    });
    assert!(e.refused.is_none(), "loom refused: {:?}", e.refused);
    assert!(
        !e.ok,
        "the token-bit race no longer fails: core was fixed, make this a passing scenario"
    );
    let msg = e.message.unwrap_or_default();
    assert!(
        msg.contains("registration must be dropped exactly once"),
        "it fails another way: {msg}"
    );
}
