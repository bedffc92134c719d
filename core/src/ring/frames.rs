//! `frames`: a single-producer single-consumer ring of variable-length byte messages.
//!
//! The buffer is `capacity` bytes (a power of two, at least 32). `tail` and `head` count bytes
//! ever published/consumed, as in [`super::spsc`] (same control block). A frame is an 8-byte
//! header — `len: u32` and a tag, little-endian — then `len` payload bytes, padded to a multiple
//! of 8, always contiguous in the buffer. When a frame does not fit between its position and the
//! end of the buffer, the producer writes a *padding marker* (a header with the `PAD` tag) that
//! covers the rest of the buffer and puts the frame at offset 0; the consumer skips padding.
//!
//! The largest message is `capacity / 2 - 8` bytes: then a frame always fits once the ring has
//! drained, wherever the write position is (either before the end, or after padding, at 0).
//!
//! # Two modes: untrusted (the default) and trusted
//!
//! The bytes of a frame live in memory the peer process can write at any time. Handing out a
//! `&[u8]` or `&mut [u8]` over them would let a hostile (or buggy) peer change memory behind a
//! Rust reference, which is undefined behaviour. So:
//!
//! - **Untrusted, safe (default).** The producer copies in ([`FrameProducer::try_send`],
//!   [`FrameProducer::send`], or [`Grant::copy_from_slice`] / [`Grant::write_at`] on a
//!   reservation); the consumer copies out ([`FrameConsumer::try_recv`], [`FrameConsumer::recv`],
//!   [`FrameConsumer::recv_into`] into a reused buffer, or [`FrameConsumer::read`], which hands a
//!   closure this handle's own copy). Copies out are volatile reads (8 bytes at a time), so a
//!   concurrent write by the peer yields garbage bytes, never UB and never a value the compiler
//!   assumed stable; a copy in is one plain copy into space only this side owns until it
//!   publishes (nothing here reads those bytes back, so a peer writing them can only spoil its
//!   own data).
//! - **Trusted, zero-copy (`unsafe`).** [`Grant::as_mut_trusted`] and
//!   [`FrameConsumer::read_trusted`] / [`FrameConsumer::try_read_trusted`] give references into
//!   the ring itself. The caller promises the peer process follows the protocol (does not touch
//!   bytes it does not own): e.g. both ends are this program.
//!
//! Whatever the mode, every position and header read from the ring is validated before it is
//! used: positions on attach and reload (see `pair.rs`; a producer resumes only from a `tail`
//! that is a multiple of 8 and within `capacity` of `head`), and each header's tag, length and
//! bounds against the published `tail` before its payload is touched. A corrupt or hostile peer
//! yields `RingError::Corrupt` naming the field and value, never an out-of-bounds access or a
//! panic.

use super::eventcount::Fences;
use super::pair::{PairControl, Side, Wakeups};
use super::storage::{check_capacity, header_capacity, layout_for, wrap, Storage};
use super::RingError;
use crate::mem::{Atomic, Deadline, Memory, Mutant, RealMemory, SlotCell};
use crate::object::{Builder, RegionObject, SharedObject};
use crate::process::ProcessEnv;
use crate::shm::{Region, RegionHeader, RegionKind, RegionLayout, ShmError, TypeFingerprint};
use std::ptr::NonNull;
use std::sync::atomic::Ordering::Release;
use std::sync::Arc;

/// Smallest buffer (bytes): the largest message is then 8 bytes.
pub const MIN_CAPACITY: usize = 32;
/// Buffer size of a ring whose builder was not given one (bytes).
pub const DEFAULT_CAPACITY: usize = 64 * 1024;
/// Largest buffer (bytes).
pub const MAX_CAPACITY: usize = 1 << 32;
/// Frame header length.
pub const HEADER: usize = 8;
const TAG_FRAME: u32 = u32::from_le_bytes(*b"FRM1");
const TAG_PAD: u32 = u32::from_le_bytes(*b"PAD1");

fn padded(len: usize) -> usize {
    HEADER + len.div_ceil(8) * 8
}

/// Creation parameters of a frame ring (see [`Frames::builder`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FramesParams {
    /// Buffer size in bytes: a power of two in `MIN_CAPACITY..=MAX_CAPACITY` (default 64 KiB).
    pub capacity: usize,
    /// How blocking operations wait (recorded in the region).
    pub wakeups: Wakeups,
}

