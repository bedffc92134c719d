//! An eventcount on a futex word: how a blocking ring operation parks without losing a wakeup,
//! and how the other side avoids any system call when nobody is parked.
//!
//! Protocol (a Dekker-style handshake, the two `SeqCst` fences pairing up):
//! - waiter: `waiters += 1`; `fence(SeqCst)`; `key = seq`; re-check the condition; if still
//!   false, `futex_wait(seq, key)`; `waiters -= 1`.
//! - notifier (after publishing the change, e.g. storing `tail`): `fence(SeqCst)`; if
//!   `waiters != 0` { `seq += 1`; `futex_wake(seq, all)` }.
//!
//! Either the notifier's fence comes first in the single total order of `SeqCst` fences, and then
//! the waiter's re-check (after its fence) sees the published change; or the waiter's comes first,
//! and then the notifier sees `waiters != 0` and bumps `seq`, so the waiter's futex wait either
//! finds `seq != key` or is woken. The fast path of a notifier is one fence and one load of a line
//! nobody writes while nobody waits.

use crate::mem::{Atomic, Deadline, Memory, Mutant, WaitOutcome};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};

/// See the module docs. `#[repr(C)]`: lives in shared regions.
#[repr(C)]
pub struct EventCount<M: Memory> {
    seq: M::U32,
    waiters: M::U32,
}

impl<M: Memory> Default for EventCount<M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M: Memory> EventCount<M> {
    /// No waiters, sequence 0.
    pub fn new() -> Self {
        EventCount {
            seq: M::U32::new(0),
            waiters: M::U32::new(0),
        }
    }

    /// Wakes every parked waiter, if any. Call after publishing the change they wait for.
    #[inline]
    pub fn notify_all(&self) {
        if !M::mutant(Mutant::EventcountNoFence) {
            M::fence(SeqCst);
        }
        // Relaxed: the SeqCst fence above (paired with the waiter's) is what orders this load
        // after our publishing store; the load itself needs no ordering.
        if self.waiters.load(Relaxed) != 0 {
            self.wake_slow();
        }
    }

    #[cold]
    fn wake_slow(&self) {
        // Release: a waiter that reads the new `seq` as its key (Acquire) also sees what we
        // published before notifying.
        self.seq.fetch_add(1, Release);
        M::wake32(&self.seq, u32::MAX);
    }

    /// Like [`EventCount::wait_until`] but never parks: spins, yielding the CPU between rounds,
    /// until `ready()` or `deadline`. For rings created with [`super::Wakeups::Spin`], whose
    /// notifiers skip the fence and the check for waiters entirely.
    pub fn spin_until(mut ready: impl FnMut() -> bool, deadline: Option<Deadline>) -> bool {
        loop {
            for _ in 0..M::SPIN_LIMIT.max(1) {
                if ready() {
                    return true;
                }
                M::spin_hint();
            }
            if deadline.is_some_and(M::expired) {
                return ready();
            }
            std::thread::yield_now();
        }
    }

    /// Returns once `ready()` is true (true), or when `deadline` passes first (false). Spins
    /// `M::SPIN_LIMIT` times, then parks on the futex. `ready` must only read shared state.
    pub fn wait_until(&self, mut ready: impl FnMut() -> bool, deadline: Option<Deadline>) -> bool {
        for _ in 0..M::SPIN_LIMIT {
            if ready() {
                return true;
            }
            M::spin_hint();
        }
        loop {
            if ready() {
                return true;
            }
            if deadline.is_some_and(M::expired) {
                return false;
            }
            // Relaxed: the fence right after orders this increment before the re-check below
            // and against the notifier's fence; `waiters` carries no data.
            self.waiters.fetch_add(1, Relaxed);
            M::fence(SeqCst);
            // Acquire: pairs with the notifier's Release increment (see `wake_slow`).
            let key = self.seq.load(Acquire);
            if !M::mutant(Mutant::EventcountNoRecheck) && ready() {
                // Relaxed: a stale non-zero count only costs a notifier a spare wake call.
                self.waiters.fetch_sub(1, Relaxed);
                return true;
            }
            let outcome = M::wait32(&self.seq, key, deadline);
            // Relaxed: as above.
            self.waiters.fetch_sub(1, Relaxed);
            if outcome == WaitOutcome::TimedOut {
                return ready();
            }
        }
    }
}
