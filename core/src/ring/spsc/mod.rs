//! `spsc`: a bounded single-producer single-consumer ring of fixed-size `Pod` records.
//!
//! Invariant: `tail - head <= capacity` (wrapping `u64` arithmetic); slots `[head, tail)`
//! (mod capacity) hold published records that only the consumer may read, the rest belong to
//! the producer. The producer writes a slot, then publishes it with a `Release` store of `tail`;
//! the consumer loads `tail` with `Acquire` before reading. Symmetrically for `head`. Each side
//! keeps its own index privately and a cached copy of the other's, and reloads the other's only
//! when the cache says full/empty; a reloaded index is validated then (and only then) against
//! the invariant, so a corrupt or hostile peer gets [`RingError::Corrupt`], and the fast path
//! does no validation at all: a slot is `index & (capacity - 1)`, inside the ring whatever the
//! index. So a single push or pop makes one store to a line the other side only reads, no
//! division, no bounds check, and no system call: the eventcount `notify_all` is one load while
//! nobody is parked (plus a `SeqCst` fence on a [`Wakeups::FutexFenced`] ring, or one created
//! where `membarrier` is unavailable; nothing at all on a [`Wakeups::Spin`] ring), with the
//! waiting discipline read once when the handle attaches.
//!
//! Batches go through chunks ([`Producer::write_chunk`], [`Consumer::read_chunk`], see
//! `chunk.rs`): up to two contiguous runs of slots, filled or read in place and published with
//! one store and one notify. `producer.rs` and `consumer.rs` hold the two ends.
//!
//! Works across processes: create the ring in a named or anonymous region, open it in the other
//! process, and take the producer in one and the consumer in the other. The roles are claimed in
//! the region, so a second producer (in any process) is refused.

mod chunk;
mod consumer;
mod lines;
mod producer;
#[cfg(test)]
mod tests;

pub use chunk::{ReadChunk, WriteChunk};
pub use consumer::Consumer;
pub use producer::Producer;

use super::pair::{PairControl, Side, Wakeups};
use super::storage::{check_capacity, header_capacity, layout_for, Storage};
use super::RingError;
use crate::mem::{Memory, RealMemory, SlotCell};
use crate::object::{Builder, RegionObject, SharedObject};
use crate::process::ProcessEnv;
use crate::shm::{Region, RegionHeader, RegionKind, RegionLayout, ShmError, TypeFingerprint};
use bytemuck::Pod;
use std::marker::PhantomData;
use std::ptr::NonNull;
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
        Producer::attach(self.clone(), tail, head)
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
        Ok(Consumer::attach(self.clone(), head))
    }

    /// The slot of position `index`: `index & (capacity - 1)` (every constructor checked the
    /// capacity is a power of two), so always in bounds whatever a peer wrote to the region.
    #[inline(always)]
    fn cell(&self, index: u64) -> &M::Cell<T> {
        let slots = self.storage.slots();
        let i = (index & (slots.len() as u64 - 1)) as usize;
        debug_assert!(i < slots.len());
        // SAFETY: `slots.len()` is a power of two (checked at creation and on open), so the mask
        // keeps `i < slots.len()`.
        unsafe { slots.get_unchecked(i) }
    }

    /// The `len` slots from position `index` on, as at most two contiguous runs (the second
    /// empty unless the run wraps). `len <= capacity`.
    #[inline]
    fn runs(&self, index: u64, len: usize) -> Runs<'_, T, M> {
        let slots = self.storage.slots();
        let start = (index & (slots.len() as u64 - 1)) as usize;
        let first = len.min(slots.len() - start);
        (&slots[start..start + first], &slots[..len - first])
    }
}

/// A run of slots as at most two contiguous parts (see [`Spsc::runs`]).
type Runs<'a, T, M> = (&'a [<M as Memory>::Cell<T>], &'a [<M as Memory>::Cell<T>]);

fn check(capacity: usize) -> Result<(), RingError> {
    check_capacity(capacity, 1, MAX_CAPACITY)
        .map_err(|reason| RingError::BadCapacity { capacity, reason })
}
