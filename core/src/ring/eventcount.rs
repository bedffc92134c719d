//! An eventcount on a futex word: how a blocking ring operation parks without losing a wakeup,
//! and how the other side avoids any system call when nobody is parked.
//!
//! Protocol (a Dekker-style handshake, the two fences pairing up):
//! - waiter: `waiters += 1`; heavy fence; `key = seq`; re-check the condition; if still false,
//!   mark `seq` slept on and `futex_wait(seq, key | SLEEPER)`; `waiters -= 1`.
//! - notifier (after publishing the change, e.g. storing `tail`): light fence; if
//!   `waiters != 0` { bump `seq`; `futex_wake(seq, all)` if it was slept on }.
//!
//! Either the notifier's fence comes first in the single total order of `SeqCst` fences, and then
//! the waiter's re-check (after its fence) sees the published change; or the waiter's comes first,
//! and then the notifier sees `waiters != 0` and bumps `seq`, so the waiter's futex wait either
//! finds `seq != key` or is woken.
//!
//! While a waiter is slow to wake (60-80 µs on this VM), every publish still finds
//! `waiters != 0`. So that those publishes do not each pay a `futex_wake` system call, the low bit
//! of `seq` says "someone sleeps on this value" (`SLEEPER`; the count itself moves in steps of
//! 2): a waiter about to park sets it with a compare-and-swap on the exact value it read as its
//! key (if `seq` moved meanwhile, the CAS fails and it re-checks from the top), and parks on
//! `key | SLEEPER`. A notifier bumps the count and clears the bit in one read-modify-write, and
//! calls `futex_wake` only if the value it replaced had the bit. Every RMW of `seq` reads the
//! latest value, so a bump after a waiter set the bit either sees the bit (and wakes) or follows a
//! bump that did; and a waiter whose key is stale either fails its CAS or finds the value changed
//! when the futex checks it. (A first version kept the flag in a separate word; the loom models
//! found a lost wakeup in it: one notifier's swap could consume a flag raised for a key its own
//! bump had already produced, leaving the next notifier nothing to see.)
//!
//! The two fences of the handshake on `waiters` are `fence(SeqCst)` on both sides
//! ([`Fences::Symmetric`]), or, where every process using the eventcount has joined asymmetric
//! barriers ([`Fences::Asymmetric`]), a compiler fence for the notifier and `membarrier` for the
//! waiter (see `mem/membarrier.rs`): the notifier's fast path is then one plain load of a line
//! nobody writes while nobody waits, with no fence at all, and the cost moves to the waiter,
//! which is about to make a system call anyway.

use crate::mem::{Atomic, Deadline, Memory, Mutant, WaitOutcome};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};
use std::time::Duration;

/// Which fences pair up in the handshake (see the module docs). Every process using one
/// eventcount must use the same kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fences {
    /// `fence(SeqCst)` on both sides.
    Symmetric,
    /// [`Memory::fence_light`] for notifiers, [`Memory::fence_heavy`] for waiters; every process
    /// involved has joined ([`Memory::join_asymmetric`]).
    Asymmetric,
}

/// See the module docs. `#[repr(C)]`: lives in shared regions.
#[repr(C)]
#[allow(missing_debug_implementations)] // model internals (see `crate::model`)
pub struct EventCount<M: Memory> {
    /// The count (in steps of 2) and the [`SLEEPER`] bit; the futex word.
    seq: M::U32,
    waiters: M::U32,
}

/// The bit of `seq` that says some waiter is parked (or about to park) on its current value.
const SLEEPER: u32 = 1;

#[cfg(test)]
impl<M: Memory> EventCount<M> {
    /// `seq` and `waiters`, for the hostile tests to overwrite.
    pub(crate) fn words(&self) -> [&M::U32; 2] {
        [&self.seq, &self.waiters]
    }
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
    pub fn notify_all(&self, fences: Fences) {
        if !M::mutant(Mutant::EventcountNoFence) {
            match fences {
                Fences::Symmetric => M::fence(SeqCst),
                Fences::Asymmetric => M::fence_light(),
            }
        }
        // Relaxed: the fence above (paired with the waiter's) is what orders this load after our
        // publishing store; the load itself needs no ordering.
        if self.waiters.load(Relaxed) != 0 {
            self.wake_slow();
        }
    }

