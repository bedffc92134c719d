//! `mpmc`: Dmitry Vyukov's bounded multi-producer multi-consumer queue of `Pod` records.
//!
//! Each slot carries a sequence number. For position `pos` (a `u64` that never wraps in
//! practice), slot `pos % capacity` is free for the producer claiming `pos` when
//! `seq == pos`, and holds that producer's record for the consumer claiming `pos` when
//! `seq == pos + 1`; the consumer frees it for the next lap by storing `seq = pos + capacity`.
//! Positions are claimed with a compare-and-swap on `enqueue_pos` / `dequeue_pos`; the record is
//! published by the `Release` store of `seq` and read after an `Acquire` load of it.
//!
//! **Not strictly lock-free.** A producer preempted (or SIGSTOPped, or killed) between claiming a
//! position and publishing it blocks the consumer of that position: `try_pop` reports `Empty`
//! for it even if later slots are full. Blocking operations take deadlines for this reason, and a
//! dead producer's claimed slot is never published (the run reports it as lost). Symmetrically,
//! a consumer killed between claiming a position and releasing its slot leaves that slot
//! unusable for producers of the next lap: `synclab run mpmc --kill` kills consumers only, and
//! this window (a few instructions) is its one known way to wedge. Repairing a slot after a
//! consumer's death is not built yet.
//!
//! Untrusted peers: every slot index is `pos % capacity`, so a hostile peer writing garbage
//! sequence numbers or positions can make operations fail or spin, never touch memory outside
//! the ring.

use super::eventcount::{EventCount, Fences};
use super::line::Line;
use super::storage::{check_capacity, header_capacity, layout_for, wrap, Storage};
use super::RingError;
use crate::mem::{Atomic, Deadline, Memory, Mutant, RealMemory, SlotCell};
use crate::object::{Builder, RegionObject, SharedObject};
use crate::process::ProcessEnv;
use crate::shm::{Region, RegionHeader, RegionKind, RegionLayout, ShmError, TypeFingerprint};
use bytemuck::Pod;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::Arc;

/// Largest capacity accepted (slots). The smallest is 2: with one slot, "free for position
/// `pos + 1`" and "holds the record of position `pos`" are the same sequence number.
pub const MAX_CAPACITY: usize = 1 << 28;
/// Capacity of a queue whose builder was not given one (slots).
pub const DEFAULT_CAPACITY: usize = 1024;

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
}

/// Bit of `closed`: `close` was called.
const CLOSED: u32 = 1;
/// Bit of `closed` (set at creation): the eventcounts use asymmetric barriers, so every process
/// that opens the queue must join them ([`Memory::join_asymmetric`]).
const ASYMMETRIC: u32 = 2;

/// One slot: sequence number and record.
#[repr(C)]
pub(crate) struct MpmcSlot<M: Memory, T: Copy + Send + 'static> {
    seq: M::U64,
    value: M::Cell<T>,
}

/// A bounded MPMC queue (see the module docs). Cheap to clone; every clone (in any process) may
/// push and pop.
pub struct Mpmc<T: Copy + Send + 'static, M: Memory = RealMemory> {
    storage: Storage<MpmcControl<M>, MpmcSlot<M, T>>,
    _t: PhantomData<T>,
}

