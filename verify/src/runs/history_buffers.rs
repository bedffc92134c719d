//! Per-worker operation histories in shared memory, so a killed worker's history survives it.
//!
//! One region (`RegionKind::Bytes`) holds a pool of `chunks` chunks of [`CHUNK`] entries,
//! sized to what the run records in total (not workers × the most one worker could record: an
//! mpmc consumer may dequeue anything from none to every value, and a pool shared by all of them
//! needs room for every value once, not once per consumer). A worker claims its next chunk with
//! one `fetch_add` on the pool's cursor, writes its index + 1 as the chunk's owner, and appends
//! only to chunks it owns; its chunks are claimed in increasing order, so reading the pool in
//! order gives each worker's operations in order. An entry is written with `return_ns = PENDING`
//! *before* the operation, the chunk's count is published (Release), the operation runs, then the
//! result and `return_ns` are filled in. So every operation that may have taken effect is
//! recorded, and one cut short by SIGKILL stays pending ("never returned" in HISTORY.md). The
//! parent reads the pool after reaping the workers; every count and owner read from the region
//! is checked against the layout before use.
//!
//! Timestamps: CLOCK_MONOTONIC taken before the operation and after it, each separated from the
//! operation by a `SeqCst` fence, so the recorded interval contains the operation's effect (a
//! checker then never sees a false violation; porcupine issue #40).

use bytemuck::{Pod, Zeroable};
use std::ptr::NonNull;
use std::sync::atomic::{fence, AtomicU64, Ordering};
use synclab_core::shm::{Region, RegionKind, RegionLayout, ShmError, ShmName};
use synclab_core::Deadline;

/// `return_ns` of an operation that has not returned.
pub const PENDING: u64 = u64::MAX;

/// Entries per chunk (32 KiB).
pub const CHUNK: usize = 1024;

/// Most workers a history region serves.
pub const MAX_WORKERS: usize = 4096;

/// Most entries a history region holds (2^32: 128 GiB; the CLI stays far below).
pub const MAX_ENTRIES: usize = 1 << 32;

/// Operation codes.
pub mod op {
    /// Queue enqueue of `value`.
    pub const ENQUEUE: u32 = 1;
    /// Queue dequeue; `value` is the result (if `has_value`).
    pub const DEQUEUE: u32 = 2;
    /// Semaphore acquire of `value` permits.
    pub const ACQUIRE: u32 = 3;
    /// Semaphore release of `value` permits.
    pub const RELEASE: u32 = 4;
}

/// One recorded operation (32 bytes, `#[repr(C)]`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct Entry {
    /// One of [`op`].
    pub op: u32,
    /// Bit 0: ok; bit 1: `value` present (for a dequeue: not empty); bit 2: outcome known.
    pub flags: u32,
    /// Argument or result.
    pub value: u64,
    /// CLOCK_MONOTONIC before the operation.
    pub invoke_ns: u64,
    /// CLOCK_MONOTONIC after it, or [`PENDING`].
    pub return_ns: u64,
}

impl Entry {
    /// Flag: completed as recorded.
    pub const OK: u32 = 1;
    /// Flag: `value` is present.
    pub const HAS_VALUE: u32 = 2;
    /// Flag: the outcome is known (the op returned).
    pub const DONE: u32 = 4;
}

const LINE: usize = 128;
const ENTRY: usize = std::mem::size_of::<Entry>();
/// Per chunk: owner (worker + 1, 0 = unclaimed) and count, 8 bytes each.
const CHUNK_META: usize = 16;

/// The history region: a cursor line, one progress line per worker, the chunk table, the chunks.
pub struct HistoryBuffers {
    region: Region,
    workers: usize,
    chunks: usize,
}

/// Byte offsets in the body.
fn meta_offset(workers: usize) -> usize {
    LINE + workers * LINE
}

fn chunks_offset(workers: usize, chunks: usize) -> usize {
    (meta_offset(workers) + chunks * CHUNK_META).next_multiple_of(LINE)
}

