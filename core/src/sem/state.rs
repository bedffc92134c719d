//! The state word's layout and the control block that holds it (see the module docs of
//! `sem` for the picture), with the small helpers that decode the word.

use super::SemError;
use crate::mem::{Atomic, Memory};
#[allow(unused_imports)] // (doc links)
use crate::process::ProcessKey;

/// The largest `max` a semaphore may declare: the value field has 30 bits.
pub const MAX_PERMITS: u32 = (1 << 30) - 1;
/// The most ledger slots a region may have.
pub const MAX_LEDGER_SLOTS: u32 = 4096;

pub(super) const VALUE_MASK: u64 = MAX_PERMITS as u64;
pub(super) const PRIO: u64 = 1 << 30;
pub(super) const CLOSED: u64 = 1 << 31;
pub(super) const WAITER_ONE: u64 = 1 << 32;
pub(super) const WAITERS_SHIFT: u32 = 32;

/// The most `acquire` spins before registering and parking: the memory's spin limit (about
/// 1000 `pause`s on real memory; 1 under loom, so loom explores the spin). Each handle adapts its
/// own spin length below this (adaptive spinning, as glibc's adaptive mutexes do): doubled when a
/// spin ends in an acquire, cut by an eighth (down to 1) when it ends in parking.
///
/// Measured with `sem_bench` on this 2-vCPU VM (one-way cross-process wake latency, ping-pong):
/// a fixed ~1000-`pause` spin gave 0.32 µs when the two processes were pinned to different CPUs
/// but 28 µs unpinned (the kernel wakes the peer onto the spinner's CPU, and the spin delays it);
/// a fixed ~128 gave 2.5-9 µs pinned, 8.5-11 µs unpinned; adaptive gives 0.04-1 µs pinned and
/// 0.6-5 µs unpinned (glibc, which never spins: 53-72 µs pinned, 2.2-4.4 µs unpinned; the VM is
/// shared, so runs vary). When
/// processes outnumber CPUs, spins stop paying off and shrink, so waiters stop stealing CPU from
/// holders.
#[inline(always)]
pub(super) fn spin_limit<M: Memory>() -> u32 {
    M::SPIN_LIMIT.max(1)
}

#[cold]
pub(super) fn corrupt_count(s: u64) -> SemError {
    SemError::Corrupt {
        what: "semaphore count",
        found: u64::from(value_of(s)),
        rule: "above the declared maximum",
    }
}

#[inline(always)]
pub(super) fn value_of(s: u64) -> u32 {
    (s & VALUE_MASK) as u32
}
#[inline(always)]
pub(super) fn waiters_of(s: u64) -> u32 {
    (s >> WAITERS_SHIFT) as u32
}
#[inline(always)]
pub(super) fn low_of(s: u64) -> u32 {
    s as u32
}

/// The control block: placement-initialised at the start of a region body (real memory) or
/// boxed (loom). `#[repr(C)]`; the state word has a 128-byte line to itself.
#[repr(C, align(128))]
pub struct SemCore<M: Memory> {
    pub(super) state: M::U64,
    /// Ledger mode: the packed [`ProcessKey`] of the priority-token holder while it holds the
    /// token (set after taking it, cleared before dropping it), so `recover` can clear the token
    /// of a holder that died while waiting. 0 = unknown.
    pub(super) token_owner: M::U64,
    /// Ledger mode: the packed [`ProcessKey`] of the process running `recover` (0 = none): the
    /// recovery lock (see `recover.rs`).
    pub(super) recoverer: M::U64,
}

impl<M: Memory> SemCore<M> {
    pub(super) fn new(permits: u32) -> Self {
        SemCore {
            state: M::U64::new(u64::from(permits)),
            token_owner: M::U64::new(0),
            recoverer: M::U64::new(0),
        }
    }
}
