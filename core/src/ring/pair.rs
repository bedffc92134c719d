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
//!
//! # Trust
//!
//! Everything in the block may have been written by a corrupt or hostile peer. A position is
//! used only after it is validated, on attach and on every reload. Frames uses non-wrapping
//! positions: [`PairControl::attach_producer_within`] and [`PairControl::attach_consumer_within`]
//! bound them by [`MAX_POSITION`] (so no later `+` can overflow) and check `head <= tail` and
//! `tail - head <= capacity`; [`PairControl::load_tail`] and [`PairControl::load_head`] validate
//! each reload. spsc validates its (wrapping) positions itself, from what
//! [`PairControl::attach_producer`] / [`PairControl::attach_consumer`] return. A bad value is
//! `RingError::Corrupt` naming the field and its value, and a failed attach gives the role back.
//! The waiting discipline (the flags' `SPIN_ONLY` and `ASYMMETRIC` bits) is read once, when a
//! handle attaches ([`PairControl::fences`]), and the handle keeps using its own copy: a peer
//! that flips the bits later, or zeroes an eventcount's waiter count, can only delay a wakeup,
//! and every park is bounded by the caller's deadline and by `PEER_CHECK_INTERVAL` slices.

use super::eventcount::{EventCount, Fences};
use super::line::Line;
use super::RingError;
use crate::mem::{Atomic, Deadline, Memory, Mutant};
use crate::process::{is_alive, ProcessEnv, ProcessKey};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};
/// Largest `tail` or `head` a handle accepts from the region on attach: 2^62 (146 years of
/// 10^9 items/s). Every later position is at most this plus what the handle itself advanced, so
/// position arithmetic never overflows whatever a peer wrote.
pub(crate) const MAX_POSITION: u64 = 1 << 62;

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

    /// How the ring waits: `None` for [`Wakeups::Spin`], else the eventcounts' fences. A handle
    /// reads it once, at attach, and keeps its copy (see the module docs: "Trust").
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
        ready: impl FnMut() -> bool,
        deadline: Option<Deadline>,
    ) -> Result<(), RingError> {
        self.wait_for_peer_with(self.fences(), waiter, env, ready, deadline)
    }

    /// [`PairControl::wait_for_peer`] with the handle's own copy of the waiting discipline. Every
    /// park ends by `deadline` and by the end of its `PEER_CHECK_INTERVAL` slice, whatever a
    /// peer writes to the eventcount or the flags: a lost wakeup costs at most one slice.
    pub(crate) fn wait_for_peer_with(
        &self,
        waiting: Option<Fences>,
        waiter: Side,
        env: &dyn ProcessEnv,
        mut ready: impl FnMut() -> bool,
        deadline: Option<Deadline>,
    ) -> Result<(), RingError> {
        let slice = M::PEER_CHECK_INTERVAL;
        loop {
            let ok = match (waiting, waiter) {
                (None, _) => EventCount::<M>::spin_sliced(&mut ready, deadline, slice),
                (Some(fences), Side::Consumer) => self
                    .not_empty
                    .wait_sliced(fences, &mut ready, deadline, slice),
                (Some(fences), Side::Producer) => self
                    .not_full
                    .wait_sliced(fences, &mut ready, deadline, slice),
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

    /// Claims `side` (see the module docs); fails with `RoleTaken` if a live process (this one
    /// included) holds it, `Closed` if it was closed, or `Unsupported` if the ring uses asymmetric
    /// barriers and this process cannot join them.
    /// Returns `(previous owner word, our word)` so a failed attach can give the role back.
    fn claim(&self, side: Side, env: &dyn ProcessEnv) -> Result<(u64, u64), RingError> {
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
                return Ok((cur, me));
            }
            // AcqRel: Acquire so the new owner sees what the previous owner published (its
            // index stores are Release anyway); Release so a later claimer's Acquire load of the
            // word is ordered after this claim. Failure: Acquire, as the load above.
            match word.compare_exchange(cur, me, AcqRel, Acquire) {
                Ok(_) => return Ok((cur, me)),
                Err(now) => cur = now,
            }
        }
    }

    /// Gives back a role claimed by `claim` whose attach then failed validation: the owner word
    /// goes back to `previous` unless someone changed it since.
    fn unclaim(&self, side: Side, (previous, me): (u64, u64)) {
        // AcqRel, Relaxed on failure: as the claim's CAS; if the word moved, it is not ours to
        // restore.
        let _ = self
            .owner_word(side)
            .compare_exchange(me, previous, AcqRel, Relaxed);
    }

    /// Runs `validate` after claiming `side`; gives the role back if it fails.
    fn attach<R>(
        &self,
        side: Side,
        env: &dyn ProcessEnv,
        validate: impl FnOnce() -> Result<R, RingError>,
    ) -> Result<R, RingError> {
        let claimed = self.claim(side, env)?;
        validate().inspect_err(|_| self.unclaim(side, claimed))
    }

    /// Claims the producer role as the process `env` describes; returns `(tail, head)` to start
    /// from, checked only for `head <= tail`: the caller validates them against its capacity with
    /// its own position arithmetic (spsc's is wrapping). Gives the role back on failure.
    pub(crate) fn attach_producer(&self, env: &dyn ProcessEnv) -> Result<(u64, u64), RingError> {
        self.attach(Side::Producer, env, || {
            // Acquire: pairs with the Release stores of `tail`/`head`; a fresh ring reads 0 and 0.
            let tail = self.tail.load(Acquire);
            let head = self.load_head(tail, 0)?;
            Ok((tail, head))
        })
    }

    /// Claims the consumer role as the process `env` describes; returns `head` to start from,
    /// unchecked: the caller validates every `tail` it loads against it.
    pub(crate) fn attach_consumer(&self, env: &dyn ProcessEnv) -> Result<u64, RingError> {
        self.claim(Side::Consumer, env)?;
        // Acquire: as in `attach_producer`.
        Ok(self.head.load(Acquire))
    }

    /// Claims the producer role for a ring that uses non-wrapping positions (frames); returns
    /// `(tail, head)` to start from, validated: `tail <= MAX_POSITION`, `tail` a multiple of
    /// `granule` (a power of two: 8 for frames, whose producer writes headers at `tail`),
    /// `head <= tail`, `tail - head <= capacity`. A producer never trusts `tail` (a takeover
    /// resumes from it). Gives the role back on failure.
    pub(crate) fn attach_producer_within(
        &self,
        env: &dyn ProcessEnv,
        capacity: u64,
        granule: u64,
    ) -> Result<(u64, u64), RingError> {
        self.attach(Side::Producer, env, || {
            // Acquire: as in `attach_producer`.
            let tail = check_position("tail", self.tail.load(Acquire))?;
            if tail & granule.wrapping_sub(1) != 0 {
                return Err(RingError::Corrupt(format!(
                    "tail {tail} is not a multiple of {granule}"
                )));
            }
            let head = self.load_head(tail, 0)?;
            if tail - head > capacity {
                return Err(RingError::Corrupt(format!(
                    "tail {tail} is more than capacity {capacity} ahead of head {head}"
                )));
            }
            Ok((tail, head))
        })
    }

    /// Claims the consumer role for a ring that uses non-wrapping positions (frames); returns
    /// `head` to start from, validated: `head <= MAX_POSITION` (`tail` is validated against it on
    /// every load). Gives the role back on failure.
    pub(crate) fn attach_consumer_within(&self, env: &dyn ProcessEnv) -> Result<u64, RingError> {
        self.attach(Side::Consumer, env, || {
            // Acquire: as in `attach_producer`.
            check_position("head", self.head.load(Acquire))
        })
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

    /// The consumer's view of `tail`, validated: `cached <= tail` and `tail - head <= capacity`
    /// (wrapping: a `tail` below `head` is refused too). The message names the field and value.
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

/// `pos` if it is a position a handle may start from (see [`MAX_POSITION`]).
fn check_position(field: &str, pos: u64) -> Result<u64, RingError> {
    if pos > MAX_POSITION {
        return Err(RingError::Corrupt(format!(
            "{field} {pos} exceeds the largest position {MAX_POSITION}"
        )));
    }
    Ok(pos)
}

/// The words a hostile peer can write, for the in-process hostile tests (`hostile_tests.rs`).
#[cfg(test)]
impl<M: Memory> PairControl<M> {
    pub(crate) fn words64(&self) -> [&M::U64; 4] {
        [
            &self.tail,
            &self.head,
            &self.owners.producer,
            &self.owners.consumer,
        ]
    }

    pub(crate) fn words32(&self) -> [&M::U32; 5] {
        let [a, b] = self.not_empty.words();
        let [c, d] = self.not_full.words();
        [&self.flags, a, b, c, d]
    }
}

#[cfg(test)]
#[path = "hostile_tests.rs"]
mod hostile_tests;

#[cfg(test)]
mod layout_tests {
    use super::*;
    use crate::mem::RealMemory;
    use std::mem::offset_of;

    /// The byte offsets the hostile-peer tests (`core/tests/hostile_rings.rs`) write to.
    #[test]
    fn control_block_offsets_are_the_documented_ones() {
        type P = PairControl<RealMemory>;
        assert_eq!(offset_of!(P, tail), 0);
        assert_eq!(offset_of!(P, head), 128);
        assert_eq!(offset_of!(P, not_empty), 256);
        assert_eq!(offset_of!(P, not_full), 384);
        assert_eq!(offset_of!(P, flags), 512);
        assert_eq!(offset_of!(P, owners), 640);
        assert_eq!(offset_of!(RoleOwners<RealMemory>, consumer), 8);
        assert_eq!(std::mem::size_of::<P>(), 768);
    }
}
