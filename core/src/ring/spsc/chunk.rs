//! Chunks: runs of slots granted to one side in place, and the batch operations built on them.
//!
//! [`Producer::write_chunk`] grants up to `n` free slots as at most two contiguous runs (the
//! second only when the run wraps past the end of the ring); the producer fills them in place
//! and [`WriteChunk::commit`]s the first `k`, publishing them with one `Release` store of
//! `tail` and one notify. [`Consumer::read_chunk`] grants up to `n` published records the same
//! way, read in place and [`ReadChunk::release`]d. `push_slice`/`pop_slice` are a chunk and a
//! bulk copy (`memcpy` into the ring; out of it, a copy that does not assume the ring's memory
//! is stable, see below).
//!
//! # What a reader may assume (trust model)
//!
//! Records are `Pod`: every bit pattern is a valid `T`, so nothing a peer writes can make a
//! record invalid, and every index is masked into the ring and every reloaded index validated,
//! so nothing a peer writes can move a read or write outside the ring.
//!
//! - A **well-behaved producer** never writes a slot between publishing it and the consumer
//!   releasing it: the slices of a [`ReadChunk`] are then stable, ordinary shared data, and
//!   reading them in place ([`ReadChunk::as_slices`]) is zero-copy.
//! - A **hostile or buggy producer** (another process mapping the same region) can write those
//!   slots at any time. A `&[T]` over memory that changes under it is outside what Rust's rules
//!   allow, so a consumer that does not trust its producer should not read in place: use
//!   [`Consumer::pop_slice`] / [`ReadChunk::copy_to`] (or [`Consumer::try_pop`]), which copy
//!   the records out with volatile reads: the copy may hold garbage values (torn or stale
//!   records), never undefined behaviour, and the caller validates the values it got.
//!
//! The producer's side is symmetric: a hostile consumer can read the slots of a [`WriteChunk`]
//! while they are being filled, which only discloses what we write there.

use super::{Consumer, Producer, Runs};
use crate::mem::{Deadline, Memory, Mutant, RealCell, RealMemory, SlotCell};
use crate::ring::RingError;
use bytemuck::Pod;
use std::cell::UnsafeCell;

/// Free slots granted to the producer: fill them, then [`WriteChunk::commit`]. Dropping it
/// publishes nothing. Holds the producer borrowed, so nothing else happens on it meanwhile.
#[must_use = "a write chunk publishes nothing until it is committed"]
pub struct WriteChunk<'a, T: Pod + Send, M: Memory = RealMemory> {
    producer: &'a mut Producer<T, M>,
    len: usize,
}

/// Published records granted to the consumer: read them, then [`ReadChunk::release`] them.
/// Dropping it releases nothing (the records are read again next time).
#[must_use = "a read chunk frees no slot until it is released"]
pub struct ReadChunk<'a, T: Pod + Send, M: Memory = RealMemory> {
    consumer: &'a mut Consumer<T, M>,
    len: usize,
}

impl<T: Pod + Send, M: Memory> std::fmt::Debug for WriteChunk<'_, T, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteChunk")
            .field("len", &self.len)
            .finish()
    }
}

impl<T: Pod + Send, M: Memory> std::fmt::Debug for ReadChunk<'_, T, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadChunk").field("len", &self.len).finish()
    }
}