fn layout(workers: usize, chunks: usize) -> RegionLayout {
    let body = chunks_offset(workers, chunks) + chunks * CHUNK * ENTRY;
    RegionLayout {
        kind: RegionKind::Bytes,
        capacity: (chunks * CHUNK) as u64,
        elem_size: ENTRY as u32,
        elem_align: std::mem::align_of::<Entry>() as u32,
        params: [workers as u64, chunks as u64, CHUNK as u64, 0],
        body_len: body as u64,
    }
}

/// Chunks needed for `entries` recorded in total by `workers` workers (each may leave its last
/// chunk partly empty).
pub fn chunks_for(workers: usize, entries: usize) -> usize {
    entries.div_ceil(CHUNK) + workers
}

impl HistoryBuffers {
    /// Creates the region (zero-filled: every chunk unclaimed) for `workers` workers recording
    /// `entries` operations in total. Refuses more than [`MAX_WORKERS`] or [`MAX_ENTRIES`].
    pub fn create(name: &ShmName, workers: usize, entries: usize) -> Result<Self, ShmError> {
        if workers == 0 || workers > MAX_WORKERS || entries > MAX_ENTRIES {
            return Err(ShmError::LayoutMismatch {
                field: "params",
                found: workers as u64,
                expected: format!(
                    "1..={MAX_WORKERS} workers and at most {MAX_ENTRIES} entries (asked {entries})"
                ),
            });
        }
        let chunks = chunks_for(workers, entries);
        let region = Region::create_named(name, &layout(workers, chunks), |_, _| {})?;
        Ok(HistoryBuffers {
            region,
            workers,
            chunks,
        })
    }

    /// Opens it in a worker, validating the header.
    pub fn open(name: &ShmName) -> Result<Self, ShmError> {
        let region = Region::open_named(name, RegionKind::Bytes, |h| {
            let [w, c, size, _] = h.params;
            let max_chunks = chunks_for(MAX_WORKERS, MAX_ENTRIES) as u64;
            if w == 0 || w > MAX_WORKERS as u64 || c > max_chunks || size != CHUNK as u64 {
                return Err(ShmError::LayoutMismatch {
                    field: "params",
                    found: w,
                    expected: format!(
                        "1..={MAX_WORKERS} workers, at most {max_chunks} chunks of {CHUNK} entries"
                    ),
                });
            }
            Ok(layout(w as usize, c as usize))
        })?;
        let [w, c, ..] = region.layout().params;
        Ok(HistoryBuffers {
            region,
            workers: w as usize,
            chunks: c as usize,
        })
    }

    /// The 8-aligned word at byte `offset` of the body (below the chunks).
    fn word(&self, offset: usize) -> &AtomicU64 {
        assert!(offset + 8 <= chunks_offset(self.workers, self.chunks) && offset % 8 == 0);
        // SAFETY: inside the validated mapping (the assertion and the layout), 8-aligned (the
        // body is line-aligned), and lives as long as `self`.
        unsafe { &*self.region.body().as_ptr().add(offset).cast::<AtomicU64>() }
    }

    fn cursor(&self) -> &AtomicU64 {
        self.word(0)
    }

    fn progress(&self, worker: usize) -> &AtomicU64 {
        assert!(worker < self.workers);
        self.word(LINE + worker * LINE)
    }

    fn owner(&self, chunk: usize) -> &AtomicU64 {
        assert!(chunk < self.chunks);
        self.word(meta_offset(self.workers) + chunk * CHUNK_META)
    }

    fn count(&self, chunk: usize) -> &AtomicU64 {
        assert!(chunk < self.chunks);
        self.word(meta_offset(self.workers) + chunk * CHUNK_META + 8)
    }

    fn entry_ptr(&self, chunk: usize, i: usize) -> NonNull<Entry> {
        assert!(chunk < self.chunks && i < CHUNK);
        let offset = chunks_offset(self.workers, self.chunks) + (chunk * CHUNK + i) * ENTRY;
        // SAFETY: in bounds by the assertion and the validated layout; 8-aligned.
        unsafe { self.region.body().add(offset).cast::<Entry>() }
    }

