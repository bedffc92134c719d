//! The kill matrix's shuttle column (`synclab model --matrix`): each hand-written mutant whose
//! object has a shuttle scenario ([`super::scenarios`]) runs under that scenario with the same
//! schedulers, seeds and iteration counts as the shuttle tests; the verdict is **caught** (an
//! execution failed: an assertion, a non-linearizable history, a deadlock or a step limit, with
//! the plan and the execution count at which it failed) or **survived** (every execution of both
//! plans passed), with the seconds taken. Mutants of objects without a scenario (the ledger,
//! role takeover, mpmc repair, crash recovery: no process table under shuttle) and code a
//! scenario does not call (the spsc chunk API, timed waits) are **n/a**, with the reason.
//!
//! Automatic weakenings are **n/a** as a class: shuttle runs every access as `SeqCst` (its
//! executions are sequentially consistent), so a run with one ordering weakened is the correct
//! run. The two removal weakenings (a futex wake, a wait's re-check) would change behaviour
//! under shuttle too, but `ShuttleMemory` has no per-site hooks to remove one call site.

use super::run::{explore, Plan, Scheduler};
use super::scenarios::{frames_many, mpmc_4x4, six_contenders, spsc_many};
use super::ShuttleMemory;
use serde_json::{json, Value};
use std::time::Instant;
use synclab_core::model::Mutant;

/// Why a weakening gets no shuttle verdict.
pub const WEAKENING_NA: &str = "n/a: shuttle executions are sequentially consistent (every \
     ordering runs as SeqCst), so a weakened ordering runs as the correct code; ShuttleMemory has \
     no per-site hooks for the wake / re-check removals";

/// A scenario with the plans its shuttle test runs.
struct Scenario {
    name: &'static str,
    plans: [Plan; 2],
}

const fn plans(seed: u64, depth: usize, iterations: usize) -> [Plan; 2] {
    [
        Plan {
            scheduler: Scheduler::Random,
            seed,
            iterations,
        },
        Plan {
            scheduler: Scheduler::Pct { depth },
            seed: seed + 1,
            iterations,
        },
    ]
}

// The seeds, PCT depths and counts of `verify/tests/shuttle_rings.rs` and `shuttle_sem.rs`.
const MPMC: Scenario = Scenario {
    name: "mpmc 4x4 cap 4, 100 items",
    plans: plans(0x5EED_0001, 3, 500),
};
const SPSC: Scenario = Scenario {
    name: "spsc cap 4, 200 items",
    plans: plans(0x5EED_0001, 3, 500),
};
const FRAMES: Scenario = Scenario {
    name: "frames 64 B, 100 frames",
    plans: plans(0x5EED_0001, 3, 1000),
};
const SEM: Scenario = Scenario {
    name: "semaphore 2 permits, 6 contenders",
    plans: plans(0x5E4A_0001, 6, 2000),
};

/// Runs `body` under both plans of `sc` until the first failure.
fn judge(sc: &Scenario, body: fn()) -> Value {
    let start = Instant::now();
    let mut executions = 0;
    for plan in &sc.plans {
        match explore(plan, body) {
            Ok(n) => executions += n,
            Err(f) => {
                return json!({
                    "verdict": "caught",
                    "scenario": sc.name,
                    "plan": format!("{plan:?}"),
                    "executions_before": executions,
                    "seconds": start.elapsed().as_secs_f64(),
                    "message": cause(&f.message),
                    "replayable": f.schedule.is_some(),
                });
            }
        }
    }
    json!({
        "verdict": "survived",
        "scenario": sc.name,
        "executions": executions,
        "seconds": start.elapsed().as_secs_f64(),
    })
}

/// What failed, without shuttle's replay instructions.
fn cause(message: &str) -> &str {
    match message.split("original panic: ").nth(1) {
        Some(original) => original,
        None => message.lines().next().unwrap_or_default(),
    }
}

