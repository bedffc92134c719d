//! `mpmc`: Dmitry Vyukov's bounded multi-producer multi-consumer queue of `Pod` records, with
//! slots that record who holds them so that survivors can repair a slot a dead process held.
//!
//! Each slot carries a sequence number. For position `pos` (a `u64`, wrapping arithmetic
//! throughout), slot `pos % capacity` is free for the producer claiming `pos` when
//! `seq == pos`, and holds that producer's record for the consumer claiming `pos` when
//! `seq == pos + 1`; the consumer frees it for the next lap by storing `seq = pos + capacity`.
//! Positions are claimed with a compare-and-swap on `enqueue_pos` / `dequeue_pos`; the record is
//! published by the `Release` store of `seq` and read after an `Acquire` load of it. The
//! operations are in `ops.rs` (the blocking forms first try `push_once`/`pop_once` inline: the
//! same steps when they succeed at once, with no `Result` to move; anything else takes the full
//! operation out of line), batches (`push_slice`/`pop_slice`: a run of positions claimed with
//! one CAS) in `batch.rs`, and how a blocked form waits in `wait.rs`.
//!
//! **Claimers.** Next to `seq`, on the same cache line, each slot has a `claimer` word: 0 while
//! nobody holds the slot, else the packed [`ProcessKey`](crate::process::ProcessKey) (pid and
//! start time) of the process that claimed its position and has not released it yet. A producer
//! records itself right after winning its position and clears the word just before publishing;
//! a consumer likewise between winning its position and freeing the slot. Two plain stores on a
//! line the operation writes anyway: the hot path gains no read-modify-write.
//!
//! **Not strictly lock-free, but repaired.** A producer preempted (or SIGSTOPped) between
//! claiming a position and publishing it blocks the consumer of that position, and a consumer
//! stopped between claiming and freeing blocks the producer of the next lap: blocking operations
//! take deadlines for this reason. When the holder is *dead*, survivors repair the slot
//! (`repair.rs`): a blocked `push_until`/`pop_until` wakes every `Memory::PEER_CHECK_INTERVAL`
//! (100 ms on real memory), and a `pop` that finds the queue closed checks at once, whether the
//! slot it waits on is held by a dead claimer (judged through the handle's `ProcessEnv`, start
//! time included, so a reused pid is not mistaken for the dead owner; a process `/proc` cannot
//! judge counts as alive). If so, exactly one repairer (a compare-and-swap on the claimer word,
//! then one on `seq`) moves the slot on to its next lap:
//! - a dead *producer*'s slot becomes a **tombstone**: `seq` jumps from `pos` to
//!   `pos + capacity`. Consumers recognise it (a slot already past the lap of a position that
//!   `dequeue_pos` still shows, and that `enqueue_pos` says was claimed) and skip the position.
//!   The dead producer's record was never published: its push never happened.
//! - a dead *consumer*'s slot is freed (`seq = pos + capacity`): the record it had claimed is
//!   **lost** (it may or may not have read it before dying). [`Mpmc::repairs`] counts both.
//!
//! Not repaired: a process killed in the one-instruction windows between winning its position
//! and recording itself as claimer (the slot shows no claimer, so nobody can tell a dead holder
//! from a slow one), and a repairer killed between its two compare-and-swaps. Those slots stay
//! wedged as before: blocked operations time out at their deadlines.
//!
//! **Untrusted peers.** Every slot index is `pos % capacity`, so a hostile peer writing garbage
//! sequence numbers, positions or claimer words can never make an operation touch memory outside
//! the ring. Every retry loop is bounded ([`RETRY_BUDGET`], after which the operation reports
//! `Corrupt`), states no honest peer can produce (a slot ahead of a position nobody claimed, a
//! `dequeue_pos` ahead of `enqueue_pos`, a sequence number of neither phase of its slot) are
//! reported as `Corrupt` naming the field and value, and every blocking form honours its
//! deadline whatever the shared words say.

mod batch;
mod ops;
mod repair;
mod wait;

pub use ops::CrashPoint;
pub use repair::MpmcRepairs;

use super::eventcount::{EventCount, Fences};
use super::line::Line;
use super::storage::{check_capacity, header_capacity, layout_for, wrap, Storage};
use super::RingError;
use crate::mem::{Atomic, Deadline, Memory, RealMemory, SlotCell};
use crate::object::{Builder, RegionObject, SharedObject};
use crate::process::ProcessEnv;
use crate::shm::{Region, RegionHeader, RegionKind, RegionLayout, ShmError, TypeFingerprint};
use bytemuck::Pod;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};
use std::sync::Arc;

