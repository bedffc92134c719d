//! The `Memory` trait: everything a lock-free algorithm needs from the memory it runs on.
//!
//! Algorithms in this crate never name `std::sync::atomic` directly. They take `M: Memory` and use
//! `M::U32`/`M::U64` atomics, `M::Cell<T>` payload cells, `M::spin_hint`, `M::fence` and the
//! futex-style `wait`/`wake`. [`RealMemory`] maps these onto std atomics and a process-shared
//! `SYS_futex`; the `verify` crate maps them onto loom, so the shipped code is the modelled code.
//!
//! Mutants (deliberate bugs that the model checker must find) are switched through
//! [`Memory::mutant`]. `RealMemory` returns a constant `false`, so every mutant branch is dead
//! code in a real build and costs nothing.

mod atomic;
mod deadline;
mod membarrier;
mod mutant;
mod real;

pub use atomic::Atomic;
pub use deadline::Deadline;
pub use mutant::Mutant;
pub use real::{RealBytesMut, RealCell, RealMemory};

use std::ops::{Deref, DerefMut};
use std::sync::atomic::Ordering;

/// Outcome of a futex-style wait. Any outcome may be spurious: callers always re-check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitOutcome {
    /// Woken by a `wake` (or spuriously).
    Woken,
    /// The word no longer held the expected value when the wait began.
    ValueChanged,
    /// The deadline passed.
    TimedOut,
    /// A signal interrupted the wait.
    Interrupted,
}

/// A cell holding one payload value, written by one side and read by the other once the
/// algorithm's synchronization says so. Under loom every access is tracked, so a missing
/// happens-before edge shows up as a data race.
pub trait SlotCell<T: Copy>: Send + Sync {
    /// A cell holding `value`.
    fn new(value: T) -> Self;
    /// Reads the value.
    ///
    /// # Safety
    /// No write to this cell may be in progress (the algorithm must order the last write before
    /// this read).
    unsafe fn read(&self) -> T;
    /// Writes the value.
    ///
    /// # Safety
    /// No other access to this cell may be in progress.
    unsafe fn write(&self, value: T);

    /// Writes `src` into the first `src.len()` of `cells`, in order (a bulk copy where the
    /// memory allows one; cell by cell otherwise).
    ///
    /// # Safety
    /// As [`SlotCell::write`], for each of those cells; `src.len() <= cells.len()`.
    unsafe fn write_run(cells: &[Self], src: &[T])
    where
        Self: Sized,
    {
        for (cell, v) in cells.iter().zip(src) {
            // SAFETY: the caller's guarantee, cell by cell.
            unsafe { cell.write(*v) };
        }
    }

    /// Reads the first `dst.len()` of `cells` into `dst`, in order.
    ///
    /// # Safety
    /// As [`SlotCell::read`], for each of those cells; `dst.len() <= cells.len()`.
    unsafe fn read_run(cells: &[Self], dst: &mut [T])
    where
        Self: Sized,
    {
        for (cell, d) in cells.iter().zip(dst) {
            // SAFETY: the caller's guarantee, cell by cell.
            *d = unsafe { cell.read() };
        }
    }
}

