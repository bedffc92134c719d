//! Loom models of the counting semaphore (`synclab_core::sem`), run on the shipped code through
//! `LoomMemory`.
//!
//! Scenarios (each actor in its own spawned loom thread; main only spawns and joins):
//! - **wake**: count 0 (max 2); two `acquire()`s, two `release(1)`s. Every waiter must finish
//!   (a lost wakeup is a loom deadlock), and the count ends at 0 with no waiter registered.
//! - **mutex**: count 1 (max 1); two threads each `acquire`, write a shared loom cell, `release`.
//!   At most 1 holder at every instant (an occupancy counter), and the cell accesses must be
//!   ordered (loom reports a data race otherwise).
//! - **timeout**: (a) count 0 (max 2): `acquire_many_until(2, d)` (takes the priority token),
//!   `acquire()`, `release(1)`; the timed acquire must time out, the untimed one must finish,
//!   and the count ends at 0. (b) count 0 (max 1): `acquire_until(d)` races `release(1)`: the
//!   count ends exact (0 if the acquire won, 1 if it timed out). Loom times a deadline wait out at
//!   every point where it would sleep.
//! - **close**: count 0 (max 2): `acquire()`, `acquire_many(2)` and `close()`: both acquires
//!   return `Closed`, and no waiter or token is left behind.
//! - **many**: count 2 (max 2): `acquire_many(2)`/`release(2)` against two `acquire()`/`release(1)`
//!   threads: occupancy (weighted by permits) never exceeds 2, and the count ends at 2.

use super::harness::{explore, in_turn, Explored, ModelOptions, ModelSpec};
use super::loom_memory::LoomCell;
use crate::model_runners;
use loom::sync::atomic::AtomicU32;
use loom::thread;
// The occupancy counters are Relaxed on purpose: stronger orderings would synchronize the holders
// themselves and hide a semaphore that fails to (a Relaxed RMW chain is still one total order per
// counter, and the semaphore's own Acquire/Release orders one holder's decrement before the
// next holder's increment).
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use synclab_core::model::Semaphore;
use synclab_core::model::{Deadline, Memory, Mutant, SlotCell};
use synclab_core::SemError;

/// Every semaphore mutant.
pub const SEM_MUTANTS: &[Mutant] = &[
    Mutant::SemWakeOnZeroToPositive,
    Mutant::SemSplitWordsRelaxed,
    Mutant::SemTimeoutSwallowsWake,
    Mutant::SemRelaxedAcquire,
];

/// Under loom time never passes; any deadline makes a wait time out at a point loom chooses.
const DEADLINE: Deadline = Deadline::from_monotonic_ns(u64::MAX / 2);

fn join_all(handles: Vec<thread::JoinHandle<()>>) {
    for h in handles {
        h.join().unwrap();
    }
}

fn wake_model<M: Memory>(opts: &ModelOptions) -> Explored {
    explore(opts, || {
        let sem = Arc::new(Semaphore::<M>::builder().permits(0).max(2).heap().unwrap());
        let mut hs = Vec::new();
        for _ in 0..2 {
            let s = Arc::clone(&sem);
            hs.push(thread::spawn(move || s.acquire().unwrap().forget()));
        }
        for _ in 0..2 {
            let s = Arc::clone(&sem);
            hs.push(thread::spawn(move || s.release(1).unwrap()));
        }
        join_all(hs);
        assert_eq!(sem.value().unwrap(), 0, "count must end at 0");
        assert_eq!(sem.waiters(), 0, "no waiter may stay registered");
    })
}

fn mutex_model<M: Memory>(opts: &ModelOptions) -> Explored {
    explore(opts, || {
        let sem = Arc::new(Semaphore::<M>::builder().permits(1).max(1).heap().unwrap());
        let holders = Arc::new(AtomicU32::new(0));
        let data = Arc::new(LoomCell::<u32>::new(0));
        let hs = (0..2)
            .map(|_| {
                let (s, holders, data) =
                    (Arc::clone(&sem), Arc::clone(&holders), Arc::clone(&data));
                thread::spawn(move || {
                    let p = s.acquire().unwrap();
                    let now = holders.fetch_add(1, Relaxed) + 1;
                    assert!(now <= 1, "{now} holders of 1 permit");
                    // SAFETY: the semaphore (1 permit) is the only thing that orders these
                    // accesses; loom reports a data race if it does not.
                    unsafe { data.write(data.read() + 1) };
                    holders.fetch_sub(1, Relaxed);
                    drop(p);
                })
            })
            .collect();
        join_all(hs);
        // SAFETY: both writers were joined.
        assert_eq!(unsafe { data.read() }, 2);
        assert_eq!(sem.value().unwrap(), 1);
    })
}

