//! `LoomMemory`: the `Memory` trait on loom's atomics, cells and a futex emulation.
//!
//! The futex is a loom `Mutex` + `Condvar` per word (`crate::emulated::futex_word`, shared with
//! shuttle): `wait` re-checks the word under the lock and sleeps on the condvar; `wake` takes the
//! lock before notifying. As with the kernel's futex hash bucket lock, a waker that changed the
//! word before calling `wake` cannot slip between a waiter's check and its sleep. A wait with a
//! deadline never sleeps: it returns `TimedOut` at once if the word still holds the expected
//! value, which lets loom place the timeout at every point of the interleaving.
//!
//! Every atomic access, fence, wake and wait is `#[track_caller]` and passes its caller's source
//! site through [`super::weaken::hooks`], which records it and, during a `--weaken-all` run,
//! may weaken its ordering by one step (or remove the fence, the wake, or the wait's re-check).
//! Outside such a run the hooks return the ordering unchanged.

use super::weaken::hooks::{self, Op};
use crate::emulated::{futex_word, Access, CellBytes, CellBytesMut};
use loom::sync::atomic::{AtomicU32, AtomicU64};
use loom::sync::{Condvar, Mutex};
use std::panic::Location;
use std::sync::atomic::Ordering;
use synclab_core::model::{Deadline, Memory, Mutant, SlotCell, WaitOutcome};

/// Loom memory with mutant number `MUTANT` switched on (0 = the correct algorithm).
pub struct LoomMemory<const MUTANT: u32>;

futex_word!(
    /// A loom atomic that can also be waited on like a futex (see `crate::emulated`).
    FutexWord,
    hook = weakened
);

/// The ordering loom runs an access with: its caller's site is recorded, and weakened during a
/// `--weaken-all` run (`#[track_caller]`: the site is the algorithm's line, not this file's). A
/// compare-and-exchange's success and failure orderings are each a site of their own.
#[track_caller]
fn weakened(access: Access, o: Ordering) -> Ordering {
    let op = match access {
        Access::Load => Op::Load,
        Access::Store => Op::Store,
        Access::Rmw(_) => Op::Rmw,
        Access::Cas(_) => Op::Cas,
        Access::CasFailure(_) => Op::CasFailure,
    };
    hooks::atomic(op, o, Location::caller())
}

/// A payload cell whose every access loom tracks for data races.
pub struct LoomCell<T>(loom::cell::UnsafeCell<T>);

// SAFETY: accesses go through `read`/`write`, whose callers guarantee exclusivity by the
// algorithm's protocol; loom checks exactly that claim and panics on a race.
unsafe impl<T: Send> Sync for LoomCell<T> {}

impl<T: Copy + Send> SlotCell<T> for LoomCell<T> {
    fn new(value: T) -> Self {
        LoomCell(loom::cell::UnsafeCell::new(value))
    }
    unsafe fn read(&self) -> T {
        // SAFETY: loom tracks this access; the caller guarantees no concurrent write.
        self.0.with(|p| unsafe { *p })
    }
    unsafe fn write(&self, value: T) {
        // SAFETY: loom tracks this access; the caller guarantees exclusive access.
        self.0.with_mut(|p| unsafe { *p = value })
    }
}

/// Read view of byte cells: a copy, each byte read through its tracked cell.
pub type LoomBytes = CellBytes;

/// Write view of byte cells: a scratch buffer written back through the tracked cells on drop.
pub type LoomBytesMut<'a> = CellBytesMut<'a, LoomCell<u8>>;

impl<const MUTANT: u32> Memory for LoomMemory<MUTANT> {
    type U32 = FutexWord<AtomicU32>;
    type U64 = FutexWord<AtomicU64>;
    type Cell<T: Copy + Send + 'static> = LoomCell<T>;
    type Bytes<'a> = LoomBytes;
    type BytesMut<'a> = LoomBytesMut<'a>;

    const SPIN_LIMIT: u32 = 1;

    fn spin_hint() {
        loom::thread::yield_now();
    }

    #[track_caller]
    fn fence(order: Ordering) {
        if let Some(order) = hooks::fence(Op::Fence, order, Location::caller()) {
            loom::sync::atomic::fence(order);
        }
    }

    /// Every loom thread "joins": the models run the asymmetric-barrier code path.
    fn join_asymmetric() -> bool {
        true
    }

    /// `membarrier` promotes each joined thread's compiler fence to a full fence at the moment
    /// the heavy side runs (see `core::mem::membarrier`): modelled as the `SeqCst` fence it
    /// stands for.
    #[track_caller]
    fn fence_light() {
        if let Some(o) = hooks::fence(Op::FenceLight, Ordering::SeqCst, Location::caller()) {
            loom::sync::atomic::fence(o);
        }
    }

    /// The caller's own full barrier, as a `SeqCst` fence.
    #[track_caller]
    fn fence_heavy() -> bool {
        if let Some(o) = hooks::fence(Op::FenceHeavy, Ordering::SeqCst, Location::caller()) {
            loom::sync::atomic::fence(o);
        }
        true
    }

    /// A wait whose re-check `weaken` removed sleeps even if the word has changed.
    #[track_caller]
    fn wait32(word: &Self::U32, expected: u32, deadline: Option<Deadline>) -> WaitOutcome {
        let recheck = hooks::call(Op::Wait, Location::caller());
        word.futex_wait(
            || !recheck || word.value.load(Ordering::SeqCst) == expected,
            deadline,
        )
    }

    #[track_caller]
    fn wake32(word: &Self::U32, count: u32) {
        if hooks::call(Op::Wake, Location::caller()) {
            word.futex_wake(count)
        }
    }

    #[track_caller]
    fn wait64_low(word: &Self::U64, expected_low: u32, deadline: Option<Deadline>) -> WaitOutcome {
        let recheck = hooks::call(Op::Wait, Location::caller());
        word.futex_wait(
            || !recheck || word.value.load(Ordering::SeqCst) as u32 == expected_low,
            deadline,
        )
    }

    #[track_caller]
    fn wake64_low(word: &Self::U64, count: u32) {
        if hooks::call(Op::Wake, Location::caller()) {
            word.futex_wake(count)
        }
    }

    fn expired(_deadline: Deadline) -> bool {
        false
    }

    unsafe fn bytes(cells: &[LoomCell<u8>]) -> LoomBytes {
        // SAFETY: forwarded: the caller guarantees no write is in progress.
        unsafe { CellBytes::read(cells) }
    }

    unsafe fn bytes_mut<'a>(cells: &'a [LoomCell<u8>]) -> LoomBytesMut<'a> {
        // SAFETY: forwarded: the caller has exclusive access to the cells.
        unsafe { CellBytesMut::new(cells) }
    }

    fn mutant(m: Mutant) -> bool {
        MUTANT != 0 && m as u32 == MUTANT
    }
}
