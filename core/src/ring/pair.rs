//! The control block shared by the two single-producer single-consumer rings (`spsc` counts
//! slots, `frames` counts bytes): the two indices on their own lines, the two eventcounts, and
//! the role/close flags; plus the validated index loads both rings use.
//!
//! `tail` (written only by the producer) and `head` (only by the consumer) are `u64` counters
//! that never wrap in practice (2^64 items at 10^9/s is 584 years). The position in the buffer is
//! `index % capacity`. Each side keeps a private copy of the other's index and reloads it only
//! when the cached value says full/empty: the fast path touches no line the other side writes.
//!
//! # Roles survive crashes
//!
//! Each role records its owner as a packed [`ProcessKey`] (pid and start time, so a reused pid is
//! not mistaken for the owner) in its own word: 0 = never taken. A claim CASes the word from 0,
//! or, when the recorded owner is dead (judged through the handle's `ProcessEnv`), from that dead
//! owner's key to the claimer's: exactly one of several claimers wins a dead owner's role, and a
//! live owner's role is never taken. The new owner resumes from the shared index: a consumer
//! re-reads a record whose owner died between reading it and releasing it (at least once, never
//! lost); a producer overwrites a slot its predecessor wrote but never published. A role closed
//! by dropping its handle stays closed (end of stream): claiming it again is `Closed`.
//!
//! A blocked operation wakes every `Memory::PEER_CHECK_INTERVAL` (100 ms on real memory) to ask
//! whether the peer's owner is still alive, and returns `PeerGone` if it is not.

