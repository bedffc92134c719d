//! The producing end of an spsc ring: single pushes, the blocking forms, and the validated
//! reload of the consumer's `head` that every "is there room?" question ends in.

use super::Spsc;
use crate::mem::{Atomic, Deadline, Memory, Mutant, SlotCell};
use crate::ring::eventcount::Fences;
use crate::ring::pair::{PairControl, Side};
use crate::ring::RingError;
use bytemuck::Pod;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

/// The producing end. Not `Clone`: there is exactly one.
#[must_use = "dropping the handle closes its role for good (the peer sees Closed)"]
pub struct Producer<T: Pod + Send, M: Memory = crate::mem::RealMemory> {
    pub(super) ring: Spsc<T, M>,
    /// Our own index: records published so far (the shared `tail` equals it; we never read it
    /// back).
    pub(super) tail: u64,
    /// Last `head` we loaded and validated: `tail - cached_head <= capacity`.
    cached_head: u64,
    /// The ring's waiting discipline, read once at attach (it never changes after creation; a
    /// peer that flips the flags later cannot change what this handle does).
    fences: Option<Fences>,
}

impl<T: Pod + Send, M: Memory> Producer<T, M> {
    /// The handle for a producer that claimed the role and read `tail` and `head` from the
    /// region: refused as corrupt unless `tail - head <= capacity` (wrapping), so nothing a
    /// peer wrote before we attached can make us overwrite unread records or overflow.
    pub(super) fn attach(ring: Spsc<T, M>, tail: u64, head: u64) -> Result<Self, RingError> {
        let cap = ring.capacity() as u64;
        if tail.wrapping_sub(head) > cap {
            return Err(RingError::Corrupt(format!(
                "tail {tail} is {} records ahead of head {head}, more than the capacity {cap}",
                tail.wrapping_sub(head)
            )));
        }
        let fences = ring.storage.ctrl().fences();
        Ok(Producer {
            ring,
            tail,
            cached_head: head,
            fences,
        })
    }

    #[inline(always)]
    pub(super) fn ctrl(&self) -> &PairControl<M> {
        self.ring.storage.ctrl()
    }

    /// Records in the ring as far as we know (`>=` the real number).
    #[inline(always)]
    fn used(&self) -> u64 {
        self.tail.wrapping_sub(self.cached_head)
    }

    /// Whether `used` records fill the ring.
    #[inline(always)]
    fn full(&self, used: u64) -> bool {
        let cap = self.ring.capacity() as u64;
        if M::mutant(Mutant::SpscFullOffByOne) {
            used > cap
        } else {
            used >= cap
        }
    }

    /// Reloads `head` and validates it: it may only have moved forward, and not past `tail`
    /// (wrapping arithmetic: `cached_head <= head <= tail` in ring order).
    #[cold]
    #[inline(never)]
    fn reload_head(&mut self) -> Result<(), RingError> {
        // Acquire: pairs with the consumer's Release store of `head`, so its reads of the slots
        // it freed happen-before we overwrite them.
        let head = self.ctrl().head.load(Acquire);
        if head.wrapping_sub(self.cached_head) > self.used() {
            return Err(RingError::Corrupt(format!(
                "head {head} is impossible with tail {} and last head {}",
                self.tail, self.cached_head
            )));
        }
        self.cached_head = head;
        Ok(())
    }

    /// Free slots, up to `want` (`want >= 1`), reloading `head` when the cache says fewer;
    /// `Err(Full)` when none (or `Closed` when none and the consumer is gone).
    #[inline]
    pub(super) fn reserve(&mut self, want: u64) -> Result<u64, RingError> {
        let cap = self.ring.capacity() as u64;
        let used = self.used();
        if self.full(used) || cap - used < want {
            self.reload_head()?;
        }
        let used = self.used();
        if self.full(used) {
            self.check_open()?;
            return Err(RingError::Full);
        }
        // `used < cap` here (`<= cap` under the off-by-one mutant, which then claims one slot
        // it does not have: the bug the model must catch).
        Ok((cap - used).max(1).min(want))
    }

    fn check_open(&self) -> Result<(), RingError> {
        if self.ctrl().is_closed(Side::Consumer) {
            return Err(RingError::Closed);
        }
        Ok(())
    }