/// Largest capacity accepted (slots). The smallest is 2: with one slot, "free for position
/// `pos + 1`" and "holds the record of position `pos`" are the same sequence number.
pub const MAX_CAPACITY: usize = 1 << 28;
/// Capacity of a queue whose builder was not given one (slots).
pub const DEFAULT_CAPACITY: usize = 1024;
/// How many times one non-blocking operation retries (another process won the position, or the
/// position moved) before it gives up with `Corrupt`. Each honest retry means another operation
/// completed meanwhile, so a million in a row only happens when a hostile peer keeps rewriting
/// the positions.
pub const RETRY_BUDGET: u32 = 1 << 20;

/// Creation parameters of an mpmc queue (see [`Mpmc::builder`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MpmcParams {
    /// Number of slots: a power of two in `2..=MAX_CAPACITY` (default 1024).
    pub capacity: usize,
}

/// The control block. `#[repr(C)]`: lives in shared regions.
#[repr(C)]
pub(crate) struct MpmcControl<M: Memory> {
    enqueue_pos: Line<M::U64>,
    dequeue_pos: Line<M::U64>,
    not_empty: Line<EventCount<M>>,
    not_full: Line<EventCount<M>>,
    /// [`CLOSED`] and, set at creation, [`ASYMMETRIC`].
    closed: Line<M::U32>,
    /// Slots repaired after their holder died (see `repair.rs`).
    repairs: Line<repair::RepairCounts<M>>,
}

/// Bit of `closed`: `close` was called.
const CLOSED: u32 = 1;
/// Bit of `closed` (set at creation): the eventcounts use asymmetric barriers, so every process
/// that opens the queue must join them ([`Memory::join_asymmetric`]).
const ASYMMETRIC: u32 = 2;

/// One slot: sequence number, claimer and record (see the module docs).
#[repr(C)]
pub(crate) struct MpmcSlot<M: Memory, T: Copy + Send + 'static> {
    seq: M::U64,
    /// 0, or the packed key of the process holding the slot (see the module docs).
    claimer: M::U64,
    value: M::Cell<T>,
}

/// A bounded MPMC queue (see the module docs). Cheap to clone; every clone (in any process) may
/// push and pop.
pub struct Mpmc<T: Copy + Send + 'static, M: Memory = RealMemory> {
    storage: Storage<MpmcControl<M>, MpmcSlot<M, T>>,
    /// Who this process is and what `/proc` says (liveness of claimers).
    env: Arc<dyn ProcessEnv>,
    /// This process's packed key, written into the slots it claims ([`repair::UNKNOWN`] when
    /// the environment could not say: such claims are never repaired).
    me: u64,
    _t: PhantomData<T>,
}

impl<T: Copy + Send + 'static, M: Memory> Clone for Mpmc<T, M> {
    fn clone(&self) -> Self {
        Mpmc {
            storage: self.storage.clone(),
            env: Arc::clone(&self.env),
            me: self.me,
            _t: PhantomData,
        }
    }
}

impl<T: Pod + Send, M: Memory> std::fmt::Debug for Mpmc<T, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mpmc")
            .field("record", &std::any::type_name::<T>())
            .field("capacity", &self.capacity())
            .field("len", &self.len())
            .field("closed", &self.is_closed())
            .field("region", &self.storage.region().and_then(Region::name))
            .finish()
    }
}

impl<T: Pod + Send, M: Memory> SharedObject for Mpmc<T, M> {
    type Params = MpmcParams;
    type Error = RingError;

    fn default_params() -> MpmcParams {
        MpmcParams {
            capacity: DEFAULT_CAPACITY,
        }
    }

    fn check(p: &MpmcParams) -> Result<(), RingError> {
        check(p.capacity)
    }

    fn on_heap(p: &MpmcParams, env: Arc<dyn ProcessEnv>) -> Result<Self, RingError> {
        let slots = (0..p.capacity).map(new_slot::<M, T>).collect();
        Ok(Self::from_storage(
            Storage::boxed(new_control(), slots),
            env,
        ))
    }

    fn shm_error(e: &RingError) -> Option<&ShmError> {
        e.shm()
    }
}

impl<T: Pod + Send> RegionObject for Mpmc<T, RealMemory> {
    const KIND: RegionKind = RegionKind::MpmcRing;

    fn record() -> TypeFingerprint {
        TypeFingerprint::of::<T>()
    }