/// A ring of byte frames (see the module docs). Cheap to clone: clones share the ring.
pub struct Frames<M: Memory = RealMemory> {
    storage: Storage<PairControl<M>, M::Cell<u8>>,
    pub(crate) env: Arc<dyn ProcessEnv>,
}

impl<M: Memory> Clone for Frames<M> {
    fn clone(&self) -> Self {
        Frames {
            storage: self.storage.clone(),
            env: Arc::clone(&self.env),
        }
    }
}

impl<M: Memory> std::fmt::Debug for Frames<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frames")
            .field("capacity", &self.capacity())
            .field("wakeups", &self.wakeups())
            .field("region", &self.storage.region().and_then(Region::name))
            .finish()
    }
}

impl<M: Memory> SharedObject for Frames<M> {
    type Params = FramesParams;
    type Error = RingError;

    fn default_params() -> FramesParams {
        FramesParams {
            capacity: DEFAULT_CAPACITY,
            wakeups: Wakeups::Futex,
        }
    }

    fn check(p: &FramesParams) -> Result<(), RingError> {
        check_capacity(p.capacity, MIN_CAPACITY, MAX_CAPACITY).map_err(|reason| {
            RingError::BadCapacity {
                capacity: p.capacity,
                reason,
            }
        })
    }

    fn on_heap(p: &FramesParams, env: Arc<dyn ProcessEnv>) -> Result<Self, RingError> {
        let cells = (0..p.capacity).map(|_| M::Cell::new(0u8)).collect();
        Ok(Frames {
            storage: Storage::boxed(PairControl::new(p.wakeups), cells),
            env,
        })
    }

    fn shm_error(e: &RingError) -> Option<&ShmError> {
        e.shm()
    }
}

/// Byte frames opt out of the record-type check ([`TypeFingerprint::NONE`]).
impl RegionObject for Frames<RealMemory> {
    const KIND: RegionKind = RegionKind::FrameRing;

    fn record() -> TypeFingerprint {
        TypeFingerprint::NONE
    }

    fn layout(p: &FramesParams) -> RegionLayout {
        layout_for::<PairControl<RealMemory>, <RealMemory as Memory>::Cell<u8>>(
            Self::KIND,
            p.capacity,
            1,
            1,
        )
    }

    fn params_of(header: &RegionHeader) -> Result<FramesParams, ShmError> {
        Ok(FramesParams {
            capacity: header_capacity(header, MIN_CAPACITY, MAX_CAPACITY)?,
            ..Self::default_params()
        })
    }

    fn init(p: &FramesParams, body: NonNull<u8>, body_len: usize) {
        Storage::<PairControl<RealMemory>, <RealMemory as Memory>::Cell<u8>>::init_body(
            body,
            body_len,
            p.capacity,
            || PairControl::new(p.wakeups),
            |_| SlotCell::new(0u8),
        );
    }

    fn attach(region: Region, env: Arc<dyn ProcessEnv>) -> Result<Self, RingError> {
        Ok(Frames {
            storage: Storage::in_region(region),
            env,
        })
    }
}

impl<M: Memory> Builder<Frames<M>> {
    /// Buffer size in bytes: a power of two in `MIN_CAPACITY..=MAX_CAPACITY` (default 64 KiB).
    pub fn capacity(self, capacity: usize) -> Self {
        self.with(|p| p.capacity = capacity)
    }

    /// How blocking operations wait for the other side (default [`Wakeups::Futex`]).
    pub fn wakeups(self, wakeups: Wakeups) -> Self {
        self.with(|p| p.wakeups = wakeups)
    }
}

impl<M: Memory> Frames<M> {
    /// A builder: set the capacity and wakeups, then create, open or place the ring.
    ///
    /// ```
    /// use synclab_core::Frames;
    ///
    /// let ring = Frames::builder().capacity(64).heap().unwrap();
    /// assert_eq!(ring.max_message(), 24);
    /// ```
    pub fn builder() -> Builder<Self> {
        Builder::new()
    }

    /// The region the ring lives in (`None` on the heap).
    pub fn region(&self) -> Option<&Region> {
        self.storage.region()
    }

