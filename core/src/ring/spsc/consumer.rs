//! The consuming end of an spsc ring: single pops, the blocking forms, and the validated
//! reload of the producer's `tail` that every "is there a record?" question ends in.

use super::Spsc;
use crate::mem::{Atomic, Deadline, Memory, SlotCell};
use crate::ring::eventcount::Fences;
use crate::ring::pair::{PairControl, Side};
use crate::ring::RingError;
use bytemuck::Pod;
use std::sync::atomic::Ordering::{Acquire, Release};

/// The consuming end. Not `Clone`: there is exactly one.
#[must_use = "dropping the handle closes its role for good (the peer sees Closed)"]
pub struct Consumer<T: Pod + Send, M: Memory = crate::mem::RealMemory> {
    pub(super) ring: Spsc<T, M>,
    /// Our own index: records consumed so far (the shared `head` equals it).
    pub(super) head: u64,
    /// Last `tail` we loaded and validated: `cached_tail - head <= capacity`.
    cached_tail: u64,
    /// The waiting discipline, read once at attach (see `Producer::fences`).
    fences: Option<Fences>,
}

impl<T: Pod + Send, M: Memory> Consumer<T, M> {
    /// The handle for a consumer that claimed the role and read `head` from the region (any
    /// value will do: `tail` is validated against it when first loaded).
    pub(super) fn attach(ring: Spsc<T, M>, head: u64) -> Self {
        let fences = ring.storage.ctrl().fences();
        Consumer {
            ring,
            head,
            cached_tail: head,
            fences,
        }
    }

    #[inline(always)]
    fn ctrl(&self) -> &PairControl<M> {
        self.ring.storage.ctrl()
    }

    /// Records published as far as we know (`<=` the real number).
    #[inline(always)]
    fn cached_len(&self) -> u64 {
        self.cached_tail.wrapping_sub(self.head)
    }

    /// Reloads `tail` and validates it: it may only have moved forward, and at most `capacity`
    /// records past `head` (wrapping arithmetic).
    #[cold]
    #[inline(never)]
    fn reload_tail(&mut self) -> Result<(), RingError> {
        // Acquire: pairs with the producer's Release store of `tail`, so the slots it published
        // are visible before we read them.
        let tail = self.ctrl().tail.load(Acquire);
        let cap = self.ring.capacity() as u64;
        let len = tail.wrapping_sub(self.head);
        if len > cap || len < self.cached_len() {
            return Err(RingError::Corrupt(format!(
                "tail {tail} is impossible with head {}, last tail {}, capacity {cap}",
                self.head, self.cached_tail
            )));
        }
        self.cached_tail = tail;
        Ok(())
    }

    /// Records available, up to `want` (`want >= 1`), reloading `tail` when the cache says
    /// fewer; `Err(Empty)` when none, or `Err(Closed)` when none and the producer is gone.
    #[inline]
    pub(super) fn available(&mut self, want: u64) -> Result<u64, RingError> {
        if self.cached_len() < want {
            self.reload_tail()?;
            if self.cached_len() == 0 {
                self.empty_or_closed()?;
            }
        }
        Ok(self.cached_len().min(want))
    }

    /// Nothing was available: `Err(Empty)`, or `Err(Closed)` if the producer is gone and
    /// nothing is left, or `Ok` if its last records arrived meanwhile.
    #[cold]
    fn empty_or_closed(&mut self) -> Result<(), RingError> {
        if !self.ctrl().is_closed(Side::Producer) {
            // The next record's line: fetched now, in parallel with the next look at `tail`,
            // it arrives one cache miss sooner for a consumer polling with `try_pop`.
            M::prefetch(self.ring.cell(self.head));
            return Err(RingError::Empty);
        }
        // The producer's last publish happened-before its close (whose flag we just read with
        // Acquire): look once more.
        self.reload_tail()?;
        if self.cached_len() == 0 {
            return Err(RingError::Closed);
        }
        Ok(())
    }

