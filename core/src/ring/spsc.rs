//! `spsc`: a bounded single-producer single-consumer ring of fixed-size `Pod` records.
//!
//! Invariant: `head <= tail <= head + capacity`; slots `[head, tail)` (mod capacity) hold
//! published records that only the consumer may read, the rest belong to the producer.
//! The producer writes a slot, then publishes it with a `Release` store of `tail`; the consumer
//! loads `tail` with `Acquire` before reading. Symmetrically for `head`. Each side caches the
//! other's index and reloads it only when the cache says full/empty, so the fast path makes one
//! store to a line the other side only reads, and no system call: the eventcount `notify_all` is
//! one load while nobody is parked (plus a `SeqCst` fence on a [`Wakeups::FutexFenced`] ring, or
//! one created where `membarrier` is unavailable; nothing at all on a [`Wakeups::Spin`] ring).
//! Batch operations publish many records with one store and one notify.
//!
//! Works across processes: create the ring in a named or anonymous region, open it in the other
//! process, and take the producer in one and the consumer in the other. The roles are claimed in
//! the region, so a second producer (in any process) is refused.

use super::pair::{PairControl, Side, Wakeups};
use super::storage::{check_capacity, header_capacity, layout_for, wrap, Storage};
use super::RingError;
use crate::mem::{Atomic, Deadline, Memory, Mutant, RealMemory, SlotCell};
use crate::object::{Builder, RegionObject, SharedObject};
use crate::process::ProcessEnv;
use crate::shm::{Region, RegionHeader, RegionKind, RegionLayout, ShmError, TypeFingerprint};
use bytemuck::Pod;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::atomic::Ordering::Release;
use std::sync::Arc;

/// Largest capacity accepted (slots).
pub const MAX_CAPACITY: usize = 1 << 30;
/// Capacity of a ring whose builder was not given one (slots).
pub const DEFAULT_CAPACITY: usize = 1024;

/// Creation parameters of an spsc ring (see [`Spsc::builder`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpscParams {
    /// Number of slots: a power of two in `1..=MAX_CAPACITY` (default 1024).
    pub capacity: usize,
    /// How blocking operations wait (recorded in the region).
    pub wakeups: Wakeups,
}

/// A single-producer single-consumer ring of `T` (see the module docs). Cheap to clone: clones
/// share the ring.
pub struct Spsc<T: Pod + Send, M: Memory = RealMemory> {
    pub(crate) storage: Storage<PairControl<M>, M::Cell<T>>,
    pub(crate) env: Arc<dyn ProcessEnv>,
    _t: PhantomData<T>,
}

impl<T: Pod + Send, M: Memory> Clone for Spsc<T, M> {
    fn clone(&self) -> Self {
        Spsc {
            storage: self.storage.clone(),
            env: Arc::clone(&self.env),
            _t: PhantomData,
        }
    }
}

impl<T: Pod + Send, M: Memory> std::fmt::Debug for Spsc<T, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spsc")
            .field("record", &std::any::type_name::<T>())
            .field("capacity", &self.capacity())
            .field("wakeups", &self.wakeups())
            .field("region", &self.storage.region().and_then(Region::name))
            .finish()
    }
}

impl<T: Pod + Send, M: Memory> SharedObject for Spsc<T, M> {
    type Params = SpscParams;
    type Error = RingError;

    fn default_params() -> SpscParams {
        SpscParams {
            capacity: DEFAULT_CAPACITY,
            wakeups: Wakeups::Futex,
        }
    }

    fn check(p: &SpscParams) -> Result<(), RingError> {
        check(p.capacity)
    }

    fn on_heap(p: &SpscParams, env: Arc<dyn ProcessEnv>) -> Result<Self, RingError> {
        let slots = (0..p.capacity).map(|_| M::Cell::new(T::zeroed())).collect();
        let storage = Storage::boxed(PairControl::new(p.wakeups), slots);
        Ok(Self::from_storage(storage, env))
    }

    fn shm_error(e: &RingError) -> Option<&ShmError> {
        e.shm()
    }
}

