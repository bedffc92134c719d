//! `ShuttleMemory`: the `Memory` trait on shuttle's atomics, cells and a futex emulation.
//!
//! Shuttle runs one thread at a time and switches only at its own operations (atomics, locks,
//! yields), so plain memory is enough for payload cells: a read or write between two switch
//! points cannot overlap another thread's. The futex is a shuttle `Mutex` + `Condvar` per word:
//! `wait` re-checks the word under the lock and sleeps on the condvar, `wake` notifies under
//! the lock, so a waker that changed the word first cannot slip between a waiter's check and
//! its sleep (the kernel futex's hash-bucket lock gives the same). A wait with a deadline never
//! sleeps: it returns `TimedOut` at once if the word still holds the expected value (time does
//! not pass in shuttle), which lets the scheduler place the timeout anywhere.

use ::shuttle::sync::atomic::{AtomicU32, AtomicU64};
use ::shuttle::sync::{Condvar, Mutex};
use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::Ordering;
use synclab_core::model::{Atomic, Deadline, Memory, Mutant, SlotCell, WaitOutcome};

/// Shuttle memory with mutant number `MUTANT` switched on (0 = the correct algorithm).
pub struct ShuttleMemory<const MUTANT: u32>;

/// A shuttle atomic that can also be waited on like a futex.
pub struct ShuttleWord<A> {
    value: A,
    lock: Mutex<()>,
    cv: Condvar,
}

macro_rules! impl_shuttle_atomic {
    ($atomic:ty, $v:ty) => {
        impl Atomic<$v> for ShuttleWord<$atomic> {
            fn new(v: $v) -> Self {
                ShuttleWord {
                    value: <$atomic>::new(v),
                    lock: Mutex::new(()),
                    cv: Condvar::new(),
                }
            }
            fn load(&self, o: Ordering) -> $v {
                self.value.load(o)
            }
            fn store(&self, v: $v, o: Ordering) {
                self.value.store(v, o)
            }
            fn swap(&self, v: $v, o: Ordering) -> $v {
                self.value.swap(v, o)
            }
            fn fetch_add(&self, v: $v, o: Ordering) -> $v {
                self.value.fetch_add(v, o)
            }
            fn fetch_sub(&self, v: $v, o: Ordering) -> $v {
                self.value.fetch_sub(v, o)
            }
            fn fetch_or(&self, v: $v, o: Ordering) -> $v {
                self.value.fetch_or(v, o)
            }
            fn compare_exchange(&self, c: $v, n: $v, s: Ordering, f: Ordering) -> Result<$v, $v> {
                self.value.compare_exchange(c, n, s, f)
            }
            fn compare_exchange_weak(
                &self,
                c: $v,
                n: $v,
                s: Ordering,
                f: Ordering,
            ) -> Result<$v, $v> {
                self.value.compare_exchange_weak(c, n, s, f)
            }
        }
    };
}

impl_shuttle_atomic!(AtomicU32, u32);
impl_shuttle_atomic!(AtomicU64, u64);

impl<A> ShuttleWord<A> {
    fn futex_wait(&self, still: impl Fn() -> bool, deadline: Option<Deadline>) -> WaitOutcome {
        let guard = self.lock.lock().unwrap();
        if !still() {
            return WaitOutcome::ValueChanged;
        }
        if deadline.is_some() {
            return WaitOutcome::TimedOut;
        }
        drop(self.cv.wait(guard).unwrap());
        WaitOutcome::Woken
    }

    fn futex_wake(&self, count: u32) {
        let _guard = self.lock.lock().unwrap();
        if count == 1 {
            self.cv.notify_one();
        } else {
            self.cv.notify_all();
        }
    }
}

/// A payload cell in plain memory (see the module docs for why that suffices under shuttle).
pub struct ShuttleCell<T>(UnsafeCell<T>);

// SAFETY: shuttle runs one thread at a time and never switches inside `read`/`write` (they
// contain no shuttle operation), so two accesses never overlap; which value a read sees is what
// the algorithm's protocol decides, and the tests check it.
unsafe impl<T: Send> Sync for ShuttleCell<T> {}