impl<T: Pod + Send, M: Memory> Producer<T, M> {
    /// Grants up to `n` free slots (fewer if fewer are free; none if `n == 0`), as at most two
    /// contiguous runs. `Err(Full)` if no slot is free, `Err(Closed)` if none is and the
    /// consumer is gone. Unlike rtrb's, a short grant is not an error: take what there is.
    ///
    /// ```
    /// use synclab_core::Spsc;
    ///
    /// let ring = Spsc::<u32>::builder().capacity(4).heap().unwrap();
    /// let (mut p, mut c) = (ring.producer().unwrap(), ring.consumer().unwrap());
    /// let mut chunk = p.write_chunk(3).unwrap();
    /// let (a, b) = chunk.as_mut_slices();
    /// for (i, slot) in a.iter_mut().chain(b).enumerate() {
    ///     *slot = i as u32 * 10;
    /// }
    /// chunk.commit_all();
    /// let chunk = c.read_chunk(8).unwrap();
    /// assert_eq!(chunk.as_slices(), (&[0, 10, 20][..], &[][..]));
    /// chunk.release_all();
    /// ```
    #[inline]
    pub fn write_chunk(&mut self, n: usize) -> Result<WriteChunk<'_, T, M>, RingError> {
        let len = if n == 0 {
            0
        } else {
            self.reserve(n as u64)? as usize
        };
        Ok(WriteChunk {
            producer: self,
            len,
        })
    }

    /// As [`Producer::write_chunk`], but while no slot is free, spins then parks until one is
    /// or `deadline` passes (`Err(TimedOut)`); `Err(Closed)` if the consumer closed,
    /// `Err(PeerGone)` as [`Producer::push`]. `n == 0` grants nothing at once.
    pub fn write_chunk_until(
        &mut self,
        n: usize,
        deadline: Option<Deadline>,
    ) -> Result<WriteChunk<'_, T, M>, RingError> {
        let len = loop {
            if n == 0 {
                break 0;
            }
            match self.reserve(n as u64) {
                Ok(len) => break len as usize,
                Err(RingError::Full) => self.wait_room(deadline)?,
                Err(e) => return Err(e),
            }
        };
        Ok(WriteChunk {
            producer: self,
            len,
        })
    }

    /// Pushes as many of `values` as fit now, in order, with one publish; returns how many
    /// (0 if the ring is full or `values` empty; `Err(Closed)` if full and the consumer gone).
    #[inline]
    pub fn push_slice(&mut self, values: &[T]) -> Result<usize, RingError> {
        let mut chunk = match self.write_chunk(values.len()) {
            Ok(chunk) => chunk,
            Err(RingError::Full) => return Ok(0),
            Err(e) => return Err(e),
        };
        let n = chunk.len();
        if M::mutant(Mutant::SpscChunkPublishBeforeCopy) {
            // The bug: publish first, fill afterwards.
            let (a, b) = chunk.runs();
            chunk.producer.publish(n as u64);
            // SAFETY: none, deliberately: the consumer may already read these cells. Only
            // model memory switches mutants on, and loom reports the race.
            unsafe {
                M::Cell::<T>::write_run(a, &values[..a.len()]);
                M::Cell::<T>::write_run(b, &values[a.len()..n]);
            }
            return Ok(n);
        }
        chunk.copy_from(values);
        chunk.commit_all();
        Ok(n)
    }
}

impl<'a, T: Pod + Send, M: Memory> WriteChunk<'a, T, M> {
    /// Slots granted.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no slot was granted.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The granted cells, as the ring lays them out.
    #[inline(always)]
    fn runs(&self) -> Runs<'a, T, M> {
        let ring: *const super::Spsc<T, M> = &self.producer.ring;
        // SAFETY: the ring handle lives inside the producer, which we borrow for 'a; the cells
        // it points to live as long as the handle's storage. Only shared references to the
        // cells are formed (cells are written through `SlotCell`/raw pointers).
        let ring = unsafe { &*ring };
        ring.runs(self.producer.tail, self.len)
    }

    /// Writes `values[i]` into granted slot `i`, for the first `min(len, values.len())` slots
    /// (a bulk copy in real memory); returns how many.
    #[inline]
    pub fn copy_from(&mut self, values: &[T]) -> usize {
        let n = values.len().min(self.len);
        let (a, b) = self.runs();
        let split = a.len().min(n);
        // SAFETY: granted slots are free (outside `[head, tail)`): the consumer does not read
        // them before we publish, and we hold the producer exclusively.
        unsafe {
            M::Cell::<T>::write_run(a, &values[..split]);
            M::Cell::<T>::write_run(b, &values[split..n]);
        }
        n
    }

    /// Fills granted slots in order from `iter` until either runs out; returns how many were
    /// written (commit them with [`WriteChunk::commit`]). Loops over each contiguous run
    /// separately, so the compiler sees two plain loops.
    #[inline]
    pub fn fill_from_iter(&mut self, iter: impl IntoIterator<Item = T>) -> usize {
        let (a, b) = self.runs();
        let mut iter = iter.into_iter();
        let mut n = 0;
        for run in [a, b] {
            for cell in run {
                let Some(v) = iter.next() else { return n };
                // SAFETY: as in `copy_from`.
                unsafe { cell.write(v) };
                n += 1;
            }
        }
        n
    }

    /// Writes `value` into granted slot `i`. Panics if `i >= len()`.
    #[inline]
    pub fn set(&mut self, i: usize, value: T) {
        assert!(i < self.len, "slot {i} of a chunk of {}", self.len);
        let (a, b) = self.runs();
        let cell = if i < a.len() { &a[i] } else { &b[i - a.len()] };
        // SAFETY: as in `copy_from`.
        unsafe { cell.write(value) };
    }

    /// Publishes the first `k` granted slots (in order) with one store; the rest stay free.
    /// Panics if `k > len()`.
    #[inline]
    pub fn commit(self, k: usize) {
        assert!(k <= self.len, "commit {k} of a chunk of {}", self.len);
        if k > 0 {
            self.producer.publish(k as u64);
        }
    }

    /// Publishes every granted slot.
    #[inline]
    pub fn commit_all(self) {
        let k = self.len;
        self.commit(k);
    }
}

