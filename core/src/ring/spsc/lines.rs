//! How the two ends of an spsc ring keep out of each other's cache lines: the consumer asks the
//! CPU to fetch published records before it reads them, the producer asks for free slots' lines
//! (for ownership) before it writes them, and a producer that found the ring full lets a few
//! lines' worth of slots free up before it writes into the first.
//!
//! Measured (BENCHMARKS.md, the spsc paragraphs of "What limits each figure"): a consumer
//! reading records that the producer wrote on another core otherwise waits out each line's miss
//! in turn, and so does a producer writing lines the consumer read on the last lap (the hardware
//! prefetchers do not run ahead over lines another core holds); and a producer that writes the
//! moment one slot frees writes into a line whose other records the consumer is still reading,
//! so the line travels back and forth once per record. Every prefetch names only memory the
//! side owns for now (published records for the consumer, free slots for the producer), so it
//! never pulls a line the peer is writing.

use super::Spsc;
use crate::mem::Memory;
use bytemuck::Pod;

/// The unit of every prefetch here: one x86-64 cache line.
const PREFETCH_LINE: usize = 64;
/// How far ahead of its index each side prefetches when it moves one record at a time: 8 lines,
/// about what a consumer reads while one remote line arrives.
const PREFETCH_AHEAD: usize = 8 * PREFETCH_LINE;
/// How many free slots a producer that found the ring full lets gather before it goes on (see
/// [`Spsc::gather_target`]): a few cache lines' worth, so the two sides stop working on the
/// same line at the full boundary. Not done by a consumer at the empty boundary: there a
/// request/response peer would pay the whole bounded gather on every round trip.
const GATHER_BYTES: usize = 4 * PREFETCH_LINE;
/// How many polls (each after a few spin hints) a gather lasts at most.
const GATHER_POLLS: u32 = 32;

impl<T: Pod + Send, M: Memory> Spsc<T, M> {
    /// How many slots fill `bytes` (at least 1: a slot larger than `bytes` still counts once).
    #[inline(always)]
    fn slots_in(bytes: usize) -> usize {
        (bytes / std::mem::size_of::<M::Cell<T>>().max(1)).max(1)
    }

    /// Asks the CPU to start fetching every cache line of the `len` published records from
    /// position `index` on (a consumer about to read them: a read chunk). Only published
    /// records: the producer does not write them again before we release them, so fetching
    /// them early cannot steal a line it is writing.
    #[inline]
    pub(super) fn prefetch_published(&self, index: u64, len: usize) {
        let (a, b) = self.runs(index, len);
        let step = Self::slots_in(PREFETCH_LINE);
        for cell in a.iter().step_by(step).chain(b.iter().step_by(step)) {
            M::prefetch(cell);
        }
    }

    /// The slot `PREFETCH_AHEAD` bytes past `head`, if it is published (`< tail`): what a
    /// consumer popping one record at a time asks the CPU to fetch next.
    #[inline(always)]
    pub(super) fn prefetch_ahead(&self, head: u64, tail: u64) {
        let ahead = Self::slots_in(PREFETCH_AHEAD) as u64;
        // `tail - head` is the validated number of published records (at most the capacity).
        if tail.wrapping_sub(head) > ahead {
            M::prefetch(self.cell(head.wrapping_add(ahead)));
        }
    }

    /// The slot `PREFETCH_AHEAD` bytes past `tail`, if it is free (`tail + ahead < head +
    /// capacity` by the producer's cached `head`): fetched for ownership, so the push that writes
    /// it does not wait for the line to leave the consumer's cache.
    #[inline(always)]
    pub(super) fn prefetch_room_ahead(&self, tail: u64, head: u64) {
        let ahead = Self::slots_in(PREFETCH_AHEAD) as u64;
        let free = (self.capacity() as u64).wrapping_sub(tail.wrapping_sub(head));
        if free > ahead {
            M::prefetch_write(self.cell(tail.wrapping_add(ahead)));
        }
    }

    /// How many free slots a producer that was blocked on a full ring waits for, for a bounded
    /// time, before it goes on with fewer: [`GATHER_BYTES`] of records, at most a quarter of the
    /// ring; 0 (no gathering) where the memory does not yield (`M::YIELD_LIMIT == 0`: the loom
    /// models, whose schedules a delay loop would only multiply without reaching new states,
    /// since the gather only reads the index the following try reads again).
    #[inline]
    pub(super) fn gather_target(&self) -> u64 {
        if M::YIELD_LIMIT == 0 {
            return 0;
        }
        Self::slots_in(GATHER_BYTES).min(self.capacity() / 4) as u64
    }

    /// Polls `count()` (a fresh look at the consumer's index) until it reaches `target` or
    /// [`GATHER_POLLS`] polls passed: bounded, so a peer that stops leaves us with what there is.
    #[inline(never)]
    pub(super) fn gather(target: u64, mut count: impl FnMut() -> u64) {
        for _ in 0..GATHER_POLLS {
            if count() >= target {
                return;
            }
            for _ in 0..4 {
                M::spin_hint();
            }
        }
    }
}
