//! The semaphore's shipped code under shuttle (`verify/src/shuttle/`) with 6 contenders, beyond
//! loom's 4-thread models: permits 2 (max 2), five threads each taking one permit three times,
//! one taking both permits twice with `acquire_many(2)`. Random and PCT (depth 6: at depth 2-3
//! PCT misses the planted lost wakeup in 3,000 executions) schedulers, fixed seeds,
//! the iteration counts below. Every execution: occupancy (weighted by permits) never above 2,
//! the count ends at 2 with no waiter, and the acquire/release history is linearizable as a
//! semaphore of 2 permits (`synclab-lin`). A planted bug (`SemWakeOnZeroToPositive`, a lost
//! wakeup) must be found and its printed schedule must replay it.

use std::time::Instant;
use synclab_core::model::Mutant;
use synclab_verify::shuttle::run::{explore, replay, Plan, Scheduler};
use synclab_verify::shuttle::scenarios::six_contenders;
use synclab_verify::shuttle::ShuttleMemory;

fn plans(iterations: usize) -> [Plan; 2] {
    [
        Plan {
            scheduler: Scheduler::Random,
            seed: 0x5E4A_0001,
            iterations,
        },
        Plan {
            scheduler: Scheduler::Pct { depth: 6 },
            seed: 0x5E4A_0002,
            iterations,
        },
    ]
}

#[test]
fn shuttle_semaphore_6_contenders() {
    for plan in plans(2000) {
        let start = Instant::now();
        let ran = explore(&plan, six_contenders::<ShuttleMemory<0>>)
            .unwrap_or_else(|f| panic!("{}", f.message));
        eprintln!(
            "semaphore, 6 contenders: {plan:?}: {ran} executions passed in {:.2} s",
            start.elapsed().as_secs_f64()
        );
        assert_eq!(ran, plan.iterations);
    }
}

type WakeOnZero = ShuttleMemory<{ Mutant::SemWakeOnZeroToPositive as u32 }>;

#[test]
fn shuttle_finds_sem_wake_on_zero_to_positive_and_replays_it() {
    for plan in plans(2000) {
        let start = Instant::now();
        let failure = match explore(&plan, six_contenders::<WakeOnZero>) {
            Ok(n) => panic!("{plan:?}: SemWakeOnZeroToPositive survived {n} executions"),
            Err(f) => f,
        };
        let first = failure
            .message
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        eprintln!(
            "{plan:?}: found in {:.2} s: {first}",
            start.elapsed().as_secs_f64()
        );
        let schedule = failure
            .schedule
            .unwrap_or_else(|| panic!("no replayable schedule in: {}", failure.message));
        let again = replay(&schedule, six_contenders::<WakeOnZero>)
            .expect_err("the printed schedule must replay the failure");
        assert_eq!(
            again.message.lines().next().unwrap_or_default(),
            first,
            "the replay fails the same way"
        );
    }
}