    /// Frees the `n` slots from `head` on for the producer.
    #[inline(always)]
    pub(super) fn release(&mut self, n: u64) {
        self.head = self.head.wrapping_add(n);
        // Release: our reads of the freed slots happen-before the producer's Acquire load of
        // `head` and its next writes to them.
        self.ctrl().head.store(self.head, Release);
        self.ctrl().notify_writable_with(self.fences);
    }

    /// Pops one record: `Err(Empty)` if none, `Err(Closed)` if none and the producer is gone.
    #[inline]
    pub fn try_pop(&mut self) -> Result<T, RingError> {
        if self.cached_len() == 0 {
            self.available(1)?;
        }
        self.ring.prefetch_ahead(self.head, self.cached_tail);
        // SAFETY: `head` is below the validated `tail`: the slot is published (its write
        // happened-before our Acquire load of `tail`) and the producer does not touch it until
        // we release it.
        let value = unsafe { self.ring.cell(self.head).read() };
        self.release(1);
        Ok(value)
    }

    /// Pops one record, spinning then parking while the ring is empty. `Err(Closed)` once the
    /// producer closed and everything is read; `Err(PeerGone)` within about 100 ms of the
    /// producer's process dying while this waits with nothing left to read.
    pub fn pop(&mut self) -> Result<T, RingError> {
        self.pop_until(None)
    }

    /// Pops one record, waiting at most until `deadline`.
    #[inline]
    pub fn pop_until(&mut self, deadline: Option<Deadline>) -> Result<T, RingError> {
        if self.cached_len() == 0 {
            // Out of line: the fast path below stays as small as `try_pop`'s.
            return self.pop_slow(deadline);
        }
        self.ring.prefetch_ahead(self.head, self.cached_tail);
        // SAFETY: as in `try_pop` (`head` is below the validated `cached_tail`).
        let value = unsafe { self.ring.cell(self.head).read() };
        self.release(1);
        Ok(value)
    }

    /// `pop_until` once the cached `tail` said empty: reloads it, then waits while empty.
    #[cold]
    #[inline(never)]
    fn pop_slow(&mut self, deadline: Option<Deadline>) -> Result<T, RingError> {
        loop {
            match self.try_pop() {
                Err(RingError::Empty) => self.wait_readable(deadline)?,
                other => return other,
            }
        }
    }

    /// Pops at least one and up to `out.len()` records, waiting while empty.
    pub fn pop_slice_blocking(
        &mut self,
        out: &mut [T],
        deadline: Option<Deadline>,
    ) -> Result<usize, RingError> {
        loop {
            match self.pop_slice(out)? {
                0 if !out.is_empty() => self.wait_readable(deadline)?,
                n => return Ok(n),
            }
        }
    }

    /// Waits until `tail` moves from what we saw last (a record, or corruption for the next
    /// try to report) or the producer closes.
    pub(super) fn wait_readable(&self, deadline: Option<Deadline>) -> Result<(), RingError> {
        let ctrl = self.ctrl();
        let seen = self.cached_tail;
        let next: *const M::Cell<T> = self.ring.cell(self.head);
        ctrl.wait_for_peer(
            Side::Consumer,
            &*self.ring.env,
            || {
                // As in `empty_or_closed`: the record's line travels with `tail`'s.
                M::prefetch(next);
                // Acquire: as in `reload_tail` (the wake-up test reads the same word).
                ctrl.tail.load(Acquire) != seen || ctrl.is_closed(Side::Producer)
            },
            deadline,
        )
    }

    /// The ring.
    pub fn ring(&self) -> &Spsc<T, M> {
        &self.ring
    }
}

impl<T: Pod + Send, M: Memory> std::fmt::Debug for Consumer<T, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("ring", &self.ring)
            .field("head", &self.head)
            .finish()
    }
}

impl<T: Pod + Send, M: Memory> Drop for Consumer<T, M> {
    fn drop(&mut self) {
        self.ring.storage.ctrl().close(Side::Consumer);
    }
}