use super::eventcount::{EventCount, Fences};
use super::line::Line;
use super::RingError;
use crate::mem::{Atomic, Deadline, Memory, Mutant};
use crate::process::{is_alive, ProcessEnv, ProcessKey};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};
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
    fn peer(self) -> Side {
        match self {
            Side::Producer => Side::Consumer,
            Side::Consumer => Side::Producer,
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
    /// Close flags and the waiting discipline.
    flags: Line<M::U32>,
    /// The owners of the two roles (see the module docs).
    owners: Line<RoleOwners<M>>,
}

/// The role owners' words: 0 = never taken, else a packed [`ProcessKey`].
#[repr(C)]
pub(crate) struct RoleOwners<M: Memory> {
    producer: M::U64,
    consumer: M::U64,
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
            owners: Line(RoleOwners {
                producer: M::U64::new(0),
                consumer: M::U64::new(0),
            }),
        }
    }

    fn owner_word(&self, side: Side) -> &M::U64 {
        match side {
            Side::Producer => &self.owners.producer,
            Side::Consumer => &self.owners.consumer,
        }
    }

    /// The process that owns `side` now, if it was ever taken.
    pub(crate) fn owner(&self, side: Side) -> Option<ProcessKey> {
        // Acquire: pairs with the claim's CAS, so the liveness judgement below is made on a pid
        // table at least as new as the claim (as the ledger's owner loads).
        match self.owner_word(side).load(Acquire) {
            0 => None,
            w => Some(ProcessKey::from_word(w)),
        }
    }

    /// Whether `side` was taken by a process that is now dead, and not closed.
    pub(crate) fn is_abandoned(&self, side: Side, env: &dyn ProcessEnv) -> bool {
        !self.is_closed(side) && self.owner(side).is_some_and(|k| !is_alive::<M>(k, env))
    }

    /// How the ring waits: `None` for [`Wakeups::Spin`], else the eventcounts' fences.
    #[inline(always)]
    pub(crate) fn fences(&self) -> Option<Fences> {
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
        self.notify_readable_with(self.fences());
    }

    /// After consuming: wake a producer parked on "full", if any.
    #[inline(always)]
    pub(crate) fn notify_writable(&self) {
        self.notify_writable_with(self.fences());
    }

    /// [`PairControl::notify_readable`] with the fences a handle read once when it attached
    /// (they never change after creation), so a publish does not reload the flags word.
    #[inline(always)]
    pub(crate) fn notify_readable_with(&self, fences: Option<Fences>) {
        match fences {
            // The common case first, with the fence kind a constant: one test, then the load.
            Some(Fences::Asymmetric) => self.not_empty.notify_all(Fences::Asymmetric),
            Some(fences) => self.not_empty.notify_all(fences),
            None => {}
        }
    }

    /// [`PairControl::notify_writable`] with the fences read at attach.
    #[inline(always)]
    pub(crate) fn notify_writable_with(&self, fences: Option<Fences>) {
        match fences {
            // As in `notify_readable_with`.
            Some(Fences::Asymmetric) => self.not_full.notify_all(Fences::Asymmetric),
            Some(fences) => self.not_full.notify_all(fences),
            None => {}
        }
    }

    /// `waiter` waits until `ready()` (Ok) or `deadline` (`TimedOut`), in slices of
    /// `M::PEER_CHECK_INTERVAL`; after each slice it returns `PeerGone` if the peer role's owner
    /// has died (see the module docs).
    pub(crate) fn wait_for_peer(
        &self,
        waiter: Side,
        env: &dyn ProcessEnv,
        mut ready: impl FnMut() -> bool,
        deadline: Option<Deadline>,
    ) -> Result<(), RingError> {
        loop {
            let slice = M::PEER_CHECK_INTERVAL.map(Deadline::after);
            let until = match (slice, deadline) {
                (Some(s), Some(d)) => Some(s.min(d)),
                (s, d) => s.or(d),
            };
            let ok = match waiter {
                Side::Consumer => self.wait_readable(&mut ready, until),
                Side::Producer => self.wait_writable(&mut ready, until),
            };
            if ok {
                return Ok(());
            }
            if deadline.is_some_and(M::expired) || slice.is_none() {
                return Err(RingError::TimedOut);
            }
            let peer = waiter.peer();
            if self.is_abandoned(peer, env) {
                let pid = self.owner(peer).map_or(0, |k| k.pid);
                return Err(RingError::PeerGone {
                    role: peer.name(),
                    pid,
                });
            }
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

    /// Claims `side` (see the module docs); fails with `RoleTaken` if a live process (this one
    /// included) holds it, `Closed` if it was closed, or `Unsupported` if the ring uses asymmetric
    /// barriers and this process cannot join them.
    fn claim(&self, side: Side, env: &dyn ProcessEnv) -> Result<(), RingError> {
        if self.fences() == Some(Fences::Asymmetric) && !M::join_asymmetric() {
            return Err(RingError::Unsupported(
                "the ring was created to use membarrier(2), which this process cannot use \
                 (create it with Wakeups::FutexFenced where membarrier is forbidden)",
            ));
        }
        if self.is_closed(side) {
            return Err(RingError::Closed);
        }
        let me = env.me().map_err(|e| RingError::Process(e.0))?.pack();
        let word = self.owner_word(side);
        // Acquire: as in `owner`.
        let mut cur = word.load(Acquire);
        loop {
            if cur != 0 {
                let owner = ProcessKey::from_word(cur);
                let live = cur == me || is_alive::<M>(owner, env);
                if live && !M::mutant(Mutant::RoleTakeoverOfLiveOwner) {
                    return Err(RingError::RoleTaken(side.name()));
                }
            }
            if M::mutant(Mutant::RoleTakeoverWithoutCas) && cur != 0 {
                // Release: as the CAS below.
                word.store(me, std::sync::atomic::Ordering::Release);
                return Ok(());
            }
            // AcqRel: Acquire so the new owner sees what the previous owner published (its
            // index stores are Release anyway); Release so a later claimer's Acquire load of the
            // word is ordered after this claim. Failure: Acquire, as the load above.
            match word.compare_exchange(cur, me, AcqRel, Acquire) {
                Ok(_) => return Ok(()),
                Err(now) => cur = now,
            }
        }
    }

    /// Claims the producer role as the process `env` describes; returns `(tail, head)` to start
    /// from.
    pub(crate) fn attach_producer(&self, env: &dyn ProcessEnv) -> Result<(u64, u64), RingError> {
        self.claim(Side::Producer, env)?;
        // Acquire: pairs with the Release stores of `tail`/`head`; a fresh ring reads 0 and 0,
        // an opened corrupt one is caught by `load_head`'s validation.
        let tail = self.tail.load(Acquire);
        let head = self.load_head(tail, 0)?;
        Ok((tail, head))
    }

    /// Claims the consumer role as the process `env` describes; returns `head` to start from.
    pub(crate) fn attach_consumer(&self, env: &dyn ProcessEnv) -> Result<u64, RingError> {
        self.claim(Side::Consumer, env)?;
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
