//! Per-worker operation histories in shared memory, so a killed worker's history survives it.
//!
//! One region (`RegionKind::Bytes`) holds `workers` buffers of `per_worker` entries each. Worker
//! `i` appends only to buffer `i`: it writes an entry with `return_ns = PENDING` *before* the
//! operation, publishes the new count (Release), runs the operation, then fills in the result and
//! `return_ns`. So every operation that may have taken effect is recorded, and one cut short by
//! SIGKILL stays pending ("never returned" in HISTORY.md). The parent reads the buffers after
//! reaping the workers; counts read from the region are clamped to the buffer size.
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

/// The history region: `workers` buffers of `per_worker` entries.
pub struct HistoryBuffers {
    region: Region,
    workers: usize,
    per_worker: usize,
}

fn layout(workers: usize, per_worker: usize) -> RegionLayout {
    let body = workers * LINE + workers * per_worker * std::mem::size_of::<Entry>();
    RegionLayout {
        kind: RegionKind::Bytes,
        capacity: (workers * per_worker) as u64,
        elem_size: std::mem::size_of::<Entry>() as u32,
        elem_align: std::mem::align_of::<Entry>() as u32,
        params: [workers as u64, per_worker as u64, 0, 0],
        body_len: body as u64,
    }
}

impl HistoryBuffers {
    /// Creates the region (zero-filled: every count 0).
    pub fn create(name: &ShmName, workers: usize, per_worker: usize) -> Result<Self, ShmError> {
        let region = Region::create_named(name, &layout(workers, per_worker), |_, _| {})?;
        Ok(HistoryBuffers {
            region,
            workers,
            per_worker,
        })
    }

    /// Opens it in a worker, validating the header.
    pub fn open(name: &ShmName) -> Result<Self, ShmError> {
        let region = Region::open_named(name, RegionKind::Bytes, |h| {
            let (w, p) = (h.params[0] as usize, h.params[1] as usize);
            if w == 0 || w > 4096 || p > (1 << 32) {
                return Err(ShmError::LayoutMismatch {
                    field: "params",
                    found: h.params[0],
                    expected: "1..=4096 workers and at most 2^32 entries each".into(),
                });
            }
            Ok(layout(w, p))
        })?;
        let [w, p, ..] = region.layout().params;
        Ok(HistoryBuffers {
            region,
            workers: w as usize,
            per_worker: p as usize,
        })
    }

    fn count_word(&self, worker: usize) -> &AtomicU64 {
        assert!(worker < self.workers);
        // SAFETY: the counts are the first `workers` 128-byte lines of the body, inside the
        // mapping (validated layout), 8-aligned, and live as long as `self`.
        unsafe {
            &*self
                .region
                .body()
                .as_ptr()
                .add(worker * LINE)
                .cast::<AtomicU64>()
        }
    }

    fn entry_ptr(&self, worker: usize, i: usize) -> NonNull<Entry> {
        assert!(worker < self.workers && i < self.per_worker);
        let offset = self.workers * LINE + (worker * self.per_worker + i) * 32;
        // SAFETY: in bounds by the assertion and the validated layout; 8-aligned.
        unsafe { self.region.body().add(offset).cast::<Entry>() }
    }

    /// How many operations worker `worker` has recorded so far (a live progress reading).
    pub fn recorded(&self, worker: usize) -> u64 {
        // Relaxed: a progress estimate for fault injection timing; no data is read through it.
        self.count_word(worker).load(Ordering::Relaxed)
    }

    /// The recorder for worker `worker`.
    pub fn recorder(&self, worker: usize) -> Recorder<'_> {
        Recorder {
            buffers: self,
            worker,
            // Relaxed: only this worker writes its count; starting from what is there.
            next: self.count_word(worker).load(Ordering::Relaxed) as usize,
        }
    }

    /// Every worker's entries (call after the workers are gone). Counts are clamped.
    pub fn entries(&self) -> Vec<Vec<Entry>> {
        (0..self.workers)
            .map(|w| {
                // Acquire: pairs with the worker's Release publish of the count.
                let n = (self.count_word(w).load(Ordering::Acquire) as usize).min(self.per_worker);
                (0..n)
                    // SAFETY: in bounds; Entry is Pod; read volatile since another process wrote it.
                    .map(|i| unsafe { self.entry_ptr(w, i).as_ptr().read_volatile() })
                    .collect()
            })
            .collect()
    }
}

/// Appends one worker's operations.
pub struct Recorder<'a> {
    buffers: &'a HistoryBuffers,
    worker: usize,
    next: usize,
}

impl Recorder<'_> {
    /// Records `op(value)`, runs `f` (which returns `(ok, result value)`), records the result.
    /// Returns `f`'s result, or `None` when the buffer is full (the op is not run).
    #[inline]
    pub fn record<R>(
        &mut self,
        op: u32,
        value: Option<u64>,
        f: impl FnOnce() -> R,
        outcome: impl FnOnce(&R) -> (bool, Option<u64>),
    ) -> Option<R> {
        if self.next >= self.buffers.per_worker {
            return None;
        }
        let ptr = self.buffers.entry_ptr(self.worker, self.next);
        let invoke_ns = Deadline::after(std::time::Duration::ZERO).monotonic_ns();
        let mut e = Entry {
            op,
            flags: if value.is_some() { Entry::HAS_VALUE } else { 0 },
            value: value.unwrap_or(0),
            invoke_ns,
            return_ns: PENDING,
        };
        // SAFETY: in bounds; only this worker writes this buffer.
        unsafe { ptr.as_ptr().write_volatile(e) };
        self.next += 1;
        // Release: the pending entry is visible with the count (to a parent reading after a kill).
        self.buffers
            .count_word(self.worker)
            .store(self.next as u64, Ordering::Release);
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