    /// How many operations worker `worker` has recorded so far (a live progress reading).
    pub fn recorded(&self, worker: usize) -> u64 {
        // Relaxed: a progress estimate for fault injection timing; no data is read through it.
        self.progress(worker).load(Ordering::Relaxed)
    }

    /// The recorder for worker `worker` (it claims chunks as it needs them).
    pub fn recorder(&self, worker: usize) -> Recorder<'_> {
        Recorder {
            buffers: self,
            worker,
            chunk: None,
            used: 0,
            // Relaxed: only this worker writes its progress; starting from what is there.
            total: self.progress(worker).load(Ordering::Relaxed),
        }
    }

    /// Every worker's entries, in order (call after the workers are gone). Owners and counts
    /// read from the region are checked: a chunk with no valid owner is skipped, a count is
    /// clamped to the chunk.
    pub fn entries(&self) -> Vec<Vec<Entry>> {
        let mut out = vec![Vec::new(); self.workers];
        // Acquire: pairs with the claims' AcqRel increments (the chunks they handed out).
        let claimed = (self.cursor().load(Ordering::Acquire) as usize).min(self.chunks);
        for chunk in 0..claimed {
            // Acquire: pairs with the worker's Release store of the owner.
            let owner = self.owner(chunk).load(Ordering::Acquire) as usize;
            let Some(worker) = owner.checked_sub(1).filter(|&w| w < self.workers) else {
                continue;
            };
            // Acquire: pairs with the worker's Release publish of the count.
            let n = (self.count(chunk).load(Ordering::Acquire) as usize).min(CHUNK);
            // SAFETY: in bounds; Entry is Pod; read volatile since another process wrote it.
            out[worker].extend(
                (0..n).map(|i| unsafe { self.entry_ptr(chunk, i).as_ptr().read_volatile() }),
            );
        }
        out
    }
}

/// Appends one worker's operations.
pub struct Recorder<'a> {
    buffers: &'a HistoryBuffers,
    worker: usize,
    /// The chunk being filled, once one is claimed.
    chunk: Option<usize>,
    /// Entries used in it.
    used: usize,
    /// Entries recorded by this worker in total.
    total: u64,
}

impl Recorder<'_> {
    /// The chunk and index for the next entry, claiming a new chunk when needed; `None` when
    /// the pool is exhausted.
    fn next_slot(&mut self) -> Option<(usize, usize)> {
        if let Some(c) = self.chunk.filter(|_| self.used < CHUNK) {
            return Some((c, self.used));
        }
        let b = self.buffers;
        // AcqRel: hands out each chunk once; the parent's Acquire load of the cursor sees it.
        let c = b.cursor().fetch_add(1, Ordering::AcqRel) as usize;
        if c >= b.chunks {
            return None;
        }
        // Release: the owner is visible before any count of this chunk.
        b.owner(c).store(self.worker as u64 + 1, Ordering::Release);
        self.chunk = Some(c);
        self.used = 0;
        Some((c, 0))
    }

    /// Records `op(value)`, runs `f` (which returns `(ok, result value)`), records the result.
    /// Returns `f`'s result, or `None` when the pool is full (the op is not run).
    #[inline]
    pub fn record<R>(
        &mut self,
        op: u32,
        value: Option<u64>,
        f: impl FnOnce() -> R,
        outcome: impl FnOnce(&R) -> (bool, Option<u64>),
    ) -> Option<R> {
        let (chunk, i) = self.next_slot()?;
        let ptr = self.buffers.entry_ptr(chunk, i);
        let invoke_ns = Deadline::after(std::time::Duration::ZERO).monotonic_ns();
        let mut e = Entry {
            op,
            flags: if value.is_some() { Entry::HAS_VALUE } else { 0 },
            value: value.unwrap_or(0),
            invoke_ns,
            return_ns: PENDING,
        };
        // SAFETY: in bounds; only this worker writes chunks it owns.
        unsafe { ptr.as_ptr().write_volatile(e) };
        self.used += 1;
        self.total += 1;
        // Release: the pending entry is visible with the count (to a parent reading after a kill).
        self.buffers
            .count(chunk)
            .store(self.used as u64, Ordering::Release);
        // Relaxed: a progress reading only (see `recorded`).
        self.buffers
            .progress(self.worker)
            .store(self.total, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        let r = f();
        fence(Ordering::SeqCst);
        let return_ns = Deadline::after(std::time::Duration::ZERO).monotonic_ns();
        let (ok, result) = outcome(&r);
        e.flags = Entry::DONE | if ok { Entry::OK } else { 0 };
        if let Some(v) = result.or(value) {
            e.flags |= Entry::HAS_VALUE;
            e.value = v;
        } else if op == op::DEQUEUE {
            e.flags &= !Entry::HAS_VALUE;
        }
        e.return_ns = return_ns;
        // SAFETY: as above.
        unsafe { ptr.as_ptr().write_volatile(e) };
        Some(r)
    }
}

