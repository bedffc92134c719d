//! Loom model of ring role takeover after a crash (`verify/src/models/takeover.rs`, bounds in
//! its module docs): it passes, and both takeover mutants are caught.

use synclab_core::model::Mutant;
use synclab_verify::models::takeover::TAKEOVER;

/// Crash at any point between the dead consumer's calls; two takers race; pid reuse.
#[test]
fn loom_spsc_takeover() {
    TAKEOVER.assert_passes();
}

/// A takeover by plain store lets two processes that judged the owner dead both win.
#[test]
fn loom_mutant_role_takeover_without_cas_is_caught() {
    TAKEOVER.assert_catches(Mutant::RoleTakeoverWithoutCas);
}

/// A claim that does not ask about liveness takes a live owner's role.
#[test]
fn loom_mutant_role_takeover_of_live_owner_is_caught() {
    TAKEOVER.assert_catches(Mutant::RoleTakeoverOfLiveOwner);
}