/// The memory an algorithm runs on. See the module docs.
pub trait Memory: Sized + Send + Sync + 'static {
    /// A 32-bit atomic that can also be a futex word.
    type U32: Atomic<u32>;
    /// A 64-bit atomic; its low half can be a futex word ([`Memory::wait64_low`]).
    type U64: Atomic<u64>;
    /// The cell type for payloads.
    type Cell<T: Copy + Send + 'static>: SlotCell<T>;
    /// A read view of a run of byte cells.
    type Bytes<'a>: Deref<Target = [u8]>;
    /// A write view of a run of byte cells; writes are visible once it is dropped.
    type BytesMut<'a>: DerefMut<Target = [u8]>;

    /// How many times blocking operations spin (with [`Memory::spin_hint`]) before parking.
    const SPIN_LIMIT: u32;

    /// How long a blocked ring operation waits before it checks whether its peer process is
    /// still alive (and a ledger semaphore's acquire recovers dead holders' permits). `None`
    /// (the default, and loom's: time does not pass in a model) never checks.
    const PEER_CHECK_INTERVAL: Option<std::time::Duration> = None;

    /// How many times a blocked mpmc operation gives up its CPU (`sched_yield`), checking after
    /// each, before it parks: with more workers than CPUs the peer that will free a slot is
    /// often waiting for this very CPU. 0 (the default, and loom's) skips the phase.
    const YIELD_LIMIT: u32 = 0;

    /// A spin-loop hint (`pause`); under loom, a yield so the model can make progress.
    fn spin_hint();

    /// A hint that the cache line of `_p` will be read soon (a prefetch instruction on real
    /// memory). Not a memory access: it cannot fault, race or be observed, so it may name memory
    /// a peer is writing. Nothing by default (models, Miri).
    #[inline(always)]
    fn prefetch<T>(_p: *const T) {}

    /// A hint that the cache line of `_p` will be written soon: fetched for ownership
    /// (`prefetchw` on real memory). Not a memory access, as [`Memory::prefetch`]. Nothing by
    /// default.
    #[inline(always)]
    fn prefetch_write<T>(_p: *const T) {}

    /// A memory fence.
    fn fence(order: Ordering);

    /// Makes this process able to take part in asymmetric barriers ([`Memory::fence_light`] on
    /// one side of a handshake, [`Memory::fence_heavy`] on the other). False when the platform
    /// cannot: then both sides must use `fence(SeqCst)`. Call it before the first light fence.
    fn join_asymmetric() -> bool;

    /// The frequent side's half of an asymmetric barrier: a compiler fence in real memory. Only
    /// valid when every process that may run the other half has joined
    /// ([`Memory::join_asymmetric`]) and that side uses [`Memory::fence_heavy`].
    fn fence_light();

    /// The rare side's half of an asymmetric barrier: acts as a `SeqCst` fence executed by the
    /// caller and, at this moment, by every joined thread that is between two light fences.
    /// Returns false if it could not be issued; the caller must then not rely on it.
    fn fence_heavy() -> bool;

    /// Blocks while `*word == expected`, until woken, `deadline` passes, or spuriously.
    fn wait32(word: &Self::U32, expected: u32, deadline: Option<Deadline>) -> WaitOutcome;

    /// Wakes up to `count` waiters blocked on `word`.
    fn wake32(word: &Self::U32, count: u32);

    /// Blocks while the low 32 bits of `*word` equal `expected_low` (a futex on the low half of a
    /// 64-bit word, as glibc's semaphore does), until woken, `deadline` passes, or spuriously.
    fn wait64_low(word: &Self::U64, expected_low: u32, deadline: Option<Deadline>) -> WaitOutcome;

    /// Wakes up to `count` waiters blocked on the low half of `word`.
    fn wake64_low(word: &Self::U64, count: u32);

    /// Whether `deadline` has passed. Under loom time never passes on its own: only a wait with
    /// a deadline may time out, at a point the model checker chooses.
    fn expired(deadline: Deadline) -> bool;

    /// A read view of `cells` as bytes.
    ///
    /// # Safety
    /// No write to any of these cells may be in progress for the lifetime of the view.
    unsafe fn bytes<'a>(cells: &'a [Self::Cell<u8>]) -> Self::Bytes<'a>;

    /// A write view of `cells` as bytes.
    ///
    /// # Safety
    /// No other access to any of these cells may be in progress for the lifetime of the view.
    unsafe fn bytes_mut<'a>(cells: &'a [Self::Cell<u8>]) -> Self::BytesMut<'a>;

    /// Whether the deliberate bug `m` is switched on. Always `false` for real memory.
    #[inline(always)]
    fn mutant(m: Mutant) -> bool {
        let _ = m;
        false
    }

    /// `order`, unless mutant `m` is on, in which case `Relaxed`: the one-line switch that turns a
    /// publishing store or an acquiring load into a bug.
    #[inline(always)]
    fn order(m: Mutant, order: Ordering) -> Ordering {
        if Self::mutant(m) {
            Ordering::Relaxed
        } else {
            order
        }
    }
}