impl<T: Copy + Send + 'static, M: Memory> Clone for Mpmc<T, M> {
    fn clone(&self) -> Self {
        Mpmc {
            storage: self.storage.clone(),
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

    fn on_heap(p: &MpmcParams, _env: Arc<dyn ProcessEnv>) -> Result<Self, RingError> {
        let slots = (0..p.capacity).map(new_slot::<M, T>).collect();
        Ok(Self::from_storage(Storage::boxed(new_control(), slots)))
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

    fn attach(region: Region, _env: Arc<dyn ProcessEnv>) -> Result<Self, RingError> {
        Self::joined(Storage::in_region(region))
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
    }
}

fn new_slot<M: Memory, T: Pod + Send>(i: usize) -> MpmcSlot<M, T> {
    MpmcSlot {
        seq: M::U64::new(i as u64),
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

    fn from_storage(storage: Storage<MpmcControl<M>, MpmcSlot<M, T>>) -> Self {
        Mpmc {
            storage,
            _t: PhantomData,
        }
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
        // that flips it can only cost wakeups (liveness), never memory safety.
        if self.ctrl().closed.load(Relaxed) & ASYMMETRIC != 0 {
            Fences::Asymmetric
        } else {
            Fences::Symmetric
        }
    }

    /// An opened queue, after joining asymmetric barriers if it uses them.
    fn joined(storage: Storage<MpmcControl<M>, MpmcSlot<M, T>>) -> Result<Self, RingError> {
        let q = Self::from_storage(storage);
        if q.fences() == Fences::Asymmetric && !M::join_asymmetric() {
            return Err(RingError::Unsupported(
                "the queue was created to use membarrier(2), which this process cannot use",
            ));
        }
        Ok(q)
    }

    /// Pushes `value` if a slot is free now: `Err(Full)` otherwise, `Err(Closed)` after `close`.
    pub fn try_push(&self, value: T) -> Result<(), RingError> {
        let slots = self.storage.slots();
        let ctrl = self.ctrl();
        // The `closed` line is written once, so this load hits a shared cache line.
        if self.is_closed() {
            return Err(RingError::Closed);
        }
        // Relaxed: the position is only a hint of where to try; the slot's `seq` (Acquire)
        // decides, and the CAS below makes the claim exclusive.
        let mut pos = ctrl.enqueue_pos.load(Relaxed);
        loop {
            let slot = &slots[wrap(pos, slots.len())];
            // Acquire: pairs with the consumer's Release store that freed this slot, so its read
            // of the old record happens-before our write.
            let seq = slot.seq.load(Acquire);
            let diff = seq.wrapping_sub(pos) as i64;
            if diff == 0 {
                if M::mutant(Mutant::MpmcClaimWithoutCas) {
                    ctrl.enqueue_pos.store(pos + 1, Relaxed);
                } else if let Err(now) =
                    // Relaxed: the claim carries no data (see above); failure just retries.
                    ctrl.enqueue_pos.compare_exchange_weak(
                        pos,
                        pos + 1,
                        Relaxed,
                        Relaxed,
                    )
                {
                    pos = now;
                    continue;
                }
                // SAFETY: we own position `pos`: `seq == pos` says its consumer of the previous
                // lap is done with the slot, and the CAS made the claim exclusive among producers.
                unsafe { slot.value.write(value) };
                // Release: the record write happens-before the consumer's Acquire load of `seq`.
                slot.seq
                    .store(pos + 1, M::order(Mutant::MpmcRelaxedPublish, Release));
                ctrl.not_empty.notify_all(self.fences());
                return Ok(());
            } else if diff < 0 {
                // The slot still holds the record of the previous lap: full.
                return Err(RingError::Full);
            } else {
                // Another producer took `pos`; start again from the current position. The spin
                // hint lets that producer's store reach us (under loom: a yield, without which a
                // stale Relaxed load could be returned forever).
                M::spin_hint();
                // Relaxed: a hint of where to try next, as at the top.
                pos = ctrl.enqueue_pos.load(Relaxed);
            }
        }
    }

    /// Pops a record if one is published at the head: `Err(Empty)` otherwise, `Err(Closed)`
    /// when empty after `close`.
    pub fn try_pop(&self) -> Result<T, RingError> {
        let slots = self.storage.slots();
        let cap = slots.len() as u64;
        let ctrl = self.ctrl();
        // Relaxed: as in `try_push`.
        let mut pos = ctrl.dequeue_pos.load(Relaxed);
        let mut rechecked = false;
        loop {
            let slot = &slots[wrap(pos, slots.len())];
            // Acquire: pairs with the producer's Release publish of `seq`.
            let seq = slot.seq.load(Acquire);
            let diff = seq.wrapping_sub(pos.wrapping_add(1)) as i64;
            if diff == 0 {
                // Relaxed: as in `try_push`.
                if let Err(now) =
                    ctrl.dequeue_pos
                        .compare_exchange_weak(pos, pos + 1, Relaxed, Relaxed)
                {
                    pos = now;
                    continue;
                }
                // SAFETY: `seq == pos + 1`: the record is published (Acquire above) and the CAS
                // made us its only consumer; producers will not touch it until we store `seq`.
                let value = unsafe { slot.value.read() };
                // Release: our read happens-before the next lap's producer writes the slot.
                slot.seq.store(pos.wrapping_add(cap), Release);
                ctrl.not_full.notify_all(self.fences());
                return Ok(value);
            } else if diff < 0 {
                if !self.is_closed() {
                    return Err(RingError::Empty);
                }
                // Closed. Our `seq` load may predate the last publishes (it came before the
                // Acquire load of `closed`, which is what synchronises with them): look again
                // once before reporting `Closed`, or a record pushed before `close` is lost.
                // (Found by the `mpmc-consumers` loom model.)
                if rechecked {
                    return Err(RingError::Closed);
                }
                rechecked = true;
                pos = ctrl.dequeue_pos.load(Relaxed);
            } else {
                // Another consumer took `pos`: as in `try_push`.
                M::spin_hint();
                // Relaxed: a hint of where to try next, as at the top.
                pos = ctrl.dequeue_pos.load(Relaxed);
            }
        }
    }

    /// Pushes `value`, spinning then parking while full, at most until `deadline`.
    pub fn push_until(&self, value: T, deadline: Option<Deadline>) -> Result<(), RingError> {
        loop {
            match self.try_push(value) {
                Err(RingError::Full) => {}
                other => return other,
            }
            if !self.ctrl().not_full.wait_until(
                self.fences(),
                || !self.looks_full() || self.is_closed(),
                deadline,
            ) {
                return Err(RingError::TimedOut);
            }
        }
    }

    /// Pushes `value`, waiting while full.
    pub fn push(&self, value: T) -> Result<(), RingError> {
        self.push_until(value, None)
    }

    /// Pops a record, spinning then parking while empty, at most until `deadline`.
    pub fn pop_until(&self, deadline: Option<Deadline>) -> Result<T, RingError> {
        loop {
            match self.try_pop() {
                Err(RingError::Empty) => {}
                other => return other,
            }
            if !self.ctrl().not_empty.wait_until(
                self.fences(),
                || !self.looks_empty() || self.is_closed(),
                deadline,
            ) {
                return Err(RingError::TimedOut);
            }
        }
    }

    /// Pops a record, waiting while empty.
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

    /// Approximate number of records (exact when quiescent).
    pub fn len(&self) -> usize {
        // Relaxed: an estimate by definition.
        let enq = self.ctrl().enqueue_pos.load(Relaxed);
        let deq = self.ctrl().dequeue_pos.load(Relaxed);
        enq.saturating_sub(deq).min(self.capacity() as u64) as usize
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