    /// Keeps a named ring's name after this process's handles drop (see [`Region::persist`]).
    pub fn persist(&self) {
        if let Some(r) = self.storage.region() {
            r.persist();
        }
    }

    /// Buffer size in bytes.
    pub fn capacity(&self) -> usize {
        self.storage.slots().len()
    }

    /// Largest message this ring accepts.
    pub fn max_message(&self) -> usize {
        self.capacity() / 2 - HEADER
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
        Frames {
            storage: self.storage.clone(),
            env,
        }
    }

    /// Whether a role of this ring is held by a process that died without closing it.
    pub fn is_abandoned(&self) -> bool {
        let ctrl = self.storage.ctrl();
        ctrl.is_abandoned(Side::Producer, &*self.env)
            || ctrl.is_abandoned(Side::Consumer, &*self.env)
    }

    /// Takes the producer role (once per ring across all processes, unless its owner died: see
    /// `Spsc::producer`).
    pub fn producer(&self) -> Result<FrameProducer<M>, RingError> {
        let ctrl = self.storage.ctrl();
        let (tail, head) =
            ctrl.attach_producer_within(&*self.env, self.capacity() as u64, HEADER as u64)?;
        Ok(FrameProducer {
            ring: self.clone(),
            tail,
            cached_head: head,
            waiting: ctrl.fences(),
        })
    }

    /// Takes the consumer role (once per ring across all processes, unless its owner died: see
    /// `Spsc::consumer`).
    pub fn consumer(&self) -> Result<FrameConsumer<M>, RingError> {
        let ctrl = self.storage.ctrl();
        let head = ctrl.attach_consumer_within(&*self.env)?;
        Ok(FrameConsumer {
            ring: self.clone(),
            head,
            cached_tail: head,
            waiting: ctrl.fences(),
            scratch: Vec::new(),
        })
    }

    pub(crate) fn cells(&self) -> &[M::Cell<u8>] {
        self.storage.slots()
    }
}

/// The producing end.
#[must_use = "dropping the handle closes its role for good (the peer sees Closed)"]
pub struct FrameProducer<M: Memory = RealMemory> {
    ring: Frames<M>,
    tail: u64,
    cached_head: u64,
    /// The waiting discipline, read once at attach (see `pair.rs`, "Trust").
    waiting: Option<Fences>,
}

/// Space reserved in the ring for one frame of exactly `len()` bytes: fill it (copying in with
/// [`Grant::copy_from_slice`] / [`Grant::write_at`], or in place with the `unsafe`
/// [`Grant::as_mut_trusted`]), then [`Grant::commit`]. Dropping it without committing publishes
/// nothing. Bytes not written are whatever the ring held there before.
#[must_use = "a grant publishes nothing unless committed"]
pub struct Grant<'a, M: Memory> {
    producer: &'a mut FrameProducer<M>,
    /// The payload's cells.
    cells: &'a [M::Cell<u8>],
    /// The trusted in-place view, made on first use of [`Grant::as_mut_trusted`].
    view: Option<M::BytesMut<'a>>,
    /// Bytes of padding before the frame (0 if it fits where it is).
    pad: usize,
    len: usize,
}

impl<M: Memory> FrameProducer<M> {
    fn ctrl(&self) -> &PairControl<M> {
        self.ring.storage.ctrl()
    }

    /// Where a frame of `len` bytes goes: `(padding before it, total bytes to publish)`.
    fn placement(&self, len: usize) -> (usize, usize) {
        let cap = self.ring.capacity();
        let off = wrap(self.tail, cap);
        let total = padded(len);
        if cap - off >= total {
            (0, total)
        } else {
            (cap - off, cap - off + total)
        }
    }

    /// Checks there is room for a `len`-byte frame now; returns the padding it needs before it.
    fn room_for(&mut self, len: usize) -> Result<usize, RingError> {
        let max = self.ring.max_message();
        if len > max {
            return Err(RingError::Oversize { len, max });
        }
        let (pad, need) = self.placement(len);
        let cap = self.ring.capacity() as u64;
        let slack = if M::mutant(Mutant::FramesFreeOffByOne) {
            8
        } else {
            0
        };
        let fits = |head: u64, tail: u64| need as u64 <= cap - (tail - head) + slack;
        if !fits(self.cached_head, self.tail) {
            self.cached_head = self.ctrl().load_head(self.tail, self.cached_head)?;
            if !fits(self.cached_head, self.tail) {
                if self.ctrl().is_closed(Side::Consumer) {
                    return Err(RingError::Closed);
                }
                return Err(RingError::Full);
            }
        }
        Ok(pad)
    }