impl<T: Pod + Send> RegionObject for Spsc<T, RealMemory> {
    const KIND: RegionKind = RegionKind::SpscRing;

    fn record() -> TypeFingerprint {
        TypeFingerprint::of::<T>()
    }

    fn layout(p: &SpscParams) -> RegionLayout {
        layout_for::<PairControl<RealMemory>, <RealMemory as Memory>::Cell<T>>(
            Self::KIND,
            p.capacity,
            std::mem::size_of::<T>(),
            std::mem::align_of::<T>(),
        )
    }

    fn params_of(header: &RegionHeader) -> Result<SpscParams, ShmError> {
        Ok(SpscParams {
            capacity: header_capacity(header, 1, MAX_CAPACITY)?,
            ..Self::default_params()
        })
    }

    fn init(p: &SpscParams, body: NonNull<u8>, body_len: usize) {
        Storage::<PairControl<RealMemory>, <RealMemory as Memory>::Cell<T>>::init_body(
            body,
            body_len,
            p.capacity,
            || PairControl::new(p.wakeups),
            |_| SlotCell::new(T::zeroed()),
        );
    }

    fn attach(region: Region, env: Arc<dyn ProcessEnv>) -> Result<Self, RingError> {
        Ok(Self::from_storage(Storage::in_region(region), env))
    }
}

impl<T: Pod + Send, M: Memory> Builder<Spsc<T, M>> {
    /// Number of slots: a power of two in `1..=MAX_CAPACITY` (default 1024).
    pub fn capacity(self, capacity: usize) -> Self {
        self.with(|p| p.capacity = capacity)
    }

    /// How blocking operations wait for the other side (default [`Wakeups::Futex`]).
    pub fn wakeups(self, wakeups: Wakeups) -> Self {
        self.with(|p| p.wakeups = wakeups)
    }
}

impl<T: Pod + Send, M: Memory> Spsc<T, M> {
    /// A builder: set the capacity and wakeups, then create, open or place the ring.
    ///
    /// ```
    /// use synclab_core::{Spsc, Wakeups};
    ///
    /// let ring = Spsc::<u32>::builder().capacity(4).wakeups(Wakeups::Spin).heap().unwrap();
    /// assert_eq!(ring.capacity(), 4);
    /// ```
    pub fn builder() -> Builder<Self> {
        Builder::new()
    }

    fn from_storage(
        storage: Storage<PairControl<M>, M::Cell<T>>,
        env: Arc<dyn ProcessEnv>,
    ) -> Self {
        Spsc {
            storage,
            env,
            _t: PhantomData,
        }
    }

    /// The region the ring lives in (`None` on the heap).
    pub fn region(&self) -> Option<&Region> {
        self.storage.region()
    }

    /// Keeps a named ring's name after this process's handles drop, so a process started later
    /// can still open it (no effect on anonymous and heap rings).
    pub fn persist(&self) {
        if let Some(r) = self.storage.region() {
            r.persist();
        }
    }

    /// Number of slots.
    pub fn capacity(&self) -> usize {
        self.storage.slots().len()
    }

    /// How blocking operations wait, as recorded in the region at creation: a ring created with
    /// [`Wakeups::Futex`] reports [`Wakeups::FutexFenced`] where `membarrier` was unavailable.
    pub fn wakeups(&self) -> Wakeups {
        self.storage.ctrl().wakeups()
    }

    /// Another handle on this ring that claims roles as the process `env` describes (for models
    /// that play several processes in one).
    #[doc(hidden)]
    pub fn handle_as(&self, env: Arc<dyn ProcessEnv>) -> Self {
        Spsc {
            storage: self.storage.clone(),
            env,
            _t: PhantomData,
        }
    }

    /// Whether a role of this ring is held by a process that died without closing it (a new
    /// process may then take it over with [`Spsc::producer`] / [`Spsc::consumer`]).
    pub fn is_abandoned(&self) -> bool {
        let ctrl = self.storage.ctrl();
        ctrl.is_abandoned(Side::Producer, &*self.env)
            || ctrl.is_abandoned(Side::Consumer, &*self.env)
    }