fn na(reason: &str) -> Value {
    json!({ "verdict": "n/a", "reason": reason })
}

/// The body of `$scenario` on `ShuttleMemory` with mutant `$m` (one of the listed variants).
macro_rules! body {
    ($m:expr, $scenario:ident, [$($v:ident),* $(,)?]) => {
        match $m {
            $(Mutant::$v => $scenario::<ShuttleMemory<{ Mutant::$v as u32 }>> as fn(),)*
            _ => unreachable!("listed below"),
        }
    };
}

/// The shuttle verdict for hand-written mutant `m`.
pub fn hand_written(m: Mutant) -> Value {
    use Mutant::*;
    match m {
        SpscRelaxedPublish
        | SpscFullOffByOne
        | EventcountNoRecheck
        | EventcountNoFence
        | EventcountNoHeavyFence
        | EventcountSleeperWithoutCas => judge(
            &SPSC,
            body!(
                m,
                spsc_many,
                [
                    SpscRelaxedPublish,
                    SpscFullOffByOne,
                    EventcountNoRecheck,
                    EventcountNoFence,
                    EventcountNoHeavyFence,
                    EventcountSleeperWithoutCas,
                ]
            ),
        ),
        MpmcRelaxedPublish | MpmcClaimWithoutCas => judge(
            &MPMC,
            body!(m, mpmc_4x4, [MpmcRelaxedPublish, MpmcClaimWithoutCas]),
        ),
        FramesRelaxedPublish | FramesFreeOffByOne => judge(
            &FRAMES,
            body!(m, frames_many, [FramesRelaxedPublish, FramesFreeOffByOne]),
        ),
        SemWakeOnZeroToPositive | SemSplitWordsRelaxed | SemRelaxedAcquire => judge(
            &SEM,
            body!(
                m,
                six_contenders,
                [
                    SemWakeOnZeroToPositive,
                    SemSplitWordsRelaxed,
                    SemRelaxedAcquire
                ]
            ),
        ),
        SemTimeoutSwallowsWake => na("n/a: the semaphore scenario has no timed wait"),
        SpscChunkPublishBeforeCopy | SpscChunkSecondSliceOffByOne => {
            na("n/a: the spsc scenario does not use the chunk API")
        }
        MpmcBatchUnchecked => na("n/a: the mpmc scenario does not use the batch operations"),
        SemLedgerClaimWithoutCas
        | SemLedgerPidOnly
        | SemLedgerRelaxedFree
        | SemLedgerReleaseWithoutCas
        | SemLedgerClaimUnlocked
        | SemLedgerUnknownIsDead
        | SemLedgerRelaxedOwnerLoad
        | SemCrashNoIntent
        | SemCrashTrustsDeadEntry
        | SemCrashLocalRelaxedRecord
        | RoleTakeoverWithoutCas
        | RoleTakeoverOfLiveOwner
        | MpmcRepairWithoutCas
        | MpmcRepairLiveClaimer => na(
            "n/a: no shuttle scenario for ledgers, role takeover or repair (they need the \
             loom process table)",
        ),
        SemProgressNoPriority => na(
            "n/a: a progress mutant (no safety check fails); caught by the \
             bounded-bypass check, verify/tests/progress_bypass.rs",
        ),
        None => na("n/a: not a mutant"),
    }
}

#[cfg(test)]
mod tests {
    use super::hand_written;
    use synclab_core::model::Mutant;

    /// A planted off-by-one in the frames ring is caught by its scenario (replaying schedules
    /// is tested in `verify/tests/shuttle_rings.rs`); a ledger mutant has no scenario.
    #[test]
    fn the_shuttle_column_catches_a_planted_bug_and_says_n_a_otherwise() {
        let caught = hand_written(Mutant::FramesFreeOffByOne);
        assert_eq!(caught["verdict"], "caught", "{caught}");
        let na = hand_written(Mutant::SemLedgerPidOnly);
        assert_eq!(na["verdict"], "n/a", "{na}");
    }
}
