//! Loom model of the eventcount the blocking rings park on.
//!
//! Bounds: one flag word, two waiter threads blocked until the flag is set, one notifier thread
//! that sets it and calls `notify_all`. Checked: both waiters return (no lost wakeup: a waiter
//! left parked is a loom deadlock) and each sees the flag set.
//!
//! The model runs the asymmetric-barrier path (`Fences::Asymmetric`), which the shipped rings use
//! wherever `membarrier` is available; under loom both of its halves are `SeqCst` fences (see
//! `LoomMemory::fence_light`), so the symmetric path is the same model.

use super::harness::{explore, Explored, ModelOptions, ModelSpec};
use crate::mutant_dispatch;
// std `Arc`, not loom's: when loom reports a deadlock it unwinds the blocked threads, and a loom
// `Arc` dropped during that cleanup panics again and aborts the process.
use loom::thread;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::sync::Arc;
use synclab_core::mem::{Atomic, Memory, Mutant};
use synclab_core::ring::eventcount::{EventCount, Fences};

/// Two waiters, one notifier.
pub static WAKEUP: ModelSpec = ModelSpec {
    name: "eventcount",
    about: "eventcount: 2 waiters park until a flag is set, 1 notifier sets it and notifies",
    default_preemptions: Some(2),
    mutants: &[
        Mutant::EventcountNoRecheck,
        Mutant::EventcountNoFence,
        Mutant::EventcountNoHeavyFence,
    ],
    run: |m, o| {
        mutant_dispatch!(
            m,
            o,
            wakeup,
            [
                EventcountNoRecheck,
                EventcountNoFence,
                EventcountNoHeavyFence
            ]
        )
    },
};

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
