//! Loom model of the mpmc slot repair after a producer's or consumer's death
//! (`verify/src/models/mpmc_repair.rs`, bounds in its module docs): it passes, and both repair
//! mutants are caught.

use synclab_core::model::Mutant;
use synclab_verify::models::mpmc_repair::REPAIR;

/// A producer or consumer dies holding a slot; survivors push, pop and repair at once.
#[test]
fn loom_mpmc_repair() {
    REPAIR.assert_passes();
}

/// A repair by plain stores lets a stale repairer undo a newer holder's publish.
#[test]
fn loom_mutant_mpmc_repair_without_cas_is_caught() {
    REPAIR.assert_catches(Mutant::MpmcRepairWithoutCas);
}

/// A repair that does not ask about liveness tombstones a live producer's slot.
#[test]
fn loom_mutant_mpmc_repair_live_claimer_is_caught() {
    REPAIR.assert_catches(Mutant::MpmcRepairLiveClaimer);
}