    /// Takes the producer role: once per ring across all processes, unless its owner died, in
    /// which case this process takes it over and resumes after the last published record.
    /// `RoleTaken` while a live process holds it; `Closed` once a producer closed it.
    ///
    /// ```
    /// use synclab_core::{RingError, Spsc};
    ///
    /// let ring = Spsc::<u64>::builder().capacity(2).heap().unwrap();
    /// let mut p = ring.producer().unwrap();
    /// assert!(matches!(ring.producer(), Err(RingError::RoleTaken("producer"))));
    /// p.try_push(1).unwrap();
    /// p.try_push(2).unwrap();
    /// assert_eq!(p.try_push(3), Err(RingError::Full));
    /// ```
    pub fn producer(&self) -> Result<Producer<T, M>, RingError> {
        let (tail, head) = self.storage.ctrl().attach_producer(&*self.env)?;
        Ok(Producer {
            ring: self.clone(),
            tail,
            cached_head: head,
            slot: slot_of(tail, self.capacity()),
        })
    }

    /// Takes the consumer role: once per ring across all processes, unless its owner died, in
    /// which case this process takes it over and resumes at the first record not yet released
    /// (a record the dead owner read but had not released is delivered again: nothing committed
    /// is lost).
    ///
    /// ```
    /// use synclab_core::{RingError, Spsc};
    ///
    /// let ring = Spsc::<u64>::builder().capacity(4).heap().unwrap();
    /// let mut p = ring.producer().unwrap();
    /// let mut c = ring.consumer().unwrap();
    /// assert_eq!(c.try_pop(), Err(RingError::Empty));
    /// p.push(5).unwrap();
    /// assert_eq!(c.pop().unwrap(), 5);
    /// drop(p);
    /// assert_eq!(c.pop(), Err(RingError::Closed));
    /// ```
    pub fn consumer(&self) -> Result<Consumer<T, M>, RingError> {
        let head = self.storage.ctrl().attach_consumer(&*self.env)?;
        Ok(Consumer {
            ring: self.clone(),
            head,
            cached_tail: head,
            slot: slot_of(head, self.capacity()),
        })
    }
}

/// The slot of position `index`: computed once, when a handle attaches.
fn slot_of(index: u64, capacity: usize) -> usize {
    wrap(index, capacity)
}

/// The slot after `slot`. Kept incrementally because a 64-bit division per record (`index %
/// capacity`: the capacity is a power of two, but only at run time, so the compiler emits a
/// division) costs more than the rest of a push. `slot < capacity` holds by construction
/// ([`slot_of`] at attach, then only this), whatever a peer writes to the region.
#[inline(always)]
fn next_slot(slot: usize, capacity: usize) -> usize {
    if slot + 1 == capacity {
        0
    } else {
        slot + 1
    }
}

fn check(capacity: usize) -> Result<(), RingError> {
    check_capacity(capacity, 1, MAX_CAPACITY)
        .map_err(|reason| RingError::BadCapacity { capacity, reason })
}

/// The producing end. Not `Clone`: there is exactly one.
#[must_use = "dropping the handle closes its role for good (the peer sees Closed)"]
pub struct Producer<T: Pod + Send, M: Memory = RealMemory> {
    ring: Spsc<T, M>,
    /// Our own index: records published so far (the shared `tail` equals it).
    tail: u64,
    /// Last `head` we loaded; `<=` the real one.
    cached_head: u64,
    /// `tail % capacity`, kept incrementally (see [`next_slot`]).
    slot: usize,
}

impl<T: Pod + Send, M: Memory> Producer<T, M> {
    #[inline(always)]
    fn ctrl(&self) -> &PairControl<M> {
        self.ring.storage.ctrl()
    }