    #[cold]
    fn wake_slow(&self) {
        // Release: a waiter that reads the new `seq` as its key (Acquire) also sees what we
        // published before notifying. Bump and clear in one RMW (see the module docs).
        let mut old = self.seq.load(Relaxed);
        loop {
            let new = (old & !SLEEPER).wrapping_add(2);
            match self.seq.compare_exchange_weak(old, new, Release, Relaxed) {
                Ok(_) => break,
                Err(now) => old = now,
            }
        }
        if old & SLEEPER != 0 {
            M::wake32(&self.seq, u32::MAX);
        }
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

    /// [`EventCount::spin_until`] for a wait that also ends `slice` after it stops spinning (a
    /// blocked operation's peer check): the clock is read only once the first `M::SPIN_LIMIT`
    /// checks fail, so a wait that ends while spinning costs no clock read. False at the
    /// deadline or at the slice's end: the caller tells them apart.
    pub fn spin_sliced(
        mut ready: impl FnMut() -> bool,
        deadline: Option<Deadline>,
        slice: Option<Duration>,
    ) -> bool {
        match slice {
            // No slice (as under loom): exactly `spin_until`, no extra check to explore.
            None => Self::spin_until(ready, deadline),
            Some(_) => {
                spin(&mut ready, M::SPIN_LIMIT.max(1), M::spin_hint)
                    || Self::spin_until(ready, sliced(deadline, slice))
            }
        }
    }

    /// [`EventCount::wait_until`] with [`EventCount::spin_sliced`]'s slice.
    pub fn wait_sliced(
        &self,
        fences: Fences,
        mut ready: impl FnMut() -> bool,
        deadline: Option<Deadline>,
        slice: Option<Duration>,
    ) -> bool {
        spin(&mut ready, M::SPIN_LIMIT, M::spin_hint)
            || self.park_until(fences, ready, sliced(deadline, slice))
    }

    /// Returns once `ready()` is true (true), or when `deadline` passes first (false). Spins
    /// `M::SPIN_LIMIT` times, then parks on the futex. `ready` must only read shared state.
    pub fn wait_until(
        &self,
        fences: Fences,
        mut ready: impl FnMut() -> bool,
        deadline: Option<Deadline>,
    ) -> bool {
        spin(&mut ready, M::SPIN_LIMIT, M::spin_hint) || self.park_until(fences, ready, deadline)
    }

    /// The parking half of [`EventCount::wait_until`] (the handshake of the module docs).
    fn park_until(
        &self,
        fences: Fences,
        mut ready: impl FnMut() -> bool,
        deadline: Option<Deadline>,
    ) -> bool {
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
            if !M::mutant(Mutant::EventcountNoHeavyFence) {
                match fences {
                    Fences::Symmetric => M::fence(SeqCst),
                    Fences::Asymmetric => {
                        if !M::fence_heavy() {
                            // Without the barrier a notifier may miss us: never park, poll.
                            // Relaxed: as below.
                            self.waiters.fetch_sub(1, Relaxed);
                            std::thread::yield_now();
                            continue;
                        }
                    }
                }
            }
            // Acquire: pairs with the notifier's Release increment (see `wake_slow`).
            let key = self.seq.load(Acquire);
            if !M::mutant(Mutant::EventcountNoRecheck) && ready() {
                // Relaxed: a stale non-zero count only costs a notifier a spare wake call.
                self.waiters.fetch_sub(1, Relaxed);
                return true;
            }
            // Announce a sleeper on exactly the value read as the key. Relaxed: the CAS only
            // needs to fail if `seq` moved; what a notifier published is re-checked at the top.
            let parked_on = key | SLEEPER;
            if key & SLEEPER == 0 {
                if M::mutant(Mutant::EventcountSleeperWithoutCas) {
                    self.seq.store(parked_on, Relaxed);
                } else if self
                    .seq
                    .compare_exchange(key, parked_on, Relaxed, Relaxed)
                    .is_err()
                {
                    // Relaxed: as below.
                    self.waiters.fetch_sub(1, Relaxed);
                    continue;
                }
            }
            let outcome = M::wait32(&self.seq, parked_on, deadline);
            // Relaxed: as above.
            self.waiters.fetch_sub(1, Relaxed);
            if outcome == WaitOutcome::TimedOut {
                return ready();
            }
        }
    }
}

/// Calls `ready()` up to `times` times, `hint` between calls; whether it returned true.
fn spin(ready: &mut impl FnMut() -> bool, times: u32, hint: fn()) -> bool {
    for _ in 0..times {
        if ready() {
            return true;
        }
        hint();
    }
    false
}

/// The earlier of `deadline` and `slice` from now (the clock is read only when `slice` is set).
fn sliced(deadline: Option<Deadline>, slice: Option<Duration>) -> Option<Deadline> {
    match (slice.map(Deadline::after), deadline) {
        (Some(s), Some(d)) => Some(s.min(d)),
        (s, d) => s.or(d),
    }
}