impl<T: Pod + Send> WriteChunk<'_, T, RealMemory> {
    /// The granted slots as two contiguous slices, in order (the second empty unless the grant
    /// wraps). They hold whatever was there before (old records or zeroes: any bits are a
    /// valid `T`); overwrite what you commit.
    #[inline]
    pub fn as_mut_slices(&mut self) -> (&mut [T], &mut [T]) {
        let (a, b) = self.runs();
        // SAFETY: `RealCell<T>` is transparent over `UnsafeCell<T>` over `T`, so each run is
        // contiguous `T`s we may write through a shared reference; the slots are granted to us
        // alone (see `copy_from`), `&mut self` makes these the only live views, and they end
        // before `commit` (which takes `self`) publishes the slots.
        unsafe { (cells_mut(a), cells_mut(b)) }
    }
}

impl<T: Pod + Send, M: Memory> Consumer<T, M> {
    /// Grants up to `n` published records (fewer if fewer are published; none if `n == 0`),
    /// as at most two contiguous runs. `Err(Empty)` if none, `Err(Closed)` if none and the
    /// producer is gone. See the module docs for what may be assumed about their contents.
    #[inline]
    pub fn read_chunk(&mut self, n: usize) -> Result<ReadChunk<'_, T, M>, RingError> {
        let len = if n == 0 {
            0
        } else {
            self.available(n as u64)? as usize
        };
        Ok(self.grant(len))
    }

    /// A read chunk of the `len` records from `head` on (`len` <= what is published).
    #[inline(always)]
    fn grant(&mut self, mut len: usize) -> ReadChunk<'_, T, M> {
        if M::mutant(Mutant::SpscChunkSecondSliceOffByOne)
            && !self.ring.runs(self.head, len).1.is_empty()
        {
            // The bug: one slot too many in the wrapped part.
            len += 1;
        }
        self.ring.prefetch_published(self.head, len);
        ReadChunk {
            consumer: self,
            len,
        }
    }

    /// As [`Consumer::read_chunk`], but while nothing is published, spins then parks until
    /// something is or `deadline` passes (`Err(TimedOut)`); `Err(Closed)` once the producer
    /// closed and everything is read, `Err(PeerGone)` as [`Consumer::pop`]. `n == 0` grants
    /// nothing at once.
    pub fn read_chunk_until(
        &mut self,
        n: usize,
        deadline: Option<Deadline>,
    ) -> Result<ReadChunk<'_, T, M>, RingError> {
        let len = loop {
            if n == 0 {
                break 0;
            }
            match self.available(n as u64) {
                Ok(len) => break len as usize,
                Err(RingError::Empty) => self.wait_readable(deadline)?,
                Err(e) => return Err(e),
            }
        };
        Ok(self.grant(len))
    }

    /// Pops up to `out.len()` records with one release, copying them out (safe with an
    /// untrusted producer, see the module docs); returns how many (0 when empty or `out` is).
    #[inline]
    pub fn pop_slice(&mut self, out: &mut [T]) -> Result<usize, RingError> {
        let chunk = match self.read_chunk(out.len()) {
            Ok(chunk) => chunk,
            Err(RingError::Empty) => return Ok(0),
            Err(e) => return Err(e),
        };
        let n = chunk.copy_to(out);
        chunk.release(n);
        Ok(n)
    }
}