/// Converts worker `process`'s entries into HISTORY.md operations.
pub fn to_ops(process: usize, entries: &[Entry]) -> Vec<crate::lin::Op> {
    use crate::lin::{Op, OpKind};
    entries
        .iter()
        .filter_map(|e| {
            let value = (e.flags & Entry::HAS_VALUE != 0).then_some(e.value as i64);
            let kind = match e.op {
                op::ENQUEUE => OpKind::Enqueue {
                    value: value.unwrap_or(0),
                },
                op::DEQUEUE => OpKind::Dequeue { value },
                op::ACQUIRE => OpKind::Acquire { n: e.value.max(1) },
                op::RELEASE => OpKind::Release { n: e.value.max(1) },
                _ => return None,
            };
            let done = e.flags & Entry::DONE != 0 && e.return_ns != PENDING;
            Some(Op {
                process: process as u64,
                kind,
                ok: done.then_some(e.flags & Entry::OK != 0),
                invoke_ns: e.invoke_ns as i64,
                return_ns: done.then_some(e.return_ns as i64),
                line: 0,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sized to the total recorded, shared by the workers, each worker's order kept, and a full
    /// pool refuses to record (the operation is not run).
    #[test]
    fn the_pool_is_shared_in_order_and_bounded() {
        let name = ShmName::unique("histtest");
        let b = HistoryBuffers::create(&name, 2, 3 * CHUNK).unwrap();
        assert_eq!(b.chunks, chunks_for(2, 3 * CHUNK));
        let (mut r0, mut r1) = (b.recorder(0), b.recorder(1));
        let mut made = 0u64;
        for i in 0..(2 * CHUNK as u64 + 5) {
            let rec = if i % 3 == 0 { &mut r1 } else { &mut r0 };
            if rec
                .record(op::ENQUEUE, Some(i), || (), |_| (true, None))
                .is_some()
            {
                made += 1;
            }
        }
        let e = b.entries();
        assert_eq!((e[0].len() + e[1].len()) as u64, made);
        for w in &e {
            assert!(w.windows(2).all(|p| p[0].value < p[1].value), "order kept");
        }
        assert_eq!(b.recorded(1), e[1].len() as u64);
        // Exhaust the pool: records stop, the closure is not run.
        let mut ran = 0;
        while r0
            .record(op::ENQUEUE, Some(0), || ran += 1, |_| (true, None))
            .is_some()
        {}
        assert!(b.entries().iter().map(Vec::len).sum::<usize>() <= b.chunks * CHUNK);
        let before = ran;
        assert!(r0
            .record(op::ENQUEUE, Some(0), || ran += 1, |_| (true, None))
            .is_none());
        assert_eq!(ran, before);
    }

    #[test]
    fn absurd_sizes_are_refused() {
        let name = ShmName::unique("histtest");
        assert!(HistoryBuffers::create(&name, 0, 10).is_err());
        assert!(HistoryBuffers::create(&name, MAX_WORKERS + 1, 10).is_err());
        assert!(HistoryBuffers::create(&name, 1, MAX_ENTRIES + 1).is_err());
    }
}
