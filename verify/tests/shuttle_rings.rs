//! The rings' shipped code under shuttle (`verify/src/shuttle/`) at sizes loom cannot reach:
//! mpmc with 4 producers × 4 consumers, capacity 4, 100 items; spsc with 200 items through
//! capacity 4; frames with 100 variable-length frames through a 64-byte buffer. Each runs under
//! the random and the PCT scheduler with fixed seeds and the iteration counts below, and every
//! execution's history is checked by `synclab-lin` (queues) or by content checks (frames).
//! A planted bug (`MpmcClaimWithoutCas`) must be found, and the schedule shuttle prints for it
//! must replay the same failure.
//!
//! Shuttle's executions are sequentially consistent: ordering mutants (`*RelaxedPublish`) are
//! out of its reach (loom's job); see `verify/src/shuttle/mod.rs`.

use std::time::Instant;
use synclab_core::model::Mutant;
use synclab_verify::shuttle::run::{explore, replay, Failure, Plan, Scheduler};
use synclab_verify::shuttle::scenarios::{frames_many, mpmc_4x4, spsc_many};
use synclab_verify::shuttle::ShuttleMemory;

type Correct = ShuttleMemory<0>;
type ClaimWithoutCas = ShuttleMemory<{ Mutant::MpmcClaimWithoutCas as u32 }>;

/// The two plans every configuration runs: random and PCT (depth 3), fixed seeds.
fn plans(iterations: usize) -> [Plan; 2] {
    [
        Plan {
            scheduler: Scheduler::Random,
            seed: 0x5EED_0001,
            iterations,
        },
        Plan {
            scheduler: Scheduler::Pct { depth: 3 },
            seed: 0x5EED_0002,
            iterations,
        },
    ]
}

fn must_pass<F: Fn() + Send + Sync + Copy + 'static>(what: &str, iterations: usize, body: F) {
    for plan in plans(iterations) {
        let start = Instant::now();
        let ran = explore(&plan, body).unwrap_or_else(|f| panic!("{what}: {}", f.message));
        eprintln!(
            "{what}: {plan:?}: {ran} executions passed in {:.2} s",
            start.elapsed().as_secs_f64()
        );
        assert_eq!(ran, iterations, "{what}: every execution ran");
    }
}

#[test]
fn shuttle_mpmc_4_producers_4_consumers_capacity_4_100_items() {
    must_pass("mpmc 4x4 cap 4, 100 items", 500, mpmc_4x4::<Correct>);
}

#[test]
fn shuttle_spsc_200_items() {
    must_pass("spsc cap 4, 200 items", 500, spsc_many::<Correct>);
}

#[test]
fn shuttle_frames_100_frames() {
    must_pass("frames 64 B, 100 frames", 1000, frames_many::<Correct>);
}

/// Finds the planted bug under `plan`, then replays the printed schedule: the replay must fail
/// with the same panic.
fn found_and_replayed(plan: &Plan) -> Failure {
    let start = Instant::now();
    let failure = match explore(plan, mpmc_4x4::<ClaimWithoutCas>) {
        Ok(n) => panic!("{plan:?}: MpmcClaimWithoutCas survived {n} executions"),
        Err(f) => f,
    };
    eprintln!(
        "{plan:?}: found in {:.2} s: {}",
        start.elapsed().as_secs_f64(),
        failure.message.lines().last().unwrap_or_default()
    );
    let schedule = failure
        .schedule
        .clone()
        .unwrap_or_else(|| panic!("no replayable schedule in: {}", failure.message));
    let again = replay(&schedule, mpmc_4x4::<ClaimWithoutCas>)
        .expect_err("the printed schedule must replay the failure");
    assert_eq!(
        cause(&again.message),
        cause(&failure.message),
        "the replay fails the same way"
    );
    failure
}

/// What failed, without shuttle's replay instructions.
fn cause(message: &str) -> String {
    match message.split("original panic: ").nth(1) {
        Some(original) => original.to_string(),
        None => message.lines().next().unwrap_or_default().to_string(),
    }
}

#[test]
fn shuttle_finds_mpmc_claim_without_cas_and_replays_it() {
    for plan in plans(200) {
        found_and_replayed(&plan);
    }
}