impl<'a, T: Pod + Send, M: Memory> ReadChunk<'a, T, M> {
    /// Records granted.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no record was granted.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The granted cells, as the ring lays them out.
    #[inline(always)]
    fn runs(&self) -> Runs<'a, T, M> {
        let ring: *const super::Spsc<T, M> = &self.consumer.ring;
        // SAFETY: as in `WriteChunk::runs`.
        let ring = unsafe { &*ring };
        ring.runs(self.consumer.head, self.len)
    }

    /// Copies the first `min(len, out.len())` records into `out` with volatile reads (safe
    /// against a producer that writes them meanwhile: the values may then be garbage, nothing
    /// worse); returns how many.
    #[inline]
    pub fn copy_to(&self, out: &mut [T]) -> usize {
        let (a, b) = self.runs();
        let n = out.len().min(a.len() + b.len());
        let split = a.len().min(n);
        let (oa, ob) = out[..n].split_at_mut(split);
        // SAFETY: granted records are published (their writes happened-before our Acquire load
        // of `tail`) and the producer does not write them before we release them.
        unsafe {
            M::Cell::<T>::read_run(a, oa);
            M::Cell::<T>::read_run(b, ob);
        }
        n
    }

    /// Record `i` of the chunk (a volatile read). Panics if `i >= len()`.
    #[inline]
    pub fn get(&self, i: usize) -> T {
        let (a, b) = self.runs();
        assert!(
            i < a.len() + b.len(),
            "record {i} of a chunk of {}",
            self.len
        );
        let cell = if i < a.len() { &a[i] } else { &b[i - a.len()] };
        // SAFETY: as in `copy_to`.
        unsafe { cell.read() }
    }

    /// Frees the first `k` records for the producer with one store. Panics if `k > len()`.
    #[inline]
    pub fn release(self, k: usize) {
        assert!(k <= self.len, "release {k} of a chunk of {}", self.len);
        if k > 0 {
            self.consumer.release(k as u64);
        }
    }

    /// Frees every granted record.
    #[inline]
    pub fn release_all(self) {
        let k = self.len;
        self.release(k);
    }
}

impl<T: Pod + Send> ReadChunk<'_, T, RealMemory> {
    /// The granted records as two contiguous slices, in order (the second empty unless the
    /// grant wraps): zero-copy. Stable only if the producer is well-behaved: see the module
    /// docs, and use [`ReadChunk::copy_to`] / [`Consumer::pop_slice`] with an untrusted one.
    #[inline]
    pub fn as_slices(&self) -> (&[T], &[T]) {
        let (a, b) = self.runs();
        // SAFETY: as in `as_mut_slices`, for reading: the records are published and a
        // well-behaved producer does not write them until `release` (which takes `self`, so
        // these borrows end first).
        unsafe { (cells_ref(a), cells_ref(b)) }
    }
}

/// `cells` as the `T`s they hold.
///
/// # Safety
/// No write to them may happen while the slice lives.
#[inline(always)]
unsafe fn cells_ref<T>(cells: &[RealCell<T>]) -> &[T] {
    // SAFETY: `RealCell<T>` is transparent over `UnsafeCell<T>`, itself transparent over `T`;
    // the caller rules out writes for the slice's lifetime.
    unsafe { std::slice::from_raw_parts(cells.as_ptr().cast::<T>(), cells.len()) }
}

/// `cells` as the `T`s they hold, writable.
///
/// # Safety
/// No other access to them may happen while the slice lives.
#[inline(always)]
#[allow(clippy::mut_from_ref)]
unsafe fn cells_mut<T>(cells: &[RealCell<T>]) -> &mut [T] {
    let ptr = UnsafeCell::raw_get(cells.as_ptr().cast::<UnsafeCell<T>>());
    // SAFETY: as in `cells_ref`; writing through a shared reference is what `UnsafeCell`
    // allows, and the caller guarantees exclusivity.
    unsafe { std::slice::from_raw_parts_mut(ptr, cells.len()) }
}
