//! The semaphore's shipped code under shuttle (`verify/src/shuttle/`) with 6 contenders, beyond
//! loom's 4-thread models: permits 2 (max 2), five threads each taking one permit three times,
//! one taking both permits twice with `acquire_many(2)`. Random and PCT (depth 6: at depth 2-3
//! PCT misses the planted lost wakeup in 3,000 executions) schedulers, fixed seeds,
//! the iteration counts below. Every execution: occupancy (weighted by permits) never above 2,
//! the count ends at 2 with no waiter, and the acquire/release history is linearizable as a
//! semaphore of 2 permits (`synclab-lin`). A planted bug (`SemWakeOnZeroToPositive`, a lost
//! wakeup) must be found and its printed schedule must replay it.

use ::shuttle::thread;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Instant;
use synclab_core::model::{Memory, Mutant, Semaphore};
use synclab_lin::{Model, OpKind};
use synclab_verify::shuttle::record::Recorder;
use synclab_verify::shuttle::run::{explore, replay, Plan, Scheduler};
use synclab_verify::shuttle::ShuttleMemory;

const PERMITS: u32 = 2;
const SINGLES: u64 = 5;
const ROUNDS: u32 = 3;

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

/// Takes `n` permits as process `id`, holds them (occupancy checked), gives them back; each
/// call recorded.
fn hold<M: Memory>(id: u64, n: u32, sem: &Semaphore<M>, rec: &Recorder, occupied: &AtomicU32) {
    rec.record(
        id,
        || {
            if n == 1 {
                sem.acquire()
            } else {
                sem.acquire_many(n)
            }
        },
        |r| (OpKind::Acquire { n: n as u64 }, r.is_ok()),
    )
    .unwrap_or_else(|e| panic!("acquire {n}: {e}"))
    .forget();
    // SeqCst, a std atomic: no scheduling point of its own; the count is only checked here.
    let now = occupied.fetch_add(n, SeqCst) + n;
    assert!(now <= PERMITS, "{now} permits held of {PERMITS}");
    occupied.fetch_sub(n, SeqCst);
    rec.record(
        id,
        || sem.release(n),
        |r| (OpKind::Release { n: n as u64 }, r.is_ok()),
    )
    .unwrap_or_else(|e| panic!("release {n}: {e}"));
}

fn six_contenders<M: Memory>() {
    let sem = Arc::new(
        Semaphore::<M>::builder()
            .permits(PERMITS)
            .max(PERMITS)
            .heap()
            .unwrap(),
    );
    let rec = Arc::new(Recorder::new(Model::Semaphore {
        permits: PERMITS as u64,
    }));
    let occupied = Arc::new(AtomicU32::new(0));
    let mut hs = Vec::new();
    for id in 0..=SINGLES {
        let (sem, rec, occupied) = (Arc::clone(&sem), Arc::clone(&rec), Arc::clone(&occupied));
        hs.push(thread::spawn(move || {
            let (n, rounds) = if id == SINGLES { (2, 2) } else { (1, ROUNDS) };
            for _ in 0..rounds {
                hold(id, n, &sem, &rec, &occupied);
            }
        }));
    }
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(sem.value().unwrap(), PERMITS, "count must end at {PERMITS}");
    assert_eq!(sem.waiters(), 0, "no waiter may stay registered");
    if let Err(e) = rec.check() {
        panic!("{e}");
    }
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