    /// Free slots, reloading `head` if the cached one says fewer than `want`.
    #[inline]
    fn free(&mut self, want: u64) -> Result<u64, RingError> {
        let cap = self.ring.capacity() as u64;
        let mut used = self.tail - self.cached_head;
        let full = |used: u64| {
            if M::mutant(Mutant::SpscFullOffByOne) {
                used > cap
            } else {
                used >= cap
            }
        };
        if full(used) || cap - used < want {
            self.cached_head = self.ctrl().load_head(self.tail, self.cached_head)?;
            used = self.tail - self.cached_head;
        }
        // Under the off-by-one mutant a "not full" ring may have `used == cap`: it then claims
        // one slot it does not have, which is the bug the model must catch.
        Ok(if full(used) { 0 } else { (cap - used).max(1) })
    }

    fn check_open(&self) -> Result<(), RingError> {
        if self.ctrl().is_closed(Side::Consumer) {
            return Err(RingError::Closed);
        }
        Ok(())
    }

    /// Publishes `n` more records.
    #[inline(always)]
    fn publish(&mut self, n: u64) {
        self.tail += n;
        // Release: the slot writes above happen-before the consumer's Acquire load of `tail`.
        self.ctrl()
            .tail
            .store(self.tail, M::order(Mutant::SpscRelaxedPublish, Release));
        self.ctrl().notify_readable();
    }

    /// Pushes `value` if a slot is free: `Err(Full)` otherwise, `Err(Closed)` if the consumer
    /// is gone.
    #[inline]
    pub fn try_push(&mut self, value: T) -> Result<(), RingError> {
        if self.free(1)? == 0 {
            self.check_open()?;
            return Err(RingError::Full);
        }
        let slots = self.ring.storage.slots();
        // SAFETY: the slot at `tail` is outside `[head, tail)`, so the consumer does not read it
        // until we publish (its last read of it happened-before our Acquire load of `head`).
        unsafe { slots[self.slot].write(value) };
        self.slot = next_slot(self.slot, slots.len());
        self.publish(1);
        Ok(())
    }

    /// Pushes as many of `values` as fit now, in order, with one publish; returns how many.
    pub fn push_slice(&mut self, values: &[T]) -> Result<usize, RingError> {
        if values.is_empty() {
            return Ok(0);
        }
        let free = self.free(values.len() as u64)?;
        let n = (values.len() as u64).min(free) as usize;
        if n == 0 {
            self.check_open()?;
            return Ok(0);
        }
        let slots = self.ring.storage.slots();
        for v in &values[..n] {
            // SAFETY: as in `try_push`: slots `[tail, tail + n)` are free (n <= free).
            unsafe { slots[self.slot].write(*v) };
            self.slot = next_slot(self.slot, slots.len());
        }
        self.publish(n as u64);
        Ok(n)
    }

    /// Pushes `value`, spinning then parking while the ring is full. `Err(Closed)` if the
    /// consumer closed; `Err(PeerGone)` within about 100 ms of the consumer's process dying
    /// while this waits.
    pub fn push(&mut self, value: T) -> Result<(), RingError> {
        self.push_until(value, None)
    }