    /// The grant for a frame of `len` bytes after `pad` bytes of padding (room checked).
    fn grant(&mut self, pad: usize, len: usize) -> Grant<'_, M> {
        let start = wrap(self.tail + pad as u64, self.ring.capacity());
        let cells = &self.ring.cells()[start + HEADER..start + HEADER + len];
        // SAFETY: the cells live in the ring's storage, which `self.ring` keeps alive at least as
        // long as the producer, which the grant borrows mutably for its whole life; we only
        // detach the borrow from `self.ring` so the grant can also hold `&mut self`.
        let cells: &[M::Cell<u8>] = unsafe { &*(cells as *const [M::Cell<u8>]) };
        Grant {
            producer: self,
            cells,
            view: None,
            pad,
            len,
        }
    }

    /// Reserves room for a `len`-byte frame if there is room now: `Err(Full)` otherwise,
    /// `Err(Oversize)` if it can never fit, `Err(Closed)` if the consumer is gone.
    pub fn try_reserve(&mut self, len: usize) -> Result<Grant<'_, M>, RingError> {
        let pad = self.room_for(len)?;
        Ok(self.grant(pad, len))
    }

    /// Reserves room for a `len`-byte frame, spinning then parking while the ring is full, at
    /// most until `deadline`.
    pub fn reserve(
        &mut self,
        len: usize,
        deadline: Option<Deadline>,
    ) -> Result<Grant<'_, M>, RingError> {
        loop {
            match self.room_for(len) {
                Ok(pad) => return Ok(self.grant(pad, len)),
                Err(RingError::Full) => {}
                Err(e) => return Err(e),
            }
            let (_, need) = self.placement(len);
            let ring = self.ring.clone();
            let ctrl = ring.storage.ctrl();
            let (tail, cached, cap) = (self.tail, self.cached_head, ring.capacity() as u64);
            ctrl.wait_for_peer_with(
                self.waiting,
                Side::Producer,
                &*ring.env,
                // A corrupt head wakes us: the next `room_for` reports it. `cached <= h` keeps
                // `tail - h <= capacity`.
                || {
                    ctrl.load_head(tail, cached)
                        .map_or(true, |h| need as u64 <= cap - (tail - h))
                        || ctrl.is_closed(Side::Consumer)
                },
                deadline,
            )?;
        }
    }

    /// Copies `bytes` into one frame if there is room now.
    pub fn try_send(&mut self, bytes: &[u8]) -> Result<(), RingError> {
        let mut grant = self.try_reserve(bytes.len())?;
        grant.copy_from_slice(bytes);
        grant.commit();
        Ok(())
    }

    /// Copies `bytes` into one frame, waiting for room at most until `deadline`.
    pub fn send(&mut self, bytes: &[u8], deadline: Option<Deadline>) -> Result<(), RingError> {
        let mut grant = self.reserve(bytes.len(), deadline)?;
        grant.copy_from_slice(bytes);
        grant.commit();
        Ok(())
    }

    /// Largest message accepted.
    pub fn max_message(&self) -> usize {
        self.ring.max_message()
    }

    fn write_header(&self, at: usize, len: u32, tag: u32) {
        let mut header = [0u8; HEADER];
        header[..4].copy_from_slice(&len.to_le_bytes());
        header[4..].copy_from_slice(&tag.to_le_bytes());
        // `[at, at + 8)` is inside the reserved, unpublished space.
        copy_in::<M>(&self.ring.cells()[at..at + HEADER], &header);
    }
}

/// Copies `bytes` into `cells` (equal lengths) in one run (`SlotCell::write_run`: a plain copy
/// on real memory): safe whatever the peer does to them at the same time (it only spoils its
/// own data, and nothing here depends on what it reads).
fn copy_in<M: Memory>(cells: &[M::Cell<u8>], bytes: &[u8]) {
    // SAFETY: the cells are space the caller reserved and has not published: a protocol-
    // abiding consumer does not access them; a hostile one racing with this write only gets
    // garbage (`u8` has no invalid values).
    unsafe { <M::Cell<u8> as SlotCell<u8>>::write_run(cells, bytes) };
}

