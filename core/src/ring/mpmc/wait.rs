//! How a blocked `push_until` / `pop_until` waits: a short spin, then a bounded phase of
//! `sched_yield`s ([`Memory::YIELD_LIMIT`]), then the eventcount (spin, then park on the futex)
//! in slices of `PEER_CHECK_INTERVAL`, repairing the awaited slot after a slice with no change.
//!
//! The yield phase is for machines with more workers than CPUs (the bench's 2+2 and 4+4 on 2
//! vCPUs): the process that will free a slot or publish a record is then often runnable on this
//! very CPU, and a spin only burns the time slice it needs, while parking makes every notifier
//! pay a compare-and-swap on the eventcount (and a `futex` wake) until the waiter leaves.

use super::Mpmc;
use crate::mem::{Atomic, Deadline, Memory};
use crate::ring::eventcount::EventCount;
use crate::ring::RingError;
use bytemuck::Pod;
use std::sync::atomic::Ordering::Relaxed;

/// Checks of `ready` (with a spin hint between them) before the yield phase.
const SPIN_FIRST: u32 = 64;

impl<T: Pod + Send, M: Memory> Mpmc<T, M> {
    /// One round of waiting while the queue looks full (or until it closes), repairing the slot
    /// at the enqueue position if its holder died; shared by `push_until` and
    /// `push_slice_until`.
    pub(super) fn wait_room(&self, deadline: Option<Deadline>) -> Result<(), RingError> {
        let ready = || !self.looks_full() || self.is_closed();
        // Relaxed: the position only picks the slot to inspect; `repair_at` validates.
        let at = || self.ctrl().enqueue_pos.load(Relaxed);
        self.wait_or_repair(&self.ctrl().not_full, ready, at, deadline)
    }

    /// [`Mpmc::wait_room`]'s twin for consumers: waits while the queue looks empty.
    pub(super) fn wait_records(&self, deadline: Option<Deadline>) -> Result<(), RingError> {
        let ready = || !self.looks_empty() || self.is_closed();
        // Relaxed: as in `wait_room`.
        let at = || self.ctrl().dequeue_pos.load(Relaxed);
        self.wait_or_repair(&self.ctrl().not_empty, ready, at, deadline)
    }

    /// One round of a blocking form's wait: `Ok` when `ready()` (or a repair) says to try again,
    /// `TimedOut` at `deadline`. Waits in slices of `M::PEER_CHECK_INTERVAL`; after a slice with
    /// no change, repairs the slot of position `at()` if its holder died.
    #[cold]
    pub(super) fn wait_or_repair(
        &self,
        ec: &EventCount<M>,
        mut ready: impl FnMut() -> bool,
        at: impl Fn() -> u64,
        deadline: Option<Deadline>,
    ) -> Result<(), RingError> {
        // Checked before waiting: a hostile peer can make `ready` true while the operation keeps
        // failing, and this loop must still end at the deadline.
        if deadline.is_some_and(M::expired) {
            return Err(RingError::TimedOut);
        }
        if yield_phase::<M>(&mut ready) {
            return Ok(());
        }
        let slice = M::PEER_CHECK_INTERVAL;
        if ec.wait_sliced(self.fences(), ready, deadline, slice) {
            return Ok(());
        }
        if deadline.is_some_and(M::expired) || slice.is_none() {
            return Err(RingError::TimedOut);
        }
        self.repair_at(at())?;
        Ok(())
    }
}

/// Spins [`SPIN_FIRST`] checks, then yields the CPU up to `M::YIELD_LIMIT` times, checking after
/// each; whether `ready()` became true. Nothing at all when `M::YIELD_LIMIT` is 0 (loom: the
/// eventcount's own spin is what the models explore). Bounded: at most `SPIN_FIRST` +
/// `YIELD_LIMIT` checks, so the caller's deadline check comes soon after.
fn yield_phase<M: Memory>(ready: &mut impl FnMut() -> bool) -> bool {
    if M::YIELD_LIMIT == 0 {
        return false;
    }
    for _ in 0..SPIN_FIRST {
        if ready() {
            return true;
        }
        M::spin_hint();
    }
    for _ in 0..M::YIELD_LIMIT {
        std::thread::yield_now();
        if ready() {
            return true;
        }
    }
    false
}