fn timeout_model<M: Memory>(opts: &ModelOptions) -> Explored {
    let a = explore(opts, || {
        let sem = Arc::new(Semaphore::<M>::builder().permits(0).max(2).heap().unwrap());
        let s1 = Arc::clone(&sem);
        let timed = thread::spawn(move || {
            let r = s1.acquire_many_until(2, DEADLINE).map(|p| p.forget());
            assert!(
                matches!(r, Err(SemError::TimedOut)),
                "only 1 permit exists: {r:?}"
            );
        });
        let s2 = Arc::clone(&sem);
        let untimed = thread::spawn(move || s2.acquire().unwrap().forget());
        let s3 = Arc::clone(&sem);
        let releaser = thread::spawn(move || s3.release(1).unwrap());
        join_all(vec![timed, untimed, releaser]);
        assert_eq!(sem.value().unwrap(), 0);
        assert_eq!(sem.waiters(), 0);
        assert!(sem.try_acquire().is_err(), "no permit and no stale token");
        sem.release(1).unwrap();
        sem.try_acquire().expect("the token must be gone").forget();
    });
    if !a.ok || a.refused.is_some() {
        return a;
    }
    let b = explore(opts, || {
        let sem = Arc::new(Semaphore::<M>::builder().permits(0).max(1).heap().unwrap());
        let s1 = Arc::clone(&sem);
        let timed = thread::spawn(move || s1.acquire_until(DEADLINE).map(|p| p.forget()).is_ok());
        let s2 = Arc::clone(&sem);
        let releaser = thread::spawn(move || s2.release(1).unwrap());
        let got = timed.join().unwrap();
        releaser.join().unwrap();
        assert_eq!(
            sem.value().unwrap(),
            if got { 0 } else { 1 },
            "count must be exact"
        );
        assert_eq!(sem.waiters(), 0);
    });
    Explored {
        ok: b.ok,
        refused: b.refused,
        interleavings: a.interleavings + b.interleavings,
        message: b.message,
    }
}

fn close_model<M: Memory>(opts: &ModelOptions) -> Explored {
    explore(opts, || {
        let sem = Arc::new(Semaphore::<M>::builder().permits(0).max(2).heap().unwrap());
        let s1 = Arc::clone(&sem);
        let one = thread::spawn(move || {
            let r = s1.acquire().map(|p| p.forget());
            assert!(matches!(r, Err(SemError::Closed)), "{r:?}");
        });
        let s2 = Arc::clone(&sem);
        let many = thread::spawn(move || {
            let r = s2.acquire_many(2).map(|p| p.forget());
            assert!(matches!(r, Err(SemError::Closed)), "{r:?}");
        });
        let s3 = Arc::clone(&sem);
        let closer = thread::spawn(move || s3.close());
        join_all(vec![one, many, closer]);
        assert_eq!(sem.waiters(), 0);
        assert_eq!(sem.value().unwrap(), 0);
    })
}

fn token_model<M: Memory>(opts: &ModelOptions) -> Explored {
    explore(opts, || {
        let sem = Arc::new(Semaphore::<M>::builder().permits(0).max(3).heap().unwrap());
        let s1 = Arc::clone(&sem);
        let many = thread::spawn(move || s1.acquire_many(2).unwrap().forget());
        let s2 = Arc::clone(&sem);
        let one = thread::spawn(move || s2.acquire().unwrap().forget());
        let s3 = Arc::clone(&sem);
        let releaser = thread::spawn(move || {
            s3.release(1).unwrap();
            s3.release(2).unwrap();
        });
        join_all(vec![many, one, releaser]);
        assert_eq!(sem.value().unwrap(), 0, "3 permits released, 3 taken");
        assert_eq!(sem.waiters(), 0);
        sem.release(1).unwrap();
        sem.try_acquire().expect("no stale priority token").forget();
    })
}

fn many_model<M: Memory>(opts: &ModelOptions) -> Explored {
    explore(opts, || {
        let sem = Arc::new(Semaphore::<M>::builder().permits(2).max(2).heap().unwrap());
        let holders = Arc::new(AtomicU32::new(0));
        let hs = [2u32, 1, 1]
            .into_iter()
            .map(|n| {
                let (s, holders) = (Arc::clone(&sem), Arc::clone(&holders));
                thread::spawn(move || {
                    let p = s.acquire_many(n).unwrap();
                    let now = holders.fetch_add(n, Relaxed) + n;
                    assert!(now <= 2, "{now} permits held of 2");
                    holders.fetch_sub(n, Relaxed);
                    drop(p);
                })
            })
            .collect();
        join_all(hs);
        assert_eq!(sem.value().unwrap(), 2);
        assert_eq!(sem.waiters(), 0);
    })
}

