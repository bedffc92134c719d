//! Bounded bypass of a waiting `acquire_many` (issue 11, item 5), under loom.
//!
//! A semaphore of 2 permits; thread W calls `acquire_many(2)`; thread O runs `ROUNDS` rounds of
//! `acquire()` + `release(1)`. A round of O *bypasses* W when W was already registered as a
//! waiter when O invoked `acquire` (`waiters() > 0`, read first) and O's `acquire` returned
//! before W got its permits (W sets `done` after taking them and before giving them back, so
//! `!done` right after O's acquire means W had not taken them yet). Loom explores every
//! interleaving at preemption bound 3 and the test keeps the largest bypass count seen, for
//! 2 to 5 rounds.
//!
//! Measured (executions at bound 3 for 2/3/4/5 rounds: 630/1,947/4,996/10,625): the priority
//! token (`core/src/sem/wait.rs`: a multi-permit waiter takes it in the same CAS that registers
//! it, and no one takes permits while it is set) bounds the bypass at **0**: once W is
//! registered, O's acquire waits for W. With the mutant `sem-progress-no-priority` (the token
//! is never taken) the largest bypass is **rounds - 1** (1/2/3/4): W is bypassed in every round
//! after the one it registered in, so the count grows with O's rounds, without bound. At bound
//! 2 it is rounds - 2 (W needs preemptions to register early). No safety check fails with that
//! mutant (W gets its permits once O stops), so this check is what catches it.

use loom::sync::atomic::AtomicBool;
use loom::thread;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::Arc;
use synclab_core::model::{Memory, Mutant, Semaphore};
use synclab_verify::models::harness::{explore, ModelOptions};
use synclab_verify::models::loom_memory::LoomMemory;

/// The preemption bound.
const BOUND: usize = 3;

/// O's numbers of acquire/release rounds.
const ROUNDS: std::ops::RangeInclusive<usize> = 2..=5;

/// Explores the scenario with O running `rounds` rounds: (executions, largest bypass count).
fn max_bypass<M: Memory>(rounds: usize, preemptions: usize) -> (u64, usize) {
    // The largest bypass count of any execution (a std atomic outside loom's model; Relaxed: a
    // tally read after `explore` returns, on the thread that ran it).
    let max = Arc::new(AtomicUsize::new(0));
    let most = Arc::clone(&max);
    let e = explore(
        &ModelOptions {
            preemptions: Some(preemptions),
        },
        move || {
            let sem = Arc::new(Semaphore::<M>::builder().permits(2).max(2).heap().unwrap());
            let done = loom::sync::Arc::new(AtomicBool::new(false));
            let (s, d) = (Arc::clone(&sem), done.clone());
            let w = thread::spawn(move || {
                s.acquire_many(2).unwrap().forget();
                d.store(true, SeqCst);
                s.release(2).unwrap();
            });
            let (s, d) = (Arc::clone(&sem), done.clone());
            let o = thread::spawn(move || {
                let mut bypassed = 0;
                for _ in 0..rounds {
                    let waiting = s.waiters() > 0 && !d.load(SeqCst);
                    s.acquire().unwrap().forget();
                    if waiting && !d.load(SeqCst) {
                        bypassed += 1;
                    }
                    s.release(1).unwrap();
                }
                bypassed
            });
            w.join().unwrap();
            let bypassed = o.join().unwrap();
            most.fetch_max(bypassed, Relaxed);
            assert_eq!(sem.value().unwrap(), 2, "every permit is back");
        },
    );
    assert!(e.refused.is_none(), "loom refused: {:?}", e.refused);
    assert!(e.ok, "an interleaving failed: {:?}", e.message);
    (e.interleavings, max.load(Relaxed))
}

/// With the token: never bypassed once registered, whatever the number of rounds.
#[test]
fn progress_sem_waiting_acquire_many_is_never_bypassed() {
    for rounds in ROUNDS {
        let (executions, bypass) = max_bypass::<LoomMemory<0>>(rounds, BOUND);
        eprintln!(
            "priority token, {rounds} rounds: {executions} executions, largest bypass {bypass}"
        );
        assert!(executions > 100, "explored only {executions} executions");
        assert_eq!(
            bypass, 0,
            "a registered acquire_many(2) waiter was bypassed"
        );
    }
}

/// Without the token (mutant caught): bypassed in every round but the first (W can only
/// register while O holds a permit, i.e. during a round), so the bypass count grows with the
/// number of rounds: no bound.
#[test]
fn progress_sem_without_priority_token_is_bypassed_every_round() {
    const NO_PRIO: u32 = Mutant::SemProgressNoPriority as u32;
    for rounds in ROUNDS {
        let (executions, bypass) = max_bypass::<LoomMemory<NO_PRIO>>(rounds, BOUND);
        eprintln!(
            "sem-progress-no-priority, {rounds} rounds: {executions} executions, largest bypass \
             {bypass}"
        );
        assert_eq!(
            bypass,
            rounds - 1,
            "without the token the waiter must be bypassed in every round after it registered"
        );
    }
}