/// Makes `out` a copy of the bytes of `cells`, in one run of volatile reads (`SlotCell::read_run`:
/// 8 bytes at a time on real memory), see [`copy_in`].
fn copy_out<M: Memory>(cells: &[M::Cell<u8>], out: &mut Vec<u8>) {
    // Replaces `out`'s contents, reusing its allocation and its initialised bytes (only growth
    // is zero-filled first: a reused buffer of the same size costs one copy, no memset).
    out.resize(cells.len(), 0);
    // SAFETY: the cells are published and not released: a protocol-abiding producer does not
    // write them; a hostile one racing with the volatile reads only gives us garbage bytes.
    unsafe { <M::Cell<u8> as SlotCell<u8>>::read_run(cells, out) };
}

impl<M: Memory> Grant<'_, M> {
    /// The frame's length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the frame is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Copies `bytes` into the frame at `offset`. Panics if `offset + bytes.len() > self.len()`
    /// (as slice indexing would).
    pub fn write_at(&mut self, offset: usize, bytes: &[u8]) {
        // Under loom, write a trusted view back before the cells are written directly.
        drop(self.view.take());
        copy_in::<M>(&self.cells[offset..offset + bytes.len()], bytes);
    }

    /// Copies `bytes` into the whole frame. Panics if `bytes.len() != self.len()`.
    pub fn copy_from_slice(&mut self, bytes: &[u8]) {
        assert_eq!(bytes.len(), self.len, "source length != frame length");
        self.write_at(0, bytes);
    }

    /// Sets every byte of the frame to `byte`.
    pub fn fill(&mut self, byte: u8) {
        drop(self.view.take());
        for cell in self.cells {
            // SAFETY: as in `copy_in`.
            unsafe { cell.write(byte) };
        }
    }

    /// The frame's bytes in place in the ring (trusted mode: zero-copy).
    ///
    /// # Safety
    /// The consumer's process must follow the protocol: it must not read or write these bytes
    /// until this grant is committed (a hostile consumer writing them while this reference
    /// lives is undefined behaviour). Use [`Grant::copy_from_slice`] when the peer is not
    /// trusted.
    pub unsafe fn as_mut_trusted(&mut self) -> &mut [u8] {
        if self.view.is_none() {
            // SAFETY: the cells lie in `[tail, tail + need)`, free space (checked against `head`
            // by `room_for`) that a protocol-abiding consumer does not access until we publish
            // it; the caller vouches for the consumer.
            self.view = Some(unsafe { M::bytes_mut(self.cells) });
        }
        self.view.as_deref_mut().expect("just made")
    }

    /// Publishes the frame.
    pub fn commit(mut self) {
        // Finish the payload writes (under loom: write the view back) before publishing.
        drop(self.view.take());
        let p = &mut *self.producer;
        let cap = p.ring.capacity();
        let off = wrap(p.tail, cap);
        if self.pad > 0 {
            p.write_header(off, (self.pad - HEADER) as u32, TAG_PAD);
        }
        p.write_header(
            wrap((off + self.pad) as u64, cap),
            self.len as u32,
            TAG_FRAME,
        );
        p.tail += (self.pad + padded(self.len)) as u64;
        // Release: the header and payload writes happen-before the consumer's Acquire load of
        // `tail`.
        p.ctrl()
            .tail
            .store(p.tail, M::order(Mutant::FramesRelaxedPublish, Release));
        p.ctrl().notify_readable_with(p.waiting);
    }
}

impl<M: Memory> std::fmt::Debug for FrameProducer<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameProducer")
            .field("ring", &self.ring)
            .field("tail", &self.tail)
            .finish()
    }
}

impl<M: Memory> std::fmt::Debug for Grant<'_, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grant")
            .field("len", &self.len)
            .field("pad", &self.pad)
            .finish()
    }
}

impl<M: Memory> Drop for FrameProducer<M> {
    fn drop(&mut self) {
        self.ring.storage.ctrl().close(Side::Producer);
    }
}