    fn layout(p: &MpmcParams) -> RegionLayout {
        layout_for::<MpmcControl<RealMemory>, MpmcSlot<RealMemory, T>>(
            Self::KIND,
            p.capacity,
            std::mem::size_of::<T>(),
            std::mem::align_of::<T>(),
        )
    }

    fn params_of(header: &RegionHeader) -> Result<MpmcParams, ShmError> {
        Ok(MpmcParams {
            capacity: header_capacity(header, 2, MAX_CAPACITY)?,
        })
    }

    fn init(p: &MpmcParams, body: NonNull<u8>, body_len: usize) {
        Storage::<MpmcControl<RealMemory>, MpmcSlot<RealMemory, T>>::init_body(
            body,
            body_len,
            p.capacity,
            new_control,
            new_slot::<RealMemory, T>,
        );
    }

    fn attach(region: Region, env: Arc<dyn ProcessEnv>) -> Result<Self, RingError> {
        Self::joined(Storage::in_region(region), env)
    }
}

impl<T: Pod + Send, M: Memory> Builder<Mpmc<T, M>> {
    /// Number of slots: a power of two in `2..=MAX_CAPACITY` (default 1024).
    pub fn capacity(self, capacity: usize) -> Self {
        self.with(|p| p.capacity = capacity)
    }
}

fn new_control<M: Memory>() -> MpmcControl<M> {
    MpmcControl {
        enqueue_pos: Line(M::U64::new(0)),
        dequeue_pos: Line(M::U64::new(0)),
        not_empty: Line(EventCount::new()),
        not_full: Line(EventCount::new()),
        closed: Line(M::U32::new(if M::join_asymmetric() {
            ASYMMETRIC
        } else {
            0
        })),
        repairs: Line(repair::RepairCounts::new()),
    }
}

fn new_slot<M: Memory, T: Pod + Send>(i: usize) -> MpmcSlot<M, T> {
    MpmcSlot {
        seq: M::U64::new(i as u64),
        claimer: M::U64::new(0),
        value: M::Cell::new(T::zeroed()),
    }
}

impl<T: Pod + Send, M: Memory> Mpmc<T, M> {
    /// A builder: set the capacity, then create, open or place the queue.
    ///
    /// ```
    /// use synclab_core::Mpmc;
    ///
    /// let q = Mpmc::<u64>::builder().capacity(4).heap().unwrap();
    /// q.try_push(1).unwrap();
    /// assert_eq!(q.try_pop().unwrap(), 1);
    /// ```
    pub fn builder() -> Builder<Self> {
        Builder::new()
    }

    /// The region the queue lives in (`None` on the heap).
    pub fn region(&self) -> Option<&Region> {
        self.storage.region()
    }

    /// Keeps a named queue's name after this process's handles drop (see [`Region::persist`]).
    pub fn persist(&self) {
        if let Some(r) = self.storage.region() {
            r.persist();
        }
    }

    fn from_storage(
        storage: Storage<MpmcControl<M>, MpmcSlot<M, T>>,
        env: Arc<dyn ProcessEnv>,
    ) -> Self {
        let me = repair::packed_me(&*env);
        Mpmc {
            storage,
            env,
            me,
            _t: PhantomData,
        }
    }

    /// Another handle on this queue that claims slots as the process `env` describes (for models
    /// that play several processes in one).
    #[doc(hidden)]
    pub fn handle_as(&self, env: Arc<dyn ProcessEnv>) -> Self {
        Self::from_storage(self.storage.clone(), env)
    }

    /// Number of slots.
    pub fn capacity(&self) -> usize {
        self.storage.slots().len()
    }

    #[inline(always)]
    fn ctrl(&self) -> &MpmcControl<M> {
        self.storage.ctrl()
    }

    /// The eventcounts' fences, as recorded at creation.
    #[inline(always)]
    fn fences(&self) -> Fences {
        // Relaxed: the bit is written at creation, before the queue is shared (the region's ready
        // flag or the handle's construction publishes it), and never changes. A hostile peer
        // that flips it can only cost wakeups (liveness, bounded by the peer-check slices),
        // never memory safety.
        if self.ctrl().closed.load(Relaxed) & ASYMMETRIC != 0 {
            Fences::Asymmetric
        } else {
            Fences::Symmetric
        }
    }

    /// An opened queue, after joining asymmetric barriers if it uses them.
    fn joined(
        storage: Storage<MpmcControl<M>, MpmcSlot<M, T>>,
        env: Arc<dyn ProcessEnv>,
    ) -> Result<Self, RingError> {
        let q = Self::from_storage(storage, env);
        if q.fences() == Fences::Asymmetric && !M::join_asymmetric() {
            return Err(RingError::Unsupported(
                "the queue was created to use membarrier(2), which this process cannot use",
            ));
        }
        Ok(q)
    }