impl<T: Copy + Send> SlotCell<T> for ShuttleCell<T> {
    fn new(value: T) -> Self {
        ShuttleCell(UnsafeCell::new(value))
    }
    unsafe fn read(&self) -> T {
        // SAFETY: no access overlaps under shuttle (see the `Sync` impl); the caller guarantees
        // no write is in progress.
        unsafe { *self.0.get() }
    }
    unsafe fn write(&self, value: T) {
        // SAFETY: as for `read`; the caller guarantees exclusive access.
        unsafe { *self.0.get() = value }
    }
}

/// Read view of byte cells: a copy.
pub struct ShuttleBytes(Vec<u8>);

impl Deref for ShuttleBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

/// Write view of byte cells: a scratch buffer written back to the cells on drop.
pub struct ShuttleBytesMut<'a> {
    cells: &'a [ShuttleCell<u8>],
    buf: Vec<u8>,
}

impl Deref for ShuttleBytesMut<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.buf
    }
}

impl DerefMut for ShuttleBytesMut<'_> {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.buf
    }
}

impl Drop for ShuttleBytesMut<'_> {
    fn drop(&mut self) {
        for (cell, b) in self.cells.iter().zip(&self.buf) {
            // SAFETY: the creator of this view was granted exclusive access to these cells.
            unsafe { cell.write(*b) };
        }
    }
}

impl<const MUTANT: u32> Memory for ShuttleMemory<MUTANT> {
    type U32 = ShuttleWord<AtomicU32>;
    type U64 = ShuttleWord<AtomicU64>;
    type Cell<T: Copy + Send + 'static> = ShuttleCell<T>;
    type Bytes<'a> = ShuttleBytes;
    type BytesMut<'a> = ShuttleBytesMut<'a>;

    /// A few spins, each a yield the scheduler may use to run another thread, then park.
    const SPIN_LIMIT: u32 = 2;

    fn spin_hint() {
        ::shuttle::thread::yield_now();
    }

    fn fence(order: Ordering) {
        ::shuttle::sync::atomic::fence(order);
    }

    /// Every shuttle thread "joins": the asymmetric-barrier path runs, each half as a fence
    /// (every execution is sequentially consistent anyway).
    fn join_asymmetric() -> bool {
        true
    }

    fn fence_light() {
        ::shuttle::sync::atomic::fence(Ordering::SeqCst);
    }

    fn fence_heavy() -> bool {
        ::shuttle::sync::atomic::fence(Ordering::SeqCst);
        true
    }

    fn wait32(word: &Self::U32, expected: u32, deadline: Option<Deadline>) -> WaitOutcome {
        word.futex_wait(|| word.value.load(Ordering::SeqCst) == expected, deadline)
    }

    fn wake32(word: &Self::U32, count: u32) {
        word.futex_wake(count)
    }

    fn wait64_low(word: &Self::U64, expected_low: u32, deadline: Option<Deadline>) -> WaitOutcome {
        word.futex_wait(
            || word.value.load(Ordering::SeqCst) as u32 == expected_low,
            deadline,
        )
    }

    fn wake64_low(word: &Self::U64, count: u32) {
        word.futex_wake(count)
    }

    fn expired(_deadline: Deadline) -> bool {
        false
    }

    unsafe fn bytes(cells: &[ShuttleCell<u8>]) -> ShuttleBytes {
        // SAFETY: forwarded: the caller guarantees no write is in progress.
        ShuttleBytes(cells.iter().map(|c| unsafe { c.read() }).collect())
    }

    unsafe fn bytes_mut<'a>(cells: &'a [ShuttleCell<u8>]) -> ShuttleBytesMut<'a> {
        ShuttleBytesMut {
            cells,
            buf: vec![0; cells.len()],
        }
    }

    fn mutant(m: Mutant) -> bool {
        MUTANT != 0 && m as u32 == MUTANT
    }
}