/// The consuming end.
#[must_use = "dropping the handle closes its role for good (the peer sees Closed)"]
pub struct FrameConsumer<M: Memory = RealMemory> {
    ring: Frames<M>,
    head: u64,
    cached_tail: u64,
    /// The waiting discipline, read once at attach (see `pair.rs`, "Trust").
    waiting: Option<Fences>,
    /// Where [`FrameConsumer::read`] copies a frame before handing it out.
    scratch: Vec<u8>,
}

/// The next frame's place in the buffer, validated: its payload is `[at, at + len)` and
/// consuming it releases `total` bytes.
#[derive(Clone, Copy)]
struct Located {
    at: usize,
    len: usize,
    total: usize,
}

impl<M: Memory> FrameConsumer<M> {
    fn ctrl(&self) -> &PairControl<M> {
        self.ring.storage.ctrl()
    }

    fn corrupt(&self, what: String) -> RingError {
        RingError::Corrupt(format!("frame at byte {}: {what}", self.head))
    }

    /// The header at `off` as `(len, tag)`, read byte by byte with volatile reads.
    fn header_at(&self, off: usize) -> (usize, u32) {
        let mut h = [0u8; HEADER];
        // `[off, off + 8)` is published (below the Acquire-loaded tail), checked by the caller.
        for (b, cell) in h.iter_mut().zip(&self.ring.cells()[off..off + HEADER]) {
            // SAFETY: as in `copy_out`.
            *b = unsafe { cell.read() };
        }
        (
            u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize,
            u32::from_le_bytes([h[4], h[5], h[6], h[7]]),
        )
    }

    /// Finds and validates the next published frame, skipping (consuming) padding: `Err(Empty)`
    /// if none, `Err(Closed)` if none and the producer is gone, `Err(Corrupt)` on a bad header.
    fn locate(&mut self) -> Result<Located, RingError> {
        let cap = self.ring.capacity();
        loop {
            if self.cached_tail == self.head {
                self.cached_tail =
                    self.ctrl()
                        .load_tail(self.head, self.cached_tail, cap as u64)?;
                if self.cached_tail == self.head {
                    if !self.ctrl().is_closed(Side::Producer) {
                        return Err(RingError::Empty);
                    }
                    // The producer's last publish happened before its close: look once more.
                    self.cached_tail =
                        self.ctrl()
                            .load_tail(self.head, self.cached_tail, cap as u64)?;
                    if self.cached_tail == self.head {
                        return Err(RingError::Closed);
                    }
                }
            }
            let off = wrap(self.head, cap);
            // `load_tail` keeps `head <= cached_tail <= head + cap`.
            let published = (self.cached_tail - self.head) as usize;
            if published < HEADER || off + HEADER > cap {
                return Err(self.corrupt(format!(
                    "tail {} leaves only {published} bytes published at offset {off}",
                    self.cached_tail
                )));
            }
            let (len, tag) = self.header_at(off);
            if tag == TAG_PAD {
                let skip = cap - off;
                if skip > published || len != skip - HEADER {
                    return Err(self.corrupt(format!(
                        "padding length {len} does not reach the end of the buffer \
                         (offset {off}, {published} bytes published)"
                    )));
                }
                self.consume(skip);
                continue;
            }
            if tag != TAG_FRAME {
                return Err(self.corrupt(format!("unknown tag {tag:#010x}")));
            }
            let total = padded(len.min(cap));
            if len > self.ring.max_message() || off + total > cap || total > published {
                return Err(self.corrupt(format!(
                    "frame length {len} does not fit (offset {off}, {published} bytes published)"
                )));
            }
            return Ok(Located {
                at: off + HEADER,
                len,
                total,
            });
        }
    }

    fn consume(&mut self, n: usize) {
        self.head += n as u64;
        // Release: our reads of these bytes happen-before the producer's Acquire load of `head`.
        self.ctrl().head.store(self.head, Release);
        self.ctrl().notify_writable_with(self.waiting);
    }

    /// Waits until something is published (or the producer closed), at most until `deadline`.
    fn wait(&self, deadline: Option<Deadline>) -> Result<(), RingError> {
        let ctrl = self.ctrl();
        let head = self.head;
        ctrl.wait_for_peer_with(
            self.waiting,
            Side::Consumer,
            &*self.ring.env,
            // Any other tail wakes us, a corrupt one too (even one below `head`): the next
            // `locate` validates it and reports it.
            || ctrl.load_tail(head, 0, u64::MAX) != Ok(head) || ctrl.is_closed(Side::Producer),
            deadline,
        )
    }