    /// Pushes `value`, spinning then parking while full, at most until `deadline`. Every
    /// `Memory::PEER_CHECK_INTERVAL` of waiting it repairs the slot it waits for if that slot's
    /// holder died (see the module docs).
    #[inline]
    pub fn push_until(&self, value: T, deadline: Option<Deadline>) -> Result<(), RingError> {
        if self.push_once(value) {
            return Ok(());
        }
        self.push_wait(value, deadline)
    }

    /// `push_until` after its inline attempt failed: the full operation, and the waits.
    #[inline(never)]
    fn push_wait(&self, value: T, deadline: Option<Deadline>) -> Result<(), RingError> {
        loop {
            match self.try_push(value) {
                Err(RingError::Full) => {}
                other => return other,
            }
            self.wait_room(deadline)?;
        }
    }

    /// Pushes `value`, waiting while full.
    #[inline]
    pub fn push(&self, value: T) -> Result<(), RingError> {
        self.push_until(value, None)
    }

    /// Pops a record, spinning then parking while empty, at most until `deadline`. Every
    /// `Memory::PEER_CHECK_INTERVAL` of waiting it repairs the slot it waits for if that slot's
    /// holder died (see the module docs).
    #[inline]
    pub fn pop_until(&self, deadline: Option<Deadline>) -> Result<T, RingError> {
        match self.pop_once() {
            Some(v) => Ok(v),
            None => self.pop_wait(deadline),
        }
    }

    /// `pop_until` after its inline attempt failed: the full operation, and the waits.
    #[inline(never)]
    fn pop_wait(&self, deadline: Option<Deadline>) -> Result<T, RingError> {
        loop {
            match self.try_pop() {
                Err(RingError::Empty) => {}
                other => return other,
            }
            self.wait_records(deadline)?;
        }
    }

    /// Pops a record, waiting while empty.
    #[inline]
    pub fn pop(&self) -> Result<T, RingError> {
        self.pop_until(None)
    }

    /// Whether the slot at the current enqueue position still holds last lap's record.
    fn looks_full(&self) -> bool {
        let slots = self.storage.slots();
        // Relaxed: a readiness hint; `try_push` decides with the proper orderings.
        let pos = self.ctrl().enqueue_pos.load(Relaxed);
        (slots[wrap(pos, slots.len())]
            .seq
            .load(Acquire)
            .wrapping_sub(pos) as i64)
            < 0
    }

    /// Whether the slot at the current dequeue position is not yet published.
    fn looks_empty(&self) -> bool {
        let slots = self.storage.slots();
        // Relaxed: a readiness hint; `try_pop` decides with the proper orderings.
        let pos = self.ctrl().dequeue_pos.load(Relaxed);
        (slots[wrap(pos, slots.len())]
            .seq
            .load(Acquire)
            .wrapping_sub(pos.wrapping_add(1)) as i64)
            < 0
    }

    /// Closes the queue: pushes fail with `Closed`; pops drain what is left, then fail with
    /// `Closed`; every parked waiter wakes.
    pub fn close(&self) {
        // AcqRel: Release so a waiter seeing the flag also sees records published before it.
        self.ctrl().closed.fetch_or(CLOSED, AcqRel);
        self.ctrl().not_empty.notify_all(self.fences());
        self.ctrl().not_full.notify_all(self.fences());
    }

    /// Whether `close` was called (by any process).
    pub fn is_closed(&self) -> bool {
        // Acquire: pairs with `close`.
        self.ctrl().closed.load(Acquire) & CLOSED != 0
    }

    /// Approximate number of records (exact when quiescent and no slot was repaired).
    pub fn len(&self) -> usize {
        // Relaxed: an estimate by definition. Wrapping, then clamped: garbage positions from a
        // hostile peer give some number in `0..=capacity`, never a panic.
        let enq = self.ctrl().enqueue_pos.load(Relaxed);
        let deq = self.ctrl().dequeue_pos.load(Relaxed);
        (enq.wrapping_sub(deq) as i64).clamp(0, self.capacity() as i64) as usize
    }

    /// Whether the queue looks empty (exact when quiescent).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn check(capacity: usize) -> Result<(), RingError> {
    check_capacity(capacity, 2, MAX_CAPACITY)
        .map_err(|reason| RingError::BadCapacity { capacity, reason })
}

#[cfg(test)]
mod batch_tests;
#[cfg(test)]
mod tests;
