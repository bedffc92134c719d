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

use crate::emulated::{futex_word, unchanged, CellBytes, CellBytesMut};
use ::shuttle::sync::atomic::{AtomicU32, AtomicU64};
use ::shuttle::sync::{Condvar, Mutex};
use std::cell::UnsafeCell;
use std::sync::atomic::Ordering;
use synclab_core::model::{Deadline, Memory, Mutant, SlotCell, WaitOutcome};

/// Shuttle memory with mutant number `MUTANT` switched on (0 = the correct algorithm).
pub struct ShuttleMemory<const MUTANT: u32>;

futex_word!(
    /// A shuttle atomic that can also be waited on like a futex (see `crate::emulated`).
    ShuttleWord,
    hook = unchanged
);

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
pub type ShuttleBytes = CellBytes;

/// Write view of byte cells: a scratch buffer written back to the cells on drop.
pub type ShuttleBytesMut<'a> = CellBytesMut<'a, ShuttleCell<u8>>;

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
        unsafe { CellBytes::read(cells) }
    }

    unsafe fn bytes_mut<'a>(cells: &'a [ShuttleCell<u8>]) -> ShuttleBytesMut<'a> {
        // SAFETY: forwarded: the caller has exclusive access to the cells.
        unsafe { CellBytesMut::new(cells) }
    }

    fn mutant(m: Mutant) -> bool {
        MUTANT != 0 && m as u32 == MUTANT
    }
}