    /// Copies the next frame into `buf` (cleared first; its allocation is reused) if one is
    /// published, and returns its length. Untrusted mode: see the module docs.
    pub fn try_recv_into(&mut self, buf: &mut Vec<u8>) -> Result<usize, RingError> {
        let at = self.locate()?;
        copy_out::<M>(&self.ring.cells()[at.at..at.at + at.len], buf);
        self.consume(at.total);
        Ok(at.len)
    }

    /// Copies the next frame into `buf`, waiting at most until `deadline` while empty.
    pub fn recv_into(
        &mut self,
        buf: &mut Vec<u8>,
        deadline: Option<Deadline>,
    ) -> Result<usize, RingError> {
        loop {
            match self.try_recv_into(buf) {
                Err(RingError::Empty) => self.wait(deadline)?,
                other => return other,
            }
        }
    }

    /// The next frame as a `Vec`, if one is published.
    pub fn try_recv(&mut self) -> Result<Vec<u8>, RingError> {
        let mut buf = Vec::new();
        self.try_recv_into(&mut buf)?;
        Ok(buf)
    }

    /// The next frame as a `Vec`, waiting at most until `deadline`.
    pub fn recv(&mut self, deadline: Option<Deadline>) -> Result<Vec<u8>, RingError> {
        let mut buf = Vec::new();
        self.recv_into(&mut buf, deadline)?;
        Ok(buf)
    }

    /// Hands `f` a copy of the next frame (this handle's buffer, reused) if one is published:
    /// `Err(Empty)` if none, `Err(Closed)` if none and the producer is gone, `Err(Corrupt)` on an
    /// invalid header. Untrusted mode: see the module docs.
    pub fn try_read<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> Result<R, RingError> {
        let mut scratch = std::mem::take(&mut self.scratch);
        let got = self.try_recv_into(&mut scratch).map(|_| f(&scratch));
        self.scratch = scratch;
        got
    }

    /// Hands `f` a copy of the next frame, waiting at most until `deadline` while empty.
    pub fn read<R>(
        &mut self,
        deadline: Option<Deadline>,
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, RingError> {
        let mut scratch = std::mem::take(&mut self.scratch);
        let got = self.recv_into(&mut scratch, deadline).map(|_| f(&scratch));
        self.scratch = scratch;
        got
    }

    /// Hands `f` the next frame in place in the ring (trusted mode: zero-copy), if one is
    /// published; errors as [`FrameConsumer::try_read`].
    ///
    /// # Safety
    /// The producer's process must follow the protocol: it must not write a published frame
    /// until the consumer releases it (a hostile producer writing these bytes while `f` holds
    /// the slice is undefined behaviour). Use [`FrameConsumer::try_read`] when the peer is not
    /// trusted.
    pub unsafe fn try_read_trusted<R>(
        &mut self,
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, RingError> {
        let at = self.locate()?;
        let cells = &self.ring.cells()[at.at..at.at + at.len];
        let result = {
            // SAFETY: the payload is published and ours until we release it; the caller vouches
            // that the producer does not write it meanwhile.
            let bytes = unsafe { M::bytes(cells) };
            f(&bytes)
        };
        self.consume(at.total);
        Ok(result)
    }

    /// [`FrameConsumer::try_read_trusted`], waiting at most until `deadline` while empty.
    ///
    /// # Safety
    /// As [`FrameConsumer::try_read_trusted`].
    pub unsafe fn read_trusted<R>(
        &mut self,
        deadline: Option<Deadline>,
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, RingError> {
        let mut f = Some(f);
        loop {
            // SAFETY: forwarded from our caller.
            match unsafe { self.try_read_trusted(|b| (f.take().expect("called once"))(b)) } {
                Err(RingError::Empty) => self.wait(deadline)?,
                other => return other,
            }
        }
    }
}

impl<M: Memory> std::fmt::Debug for FrameConsumer<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameConsumer")
            .field("ring", &self.ring)
            .field("head", &self.head)
            .finish()
    }
}

impl<M: Memory> Drop for FrameConsumer<M> {
    fn drop(&mut self) {
        self.ring.storage.ctrl().close(Side::Consumer);
    }
}
