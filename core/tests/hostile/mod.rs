//! Shared by the hostile-peer tests (`hostile_rings`, `hostile_mpmc`, `hostile_sem`): a second
//! mapping of a live region through which the test plays a corrupt or hostile peer, writing
//! arbitrary values into its words between the calls a handle on the first mapping makes
//! ([`store`]), and what every such test checks of a call ([`timed`]: back within its deadline
//! plus [`BOUND`]), with the process keys a peer may write ([`dead_key`], [`me_key`]). For
//! `spsc` and `frames`: the fields of their control block (`core/src/ring/pair.rs`), the frame
//! headers and the region header ([`Attacker`]). Each test uses part of this module.
#![allow(dead_code)]

use nix::sys::mman::{mmap, munmap, MapFlags, ProtFlags};
use proptest::prelude::*;
use std::num::NonZeroUsize;
use std::os::fd::AsFd;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};
use synclab_core::shm::{Region, HEADER_LEN};

/// Control-block byte offsets in the body (asserted against `offset_of!` in `pair.rs`'s tests).
pub const TAIL: usize = 0;
pub const HEAD: usize = 128;
pub const NOT_EMPTY: usize = 256;
pub const NOT_FULL: usize = 384;
pub const FLAGS: usize = 512;
pub const OWNERS: usize = 640;
/// Where the slots (spsc) or the byte buffer (frames) start in the body.
pub const SLOTS: usize = 768;

/// How long a call may run past its deadline before the test calls it a hang: generous, since
/// the 2-core test machine is shared (a wait itself ends within microseconds of its deadline).
pub const SLACK: Duration = Duration::from_millis(500);

/// How far past its deadline (or, for a non-blocking call, past its start) a call of the mpmc
/// and semaphore tests may return: retry budgets, and waits sliced by `PEER_CHECK_INTERVAL`
/// (100 ms, `recover` may wait one for a peer inside a window), on a loaded 2-core machine.
pub const BOUND: Duration = Duration::from_secs(2);

/// Runs `f` and checks it came back by [`BOUND`] after `wait` (0 for non-blocking calls).
pub fn timed<R>(what: &str, wait: Option<Duration>, f: impl FnOnce() -> R) -> R {
    let start = Instant::now();
    let r = f();
    let took = start.elapsed();
    let limit = wait.unwrap_or(Duration::ZERO) + BOUND;
    assert!(took <= limit, "{what} took {took:?}, more than {limit:?}");
    r
}

/// The packed key (start time << 32 | pid, as claimer and ledger owner words hold them) of a
/// process that has exited: an owner a repairer or `recover` judges dead.
pub fn dead_key() -> u64 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    (1u64 << 32) | u64::from(pid)
}

/// This process's packed key.
pub fn me_key() -> u64 {
    let k = synclab_core::ProcessKey::current().unwrap();
    (u64::from(k.start) << 32) | u64::from(k.pid)
}

/// Words a hostile peer writes, each arm as likely: 0, all ones, the sign bit, small numbers
/// (positions, phases, counts, flags), "just below zero", then `extra` (the object's own bit
/// patterns), a dead process's key, this process's key, and anything.
pub fn edge_values(
    dead: u64,
    me: u64,
    extra: Vec<BoxedStrategy<u64>>,
) -> impl Strategy<Value = u64> {
    let mut arms = vec![
        Just(0u64).boxed(),
        Just(u64::MAX).boxed(),
        Just(1u64 << 63).boxed(),
        (0u64..20).boxed(),
        (0u64..20).prop_map(|d| u64::MAX - d).boxed(),
    ];
    arms.extend(extra);
    arms.extend([Just(dead).boxed(), Just(me).boxed(), any::<u64>().boxed()]);
    proptest::strategy::Union::new(arms)
}

/// Stores `value` (its low half unless `wide`) at byte `offset` of the mapping at `base`,
/// `len` bytes long, atomically as another process would.
///
/// # Safety
/// `base..base + len` is a live mapping that outlives the call, and `offset` is 8-aligned
/// (`wide`) or 4-aligned from an 8-aligned `base`.
pub unsafe fn store(base: *mut u8, len: usize, offset: usize, value: u64, wide: bool) {
    assert!(
        offset + if wide { 8 } else { 4 } <= len,
        "{offset} outside {len}"
    );
    // SAFETY: in bounds (asserted) and aligned (the caller's contract); the atomics have the
    // integers' layout, and the other mapping accesses these words atomically too.
    unsafe {
        let p = base.add(offset);
        if wide {
            AtomicU64::from_ptr(p.cast()).store(value, SeqCst);
        } else {
            AtomicU32::from_ptr(p.cast()).store(value as u32, SeqCst);
        }
    }
}

/// A field of a live ring region a hostile peer can write.
#[derive(Clone, Copy, Debug)]
pub enum Field {
    Tail,
    Head,
    /// The eventcount word (`seq`) or its waiter count, of "not empty" (false) or "not full".
    EventSeq(bool),
    EventWaiters(bool),
    Flags,
    /// The owner word of the producer (false) or consumer role.
    Owner(bool),
    /// The `k`-th 8-byte word of the buffer: a frame header (length and tag) or an spsc record.
    BufferWord(usize),
    /// The length (low half) of the `k`-th 8-byte word of the buffer: a frame length word.
    FrameLen(usize),
    /// The `k`-th 8-byte word of the region header.
    HeaderWord(usize),
}

