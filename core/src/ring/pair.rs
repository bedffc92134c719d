//! The control block shared by the two single-producer single-consumer rings (`spsc` counts
//! slots, `frames` counts bytes): the two indices on their own lines, the two eventcounts, and
//! the role/close flags; plus the validated index loads both rings use.
//!
//! `tail` (written only by the producer) and `head` (only by the consumer) are `u64` counters
//! that never wrap in practice (2^64 items at 10^9/s is 584 years). The position in the buffer is
//! `index % capacity`. Each side keeps a private copy of the other's index and reloads it only
//! when the cached value says full/empty: the fast path touches no line the other side writes.

use super::eventcount::{EventCount, Fences};
use super::line::Line;
use super::RingError;
use crate::mem::{Atomic, Deadline, Memory};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};

/// Flag: a producer attached.
const PRODUCER: u32 = 1;
/// Flag: a consumer attached.
const CONSUMER: u32 = 2;
/// Flag: the producer closed (dropped its handle).
const PRODUCER_CLOSED: u32 = 4;
/// Flag: the consumer closed.
const CONSUMER_CLOSED: u32 = 8;
/// Flag (set at creation): blocking forms spin instead of parking, notifiers do nothing.
const SPIN_ONLY: u32 = 16;
/// Flag (set at creation): the eventcounts use asymmetric barriers, so every process that
/// attaches must join them ([`Memory::join_asymmetric`]).
const ASYMMETRIC: u32 = 32;

/// How a ring's blocking operations wait for the other side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Wakeups {
    /// Spin briefly, then park on a futex; every publish checks for parked waiters with one load.
    /// Where the kernel offers `membarrier` (Linux 4.16+, recorded in the region at creation),
    /// that load needs no fence: a side about to park pays a `membarrier` call instead. Elsewhere
    /// it is [`Wakeups::FutexFenced`]. The default.
    #[default]
    Futex,
    /// As [`Wakeups::Futex`], but every publish pays a `SeqCst` fence before its load, and no
    /// `membarrier` is ever called: for sandboxes that forbid `membarrier`, and for comparison.
    FutexFenced,
    /// Never park: blocking forms spin (yielding the CPU between rounds) and publishing costs
    /// no fence at all. For latency-critical peers that own a core each; burns CPU while waiting.
    Spin,
}

/// One side of a single-producer single-consumer ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Producer,
    Consumer,
}

impl Side {
    fn attached(self) -> u32 {
        match self {
            Side::Producer => PRODUCER,
            Side::Consumer => CONSUMER,
        }
    }
    fn closed(self) -> u32 {
        match self {
            Side::Producer => PRODUCER_CLOSED,
            Side::Consumer => CONSUMER_CLOSED,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Side::Producer => "producer",
            Side::Consumer => "consumer",
        }
    }
}

/// See the module docs. `#[repr(C)]`: lives in shared regions.
#[repr(C)]
pub(crate) struct PairControl<M: Memory> {
    /// Items (or bytes) ever published by the producer.
    pub tail: Line<M::U64>,
    /// Items (or bytes) ever consumed by the consumer.
    pub head: Line<M::U64>,
    /// The consumer parks here when empty.
    not_empty: Line<EventCount<M>>,
    /// The producer parks here when full.
    not_full: Line<EventCount<M>>,
    /// Role and close flags.
    flags: Line<M::U32>,
}

impl<M: Memory> PairControl<M> {
    pub(crate) fn new(wakeups: Wakeups) -> Self {
        PairControl {
            tail: Line(M::U64::new(0)),
            head: Line(M::U64::new(0)),
            not_empty: Line(EventCount::new()),
            not_full: Line(EventCount::new()),
            flags: Line(M::U32::new(match wakeups {
                Wakeups::Futex if M::join_asymmetric() => ASYMMETRIC,
                Wakeups::Futex | Wakeups::FutexFenced => 0,
                Wakeups::Spin => SPIN_ONLY,
            })),
        }
    }

    /// How the ring waits: `None` for [`Wakeups::Spin`], else the eventcounts' fences.
    #[inline(always)]
    fn fences(&self) -> Option<Fences> {
        // Relaxed: the bits are written at creation, before the ring is shared (the region's
        // ready flag or the handle's construction publishes them), and never change. A hostile
        // peer that flips them can only cost wakeups (liveness), never memory safety.
        let flags = self.flags.load(Relaxed);
        if flags & SPIN_ONLY != 0 {
            None
        } else if flags & ASYMMETRIC != 0 {
            Some(Fences::Asymmetric)
        } else {
            Some(Fences::Symmetric)
        }
    }

    /// The waiting discipline the ring was created with.
    pub(crate) fn wakeups(&self) -> Wakeups {
        match self.fences() {
            None => Wakeups::Spin,
            Some(Fences::Asymmetric) => Wakeups::Futex,
            Some(Fences::Symmetric) => Wakeups::FutexFenced,
        }
    }