    /// Pushes `value`, waiting at most until `deadline`.
    pub fn push_until(&mut self, value: T, deadline: Option<Deadline>) -> Result<(), RingError> {
        loop {
            match self.try_push(value) {
                Err(RingError::Full) => {}
                other => return other,
            }
            let ring = self.ring.clone();
            let ctrl = ring.storage.ctrl();
            let (tail, cap) = (self.tail, self.ring.capacity() as u64);
            ctrl.wait_for_peer(
                Side::Producer,
                &*ring.env,
                || {
                    // A corrupt head makes `try_push` report it; closed wakes us to report it.
                    ctrl.load_head(tail, 0).map_or(true, |h| tail - h < cap)
                        || ctrl.is_closed(Side::Consumer)
                },
                deadline,
            )?;
        }
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

/// The consuming end. Not `Clone`: there is exactly one.
#[must_use = "dropping the handle closes its role for good (the peer sees Closed)"]
pub struct Consumer<T: Pod + Send, M: Memory = RealMemory> {
    ring: Spsc<T, M>,
    /// Our own index: records consumed so far.
    head: u64,
    /// Last `tail` we loaded; `<=` the real one.
    cached_tail: u64,
    /// `head % capacity`, kept incrementally (see [`next_slot`]).
    slot: usize,
}

impl<T: Pod + Send, M: Memory> Consumer<T, M> {
    #[inline(always)]
    fn ctrl(&self) -> &PairControl<M> {
        self.ring.storage.ctrl()
    }

    /// Records available, reloading `tail` if the cached one says fewer than `want`.
    #[inline]
    fn available(&mut self, want: u64) -> Result<u64, RingError> {
        if self.cached_tail - self.head < want {
            self.cached_tail =
                self.ctrl()
                    .load_tail(self.head, self.cached_tail, self.ring.capacity() as u64)?;
        }
        Ok(self.cached_tail - self.head)
    }

    /// `Empty`, or `Closed` if the producer is gone and nothing is left.
    fn empty_or_closed(&mut self) -> RingError {
        if self.ctrl().is_closed(Side::Producer) {
            // The producer's last publish happened before its close: look once more.
            match self.available(1) {
                Ok(0) => RingError::Closed,
                Ok(_) => RingError::Empty, // caller retries and finds it
                Err(e) => e,
            }
        } else {
            RingError::Empty
        }
    }

    #[inline(always)]
    fn release(&mut self, n: u64) {
        self.head += n;
        // Release: our reads of the freed slots happen-before the producer's Acquire load of
        // `head` and its next writes to them.
        self.ctrl().head.store(self.head, Release);
        self.ctrl().notify_writable();
    }

    /// Pops one record: `Err(Empty)` if none, `Err(Closed)` if none and the producer is gone.
    #[inline]
    pub fn try_pop(&mut self) -> Result<T, RingError> {
        if self.available(1)? == 0 {
            return match self.empty_or_closed() {
                RingError::Empty if self.cached_tail > self.head => self.try_pop(),
                e => Err(e),
            };
        }
        let slots = self.ring.storage.slots();
        // SAFETY: `head < tail`: the slot is published (its write happened-before our Acquire
        // load of `tail`) and the producer does not touch it until we release it.
        let value = unsafe { slots[self.slot].read() };
        self.slot = next_slot(self.slot, slots.len());
        self.release(1);
        Ok(value)
    }

    /// Pops up to `out.len()` records with one release; returns how many (0 when empty).
    pub fn pop_slice(&mut self, out: &mut [T]) -> Result<usize, RingError> {
        if out.is_empty() {
            return Ok(0);
        }
        let avail = self.available(out.len() as u64)?;
        let n = (out.len() as u64).min(avail) as usize;
        if n == 0 {
            return match self.empty_or_closed() {
                RingError::Empty => Ok(0),
                e => Err(e),
            };
        }
        let slots = self.ring.storage.slots();
        for o in &mut out[..n] {
            // SAFETY: as in `try_pop`, for each of `[head, head + n)`, all below `tail`.
            *o = unsafe { slots[self.slot].read() };
            self.slot = next_slot(self.slot, slots.len());
        }
        self.release(n as u64);
        Ok(n)
    }

    /// Pops one record, spinning then parking while the ring is empty. `Err(Closed)` once the
    /// producer closed and everything is read; `Err(PeerGone)` within about 100 ms of the
    /// producer's process dying while this waits with nothing left to read.
    pub fn pop(&mut self) -> Result<T, RingError> {
        self.pop_until(None)
    }

    /// Pops one record, waiting at most until `deadline`.
    pub fn pop_until(&mut self, deadline: Option<Deadline>) -> Result<T, RingError> {
        loop {
            match self.try_pop() {
                Err(RingError::Empty) => {}
                other => return other,
            }
            self.wait_readable(deadline)?;
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

    fn wait_readable(&self, deadline: Option<Deadline>) -> Result<(), RingError> {
        let ctrl = self.ctrl();
        let head = self.head;
        ctrl.wait_for_peer(
            Side::Consumer,
            &*self.ring.env,
            || {
                // Relaxed would do for the test itself, but `load_tail` is the one validated
                // path; the Acquire it uses is free on x86 and cheap elsewhere.
                ctrl.load_tail(head, 0, u64::MAX).map_or(true, |t| t > head)
                    || ctrl.is_closed(Side::Producer)
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
