//! Loom model of the eventcount the blocking rings park on.
//!
//! `eventcount` bounds: one flag word, two waiter threads blocked until the flag is set, one
//! notifier thread that sets it and calls `notify_all`. Checked: both waiters return (no lost
//! wakeup: a waiter left parked is a loom deadlock) and each sees the flag set.
//!
//! `eventcount-rounds` bounds: one waiter that waits three times in a row (for the counter to
//! reach 1, then 2, then 3), one notifier that raises the counter three times, notifying after
//! each; preemption bound 3. The rounds matter: a notifier's wakeup can be in flight while the
//! waiter already parks again (this is the model that found the flaw in a first design of the
//! sleeper bit, see `core/src/ring/eventcount.rs`).
//!
//! The model runs the asymmetric-barrier path (`Fences::Asymmetric`), which the shipped rings use
//! wherever `membarrier` is available; under loom both of its halves are `SeqCst` fences (see
//! `LoomMemory::fence_light`), so the symmetric path is the same model.

use super::harness::{explore, Explored, ModelOptions, ModelSpec};
use crate::model_runners;
// std `Arc`, not loom's: when loom reports a deadlock it unwinds the blocked threads, and a loom
// `Arc` dropped during that cleanup panics again and aborts the process.
use loom::thread;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::sync::Arc;
use synclab_core::model::{Atomic, Memory, Mutant};
use synclab_core::model::{EventCount, Fences};

/// Every eventcount mutant; both models must catch each.
const MUTANTS: &[Mutant] = &[
    Mutant::EventcountNoRecheck,
    Mutant::EventcountNoFence,
    Mutant::EventcountNoHeavyFence,
    Mutant::EventcountSleeperWithoutCas,
];

model_runners!(
    mutants = [
        EventcountNoRecheck,
        EventcountNoFence,
        EventcountNoHeavyFence,
        EventcountSleeperWithoutCas
    ],
    run_wakeup => wakeup,
    run_rounds => rounds,
);

/// Two waiters, one notifier.
pub static WAKEUP: ModelSpec = ModelSpec {
    name: "eventcount",
    about: "eventcount: 2 waiters park until a flag is set, 1 notifier sets it and notifies",
    default_preemptions: Some(2),
    mutants: MUTANTS,
    run: run_wakeup,
};

/// One waiter, one notifier, three rounds.
pub static ROUNDS: ModelSpec = ModelSpec {
    name: "eventcount-rounds",
    about:
        "eventcount: 1 waiter waits for 3 successive counter values, 1 notifier raises it 3 times",
    default_preemptions: Some(3),
    mutants: MUTANTS,
    run: run_rounds,
};

const ROUND_COUNT: u32 = 3;

fn rounds<M: Memory>(o: &ModelOptions) -> Explored {
    explore(o, || {
        let s = Arc::new(Shared::<M> {
            flag: M::U32::new(0),
            ec: EventCount::new(),
        });
        let w = {
            let s = Arc::clone(&s);
            thread::spawn(move || {
                for r in 1..=ROUND_COUNT {
                    // Acquire: pairs with the notifier's Release store of the counter.
                    let ready = || s.flag.load(Acquire) >= r;
                    assert!(s.ec.wait_until(Fences::Asymmetric, ready, None));
                }
            })
        };
        let n = {
            let s = Arc::clone(&s);
            thread::spawn(move || {
                for r in 1..=ROUND_COUNT {
                    s.flag.store(r, Release);
                    s.ec.notify_all(Fences::Asymmetric);
                }
            })
        };
        n.join().unwrap();
        w.join().unwrap();
    })
}

struct Shared<M: Memory> {
    flag: M::U32,
    ec: EventCount<M>,
}

fn wakeup<M: Memory>(o: &ModelOptions) -> Explored {
    explore(o, || {
        let s = Arc::new(Shared::<M> {
            flag: M::U32::new(0),
            ec: EventCount::new(),
        });
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let s = Arc::clone(&s);
                thread::spawn(move || {
                    // Acquire: pairs with the notifier's Release store of the flag.
                    assert!(s.ec.wait_until(
                        Fences::Asymmetric,
                        || s.flag.load(Acquire) == 1,
                        None
                    ));
                })
            })
            .collect();
        let n = {
            let s = Arc::clone(&s);
            thread::spawn(move || {
                s.flag.store(1, Release);
                s.ec.notify_all(Fences::Asymmetric);
            })
        };
        n.join().unwrap();
        for w in waiters {
            w.join().unwrap();
        }
    })
}