    /// After publishing: wake a consumer parked on "empty", if any.
    #[inline(always)]
    pub(crate) fn notify_readable(&self) {
        if let Some(fences) = self.fences() {
            self.not_empty.notify_all(fences);
        }
    }

    /// After consuming: wake a producer parked on "full", if any.
    #[inline(always)]
    pub(crate) fn notify_writable(&self) {
        if let Some(fences) = self.fences() {
            self.not_full.notify_all(fences);
        }
    }

    /// Consumer: wait until `ready()` (true) or `deadline` (false).
    pub(crate) fn wait_readable(
        &self,
        ready: impl FnMut() -> bool,
        deadline: Option<Deadline>,
    ) -> bool {
        match self.fences() {
            None => EventCount::<M>::spin_until(ready, deadline),
            Some(fences) => self.not_empty.wait_until(fences, ready, deadline),
        }
    }

    /// Producer: wait until `ready()` (true) or `deadline` (false).
    pub(crate) fn wait_writable(
        &self,
        ready: impl FnMut() -> bool,
        deadline: Option<Deadline>,
    ) -> bool {
        match self.fences() {
            None => EventCount::<M>::spin_until(ready, deadline),
            Some(fences) => self.not_full.wait_until(fences, ready, deadline),
        }
    }

    /// Claims `side`; fails if some handle (in any process) already did, or if the ring uses
    /// asymmetric barriers and this process cannot join them.
    fn claim(&self, side: Side) -> Result<(), RingError> {
        if self.fences() == Some(Fences::Asymmetric) && !M::join_asymmetric() {
            return Err(RingError::Unsupported(
                "the ring was created to use membarrier(2), which this process cannot use \
                 (create it with Wakeups::FutexFenced where membarrier is forbidden)",
            ));
        }
        // AcqRel: a claim after a previous holder's close sees everything it did (not needed by
        // the protocol today, but cheap and keeps reasoning simple).
        let prev = self.flags.fetch_or(side.attached(), AcqRel);
        if prev & side.attached() != 0 {
            return Err(RingError::RoleTaken(side.name()));
        }
        Ok(())
    }

    /// Claims the producer role; returns `(tail, head)` to start from.
    pub(crate) fn attach_producer(&self) -> Result<(u64, u64), RingError> {
        self.claim(Side::Producer)?;
        // Acquire: pairs with the Release stores of `tail`/`head`; a fresh ring reads 0 and 0,
        // an opened corrupt one is caught by `load_head`'s validation.
        let tail = self.tail.load(Acquire);
        let head = self.load_head(tail, 0)?;
        Ok((tail, head))
    }

    /// Claims the consumer role; returns `head` to start from.
    pub(crate) fn attach_consumer(&self) -> Result<u64, RingError> {
        self.claim(Side::Consumer)?;
        // Acquire: as in `attach_producer`.
        Ok(self.head.load(Acquire))
    }

    /// Marks `side` closed and wakes the other side.
    pub(crate) fn close(&self, side: Side) {
        // AcqRel: Release so the other side, seeing the flag (Acquire), also sees our last
        // published index; Acquire is harmless.
        self.flags.fetch_or(side.closed(), AcqRel);
        match side {
            Side::Producer => self.notify_readable(),
            Side::Consumer => self.notify_writable(),
        }
    }

    /// Whether `side` has closed.
    #[inline]
    pub(crate) fn is_closed(&self, side: Side) -> bool {
        // Acquire: pairs with `close`'s Release, so an index loaded after this is final.
        self.flags.load(Acquire) & side.closed() != 0
    }

    /// The consumer's view of `tail`, validated: `cached <= tail <= head + capacity`.
    #[inline]
    pub(crate) fn load_tail(
        &self,
        head: u64,
        cached: u64,
        capacity: u64,
    ) -> Result<u64, RingError> {
        // Acquire: pairs with the producer's Release store of `tail`, so the slots it published
        // are visible before we read them.
        let tail = self.tail.load(Acquire);
        if tail < cached || tail.wrapping_sub(head) > capacity {
            return Err(RingError::Corrupt(format!(
                "tail {tail} is impossible with head {head}, last tail {cached}, capacity {capacity}"
            )));
        }
        Ok(tail)
    }

    /// The producer's view of `head`, validated: `cached <= head <= tail`.
    #[inline]
    pub(crate) fn load_head(&self, tail: u64, cached: u64) -> Result<u64, RingError> {
        // Acquire: pairs with the consumer's Release store of `head`, so its reads of the slots
        // it freed happen before we overwrite them.
        let head = self.head.load(Acquire);
        if head < cached || head > tail {
            return Err(RingError::Corrupt(format!(
                "head {head} is impossible with tail {tail} and last head {cached}"
            )));
        }
        Ok(head)
    }
}