    /// Publishes `n` more records (written before this call).
    #[inline(always)]
    pub(super) fn publish(&mut self, n: u64) {
        self.tail = self.tail.wrapping_add(n);
        // Release: the slot writes before this happen-before the consumer's Acquire load of
        // `tail` that sees this value (or a later one).
        self.ctrl()
            .tail
            .store(self.tail, M::order(Mutant::SpscRelaxedPublish, Release));
        self.ctrl().notify_readable_with(self.fences);
    }

    /// Pushes `value` if a slot is free: `Err(Full)` otherwise, `Err(Closed)` if the consumer
    /// is gone.
    #[inline]
    pub fn try_push(&mut self, value: T) -> Result<(), RingError> {
        if self.full(self.used()) {
            self.reserve(1)?;
        }
        // SAFETY: the slot at `tail` is outside `[head, tail)` (`used < capacity`), so the
        // consumer does not read it until we publish (its last read of it happened-before our
        // Acquire load of `head`).
        unsafe { self.ring.cell(self.tail).write(value) };
        self.publish(1);
        Ok(())
    }

    /// Pushes `value`, spinning then parking while the ring is full. `Err(Closed)` if the
    /// consumer closed; `Err(PeerGone)` within about 100 ms of the consumer's process dying
    /// while this waits.
    pub fn push(&mut self, value: T) -> Result<(), RingError> {
        self.push_until(value, None)
    }

    /// Pushes `value`, waiting at most until `deadline`.
    #[inline]
    pub fn push_until(&mut self, value: T, deadline: Option<Deadline>) -> Result<(), RingError> {
        if self.full(self.used()) {
            // Out of line: the fast path below stays as small as `try_push`'s.
            return self.push_slow(value, deadline);
        }
        self.ring.prefetch_room_ahead(self.tail, self.cached_head);
        // SAFETY: as in `try_push` (`used < capacity` by the cache, which only under-counts).
        unsafe { self.ring.cell(self.tail).write(value) };
        self.publish(1);
        Ok(())
    }

    /// `push_until` once the ring was found full.
    #[cold]
    #[inline(never)]
    fn push_slow(&mut self, value: T, deadline: Option<Deadline>) -> Result<(), RingError> {
        loop {
            match self.try_push(value) {
                Err(RingError::Full) => {
                    self.wait_room(deadline)?;
                    self.gather_room();
                }
                other => return other,
            }
        }
    }

    /// After a wait for room: lets the consumer free a few lines' worth of slots (bounded, see
    /// [`Spsc::gather`]) before pushing into the first, which shares a cache line with records
    /// the consumer is still reading.
    fn gather_room(&self) {
        let target = self.ring.gather_target();
        if target == 0 {
            return;
        }
        let cap = self.ring.capacity() as u64;
        let ctrl = self.ctrl();
        // Relaxed: only a count to decide when to stop waiting; the push that follows
        // reloads `head` with Acquire before it writes a slot.
        Spsc::<T, M>::gather(target, || {
            cap.saturating_sub(self.tail.wrapping_sub(ctrl.head.load(Relaxed)))
        });
    }

    /// Waits until `head` moves from what we saw last, or the consumer closes. Call only when
    /// a reload just found the ring full.
    pub(super) fn wait_room(&self, deadline: Option<Deadline>) -> Result<(), RingError> {
        let ctrl = self.ctrl();
        // Full as of this `head`: any change means room (or corruption, which the next try
        // reports); closing wakes us to report it.
        let seen = self.cached_head;
        ctrl.wait_for_peer(
            Side::Producer,
            &*self.ring.env,
            // Acquire: as in `reload_head` (the wake-up test reads the same word).
            || ctrl.head.load(Acquire) != seen || ctrl.is_closed(Side::Consumer),
            deadline,
        )
    }

    /// Pushes all of `values`, waiting for room as needed.
    pub fn push_all(&mut self, mut values: &[T]) -> Result<(), RingError> {
        while !values.is_empty() {
            let n = self.push_slice(values)?;
            if n == 0 {
                self.push(values[0])?;
                values = &values[1..];
            } else {
                values = &values[n..];
            }
        }
        Ok(())
    }

    /// The ring.
    pub fn ring(&self) -> &Spsc<T, M> {
        &self.ring
    }
}

impl<T: Pod + Send, M: Memory> std::fmt::Debug for Producer<T, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer")
            .field("ring", &self.ring)
            .field("tail", &self.tail)
            .finish()
    }
}

impl<T: Pod + Send, M: Memory> Drop for Producer<T, M> {
    fn drop(&mut self) {
        self.ring.storage.ctrl().close(Side::Producer);
    }
}