model_runners!(
    mutants = [
        SemWakeOnZeroToPositive,
        SemSplitWordsRelaxed,
        SemTimeoutSwallowsWake,
        SemRelaxedAcquire
    ],
    run_wake => wake_model,
    run_mutex => mutex_model,
    run_timeout => timeout_model,
    run_close => close_model,
    run_many => many_model,
    run_token => token_model,
);

fn run_all(m: Mutant, opts: &ModelOptions) -> Explored {
    in_turn(
        &[
            run_mutex,
            run_timeout,
            run_wake,
            run_close,
            run_many,
            run_token,
        ],
        m,
        opts,
    )
}

/// All semaphore scenarios in turn (mutex, timeout, wake, close, many: cheapest first, so a
/// mutant is usually found fast); every sem mutant.
pub static SEMAPHORE: ModelSpec = ModelSpec {
    name: "semaphore",
    about: "counting semaphore: every scenario below in turn (mutex: 2 holders of 1 permit with \
            a shared cell; timeout: timed acquire_many(2) + acquire + release(1), and timed \
            acquire racing release; wake: 2 acquirers + 2 single releases on count 0; \
            close: acquire + acquire_many(2) + close; many: acquire_many(2) vs 2 single \
            acquirers on 2 permits; token: acquire_many(2) + acquire + release(1);release(2) \
            on count 0 / max 3); preemption bound 2",
    default_preemptions: Some(2),
    mutants: SEM_MUTANTS,
    run: run_all,
};

/// The lost-wakeup scenario.
pub static SEMAPHORE_WAKE: ModelSpec = ModelSpec {
    name: "semaphore-wake",
    about: "count 0, max 2: two acquire() + two release(1), 4 threads; all waiters finish, count \
            ends 0; preemption bound 2 (bound 3: 1.9M interleavings, 220 s)",
    default_preemptions: Some(2),
    mutants: &[
        Mutant::SemWakeOnZeroToPositive,
        Mutant::SemSplitWordsRelaxed,
    ],
    run: run_wake,
};

/// Mutual exclusion with a shared cell.
pub static SEMAPHORE_MUTEX: ModelSpec = ModelSpec {
    name: "semaphore-mutex",
    about: "count 1, max 1: two threads acquire, write a shared cell, release; at most 1 holder, \
            no data race; preemption bound 3",
    default_preemptions: Some(3),
    mutants: &[Mutant::SemRelaxedAcquire],
    run: run_mutex,
};

/// Timeouts racing releases.
pub static SEMAPHORE_TIMEOUT: ModelSpec = ModelSpec {
    name: "semaphore-timeout",
    about: "timed acquire_many(2) (priority token) + acquire() + release(1) on count 0/max 2; and \
            timed acquire() racing release(1) on count 0/max 1: untimed waiter finishes, counts \
            exact; preemption bound 3",
    default_preemptions: Some(3),
    mutants: &[Mutant::SemTimeoutSwallowsWake],
    run: run_timeout,
};

/// Close wakes everyone.
pub static SEMAPHORE_CLOSE: ModelSpec = ModelSpec {
    name: "semaphore-close",
    about: "count 0, max 2: acquire() + acquire_many(2) + close(): both return Closed, no waiter \
            or token left; preemption bound 3",
    default_preemptions: Some(3),
    mutants: &[],
    run: run_close,
};

/// acquire_many against single acquirers.
pub static SEMAPHORE_MANY: ModelSpec = ModelSpec {
    name: "semaphore-many",
    about: "count 2, max 2: acquire_many(2)/release(2) vs two acquire()/release(1): weighted \
            occupancy <= 2, count ends 2; preemption bound 3",
    default_preemptions: Some(3),
    mutants: &[],
    run: run_many,
};

/// The priority token passing between a multi-permit waiter and a single waiter.
pub static SEMAPHORE_TOKEN: ModelSpec = ModelSpec {
    name: "semaphore-token",
    about: "count 0, max 3: acquire_many(2) + acquire() + one thread release(1);release(2), \
            3 threads: \
            all finish, no token left; preemption bound 3",
    default_preemptions: Some(3),
    mutants: &[],
    run: run_token,
};