/// What to write: an absolute value, or the field's current value plus a small delta (near-miss
/// values are the ones that slip past weak checks).
#[derive(Clone, Copy, Debug)]
pub enum Value {
    Abs(u64),
    Rel(i16),
}

pub fn fields(buffer_words: usize) -> impl Strategy<Value = Field> {
    prop_oneof![
        3 => Just(Field::Tail),
        3 => Just(Field::Head),
        1 => any::<bool>().prop_map(Field::EventSeq),
        2 => any::<bool>().prop_map(Field::EventWaiters),
        2 => Just(Field::Flags),
        1 => any::<bool>().prop_map(Field::Owner),
        2 => (0..buffer_words).prop_map(Field::BufferWord),
        2 => (0..buffer_words).prop_map(Field::FrameLen),
        1 => (0usize..HEADER_LEN / 8).prop_map(Field::HeaderWord),
    ]
}

pub fn values() -> impl Strategy<Value = Value> {
    prop_oneof![
        2 => prop_oneof![
            Just(0u64),
            Just(u64::MAX),
            Just(u64::MAX - 7),
            Just(1u64 << 62),
            Just((1u64 << 62) + 8),
            Just(u32::MAX as u64),
            // SPIN_ONLY, ASYMMETRIC, both close flags, everything.
            Just(16u64),
            Just(32u64),
            Just(12u64),
        ]
        .prop_map(Value::Abs),
        2 => any::<u64>().prop_map(Value::Abs),
        3 => (-64i16..=64).prop_map(Value::Rel),
    ]
}

/// A second shared mapping of a region's file.
pub struct Attacker {
    base: NonNull<u8>,
    len: usize,
    buffer_words: usize,
}

impl Attacker {
    /// Maps `region`'s fd again (as another process would) and targets a buffer of
    /// `buffer_bytes` bytes.
    pub fn new(region: &Region, buffer_bytes: usize) -> Attacker {
        let fd = region.fd().expect("an fd-backed region");
        let len = region.len();
        // SAFETY: a fresh shared mapping of the whole file, which is `len` bytes long (sealed for
        // memfd regions; named ones are not truncated by these tests); unmapped in `drop`.
        let base = unsafe {
            mmap(
                None,
                NonZeroUsize::new(len).expect("non-empty region"),
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
                fd.as_fd(),
                0,
            )
        }
        .expect("second mapping");
        Attacker {
            base: base.cast(),
            len,
            buffer_words: buffer_bytes / 8,
        }
    }

    fn offset(&self, field: Field) -> (usize, bool) {
        let body = |off: usize| HEADER_LEN + off;
        let word = |k: usize| body(SLOTS + 8 * (k % self.buffer_words.max(1)));
        match field {
            Field::Tail => (body(TAIL), true),
            Field::Head => (body(HEAD), true),
            Field::EventSeq(full) => (body(if full { NOT_FULL } else { NOT_EMPTY }), false),
            Field::EventWaiters(full) => (body(if full { NOT_FULL } else { NOT_EMPTY }) + 4, false),
            Field::Flags => (body(FLAGS), false),
            Field::Owner(consumer) => (body(OWNERS + 8 * consumer as usize), true),
            Field::BufferWord(k) => (word(k), true),
            Field::FrameLen(k) => (word(k), false),
            Field::HeaderWord(k) => (8 * (k % (HEADER_LEN / 8)), true),
        }
    }

    /// Writes `value` into `field` (an atomic store, as a peer's would be); returns what it wrote.
    pub fn write(&self, field: Field, value: Value) -> u64 {
        let (off, wide) = self.offset(field);
        assert!(off + if wide { 8 } else { 4 } <= self.len);
        // SAFETY: `off` is inside the mapping (asserted) and 8- or 4-aligned (every offset above
        // is a multiple of 4, and of 8 for wide fields, from a page-aligned base); the mapping
        // lives as long as `self`; the atomics have the integers' layout, and the other mapping
        // also accesses these words atomically (or as volatile bytes).
        unsafe {
            let p = self.base.as_ptr().add(off);
            if wide {
                let a = &*p.cast::<AtomicU64>();
                let v = resolve(a.load(SeqCst), value);
                a.store(v, SeqCst);
                v
            } else {
                let a = &*p.cast::<AtomicU32>();
                let v = resolve(a.load(SeqCst) as u64, value) as u32;
                a.store(v, SeqCst);
                v as u64
            }
        }
    }

    /// Reads a 32-bit field (e.g. a waiter count).
    pub fn read32(&self, field: Field) -> u32 {
        let (off, _) = self.offset(field);
        // SAFETY: as in `write`.
        unsafe { (*self.base.as_ptr().add(off).cast::<AtomicU32>()).load(SeqCst) }
    }
}

fn resolve(current: u64, value: Value) -> u64 {
    match value {
        Value::Abs(v) => v,
        Value::Rel(d) => current.wrapping_add(d as i64 as u64),
    }
}

impl Drop for Attacker {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, unmapped once; no reference into it survives.
        let _ = unsafe { munmap(self.base.cast(), self.len) };
    }
}
