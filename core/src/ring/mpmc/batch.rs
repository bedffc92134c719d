//! Batch operations: `push_slice` / `pop_slice` claim a run of consecutive positions with one
//! compare-and-swap of `enqueue_pos` / `dequeue_pos`, so the contended position word is written
//! once per run instead of once per record, and the waiters are notified once per run.
//!
//! **Why checking, then claiming, is sound.** A producer reads `seq` (Acquire) of the slots of
//! positions `pos, pos + 1, …` while each says "free for exactly that position"
//! (`seq == pos + j`), then claims the run `pos..pos + k` with a CAS of `enqueue_pos` from `pos`.
//! Only the producer that claims position `pos + j` changes a slot whose `seq` is `pos + j`
//! (consumers and repairers act on slots holding a record or a claimer), and the CAS succeeding
//! means no producer claimed any position from `pos` on: so every slot of the run is still free,
//! and ours. The Acquire loads pair with the Release stores that freed the slots, as in
//! `try_push`. A consumer does the same with "published for exactly that position"
//! (`seq == pos + j + 1`), a tombstone (`pos + j + capacity`) ending its run. A run stops at the
//! first slot not in that state, so consumers that free slots out of order, or producers that
//! publish out of order, only make runs shorter. When the run would be shorter than two, the
//! single-record operation runs instead (it handles full, empty, closed, tombstones and the
//! corruption checks).
//!
//! **Claimers.** Each slot of a run records the claimer, as in the single operations, so a dead
//! holder's slots are repaired one by one (`repair.rs`). Every slot of the run records the claimer
//! before any record is touched, so the unrepaired window after winning the positions is the
//! `k` claimer stores instead of one.

use super::{Mpmc, RETRY_BUDGET};
use crate::mem::{Atomic, Deadline, Memory, Mutant, SlotCell};
use crate::ring::storage::wrap;
use crate::ring::RingError;
use bytemuck::Pod;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

impl<T: Pod + Send, M: Memory> Mpmc<T, M> {
    /// Pushes the longest prefix of `values` that finds free slots in a row at the tail now
    /// (at least one, or `Err(Full)`); returns how many. `Ok(0)` for an empty slice.
    /// `Err(Closed)` after `close`, `Err(Corrupt)` when the shared state is impossible.
    pub fn try_push_slice(&self, values: &[T]) -> Result<usize, RingError> {
        if values.len() < 2 {
            return match values.first() {
                Some(&v) => self.try_push(v).map(|()| 1),
                None => Ok(0),
            };
        }
        if self.is_closed() {
            return Err(RingError::Closed);
        }
        let slots = self.storage.slots();
        let want = values.len().min(slots.len()) as u64;
        // Relaxed: a hint of where to try, as in `try_push`; the slots' `seq` and the CAS decide.
        let mut pos = self.ctrl().enqueue_pos.load(Relaxed);
        for _ in 0..RETRY_BUDGET {
            let k = self.run_len(pos, want, 0);
            if k < 2 {
                // Full, closed, or a run of one: the single operation decides (and checks).
                return self.try_push(values[0]).map(|()| 1);
            }
            // Relaxed: the claim carries no data (see `try_push`); failure just retries.
            if let Err(now) = self.ctrl().enqueue_pos.compare_exchange_weak(
                pos,
                pos.wrapping_add(k),
                Relaxed,
                Relaxed,
            ) {
                pos = now;
                M::spin_hint();
                continue;
            }
            self.fill_run(pos, &values[..k as usize]);
            return Ok(k as usize);
        }
        Err(RingError::Corrupt(format!(
            "mpmc push_slice made no progress in {RETRY_BUDGET} retries (enqueue_pos last {pos})"
        )))
    }

    /// Pops up to `out.len()` records published in a row at the head now into `out` (at least
    /// one, or `Err(Empty)`; `Err(Closed)` when empty after `close`); returns how many.
    /// `Ok(0)` for an empty `out`.
    pub fn try_pop_slice(&self, out: &mut [T]) -> Result<usize, RingError> {
        if out.len() < 2 {
            return match out.first_mut() {
                Some(o) => self.try_pop().map(|v| {
                    *o = v;
                    1
                }),
                None => Ok(0),
            };
        }
        let slots = self.storage.slots();
        let want = out.len().min(slots.len()) as u64;
        // Acquire: as in `try_pop` (orders the corruption checks of the fallback).
        let mut pos = self.ctrl().dequeue_pos.load(Acquire);
        for _ in 0..RETRY_BUDGET {
            let k = self.run_len(pos, want, 1);
            if k < 2 {
                return self.try_pop().map(|v| {
                    out[0] = v;
                    1
                });
            }
            // AcqRel / Acquire: as the consumer's claim in `try_pop`.
            if let Err(now) = self.ctrl().dequeue_pos.compare_exchange_weak(
                pos,
                pos.wrapping_add(k),
                AcqRel,
                Acquire,
            ) {
                pos = now;
                M::spin_hint();
                continue;
            }
            self.drain_run(pos, &mut out[..k as usize]);
            return Ok(k as usize);
        }
        Err(RingError::Corrupt(format!(
            "mpmc pop_slice made no progress in {RETRY_BUDGET} retries (dequeue_pos last {pos})"
        )))
    }

    /// [`Mpmc::try_push_slice`], waiting while full, at most until `deadline` (as `push_until`).
    pub fn push_slice_until(
        &self,
        values: &[T],
        deadline: Option<Deadline>,
    ) -> Result<usize, RingError> {
        loop {
            match self.try_push_slice(values) {
                Err(RingError::Full) => {}
                other => return other,
            }
            self.wait_room(deadline)?;
        }
    }

    /// [`Mpmc::try_push_slice`], waiting while full.
    pub fn push_slice(&self, values: &[T]) -> Result<usize, RingError> {
        self.push_slice_until(values, None)
    }

    /// [`Mpmc::try_pop_slice`], waiting while empty, at most until `deadline` (as `pop_until`).
    pub fn pop_slice_until(
        &self,
        out: &mut [T],
        deadline: Option<Deadline>,
    ) -> Result<usize, RingError> {
        loop {
            match self.try_pop_slice(out) {
                Err(RingError::Empty) => {}
                other => return other,
            }
            self.wait_records(deadline)?;
        }
    }

    /// [`Mpmc::try_pop_slice`], waiting while empty.
    pub fn pop_slice(&self, out: &mut [T]) -> Result<usize, RingError> {
        self.pop_slice_until(out, None)
    }

    /// How many positions from `pos` (at most `want`) have their slot in the state
    /// `seq == position + phase` (phase 0: free for that producer; 1: published for that
    /// consumer). Acquire: pairs with the Release store that put each slot in that state (the
    /// freeing consumer's or repairer's, or the publishing producer's), as in the single ops.
    fn run_len(&self, pos: u64, want: u64, phase: u64) -> u64 {
        let slots = self.storage.slots();
        if M::mutant(Mutant::MpmcBatchUnchecked) {
            let first = pos.wrapping_add(phase);
            return if slots[wrap(pos, slots.len())].seq.load(Acquire) == first {
                want
            } else {
                0
            };
        }
        let mut k = 0;
        while k < want {
            let p = pos.wrapping_add(k);
            if slots[wrap(p, slots.len())].seq.load(Acquire) != p.wrapping_add(phase) {
                break;
            }
            k += 1;
        }
        k
    }

    /// Writes and publishes `values` at the positions from `pos`, which this producer claimed.
    fn fill_run(&self, pos: u64, values: &[T]) {
        let slots = self.storage.slots();
        let slot = |j: usize| &slots[wrap(pos.wrapping_add(j as u64), slots.len())];
        for j in 0..values.len() {
            // Release: as in `try_push` (orders the claim before the key for a repairer).
            slot(j).claimer.store(self.me, Release);
        }
        for (j, &v) in values.iter().enumerate() {
            let s = slot(j);
            // SAFETY: we own this position: its slot was free for it (`run_len`) and the CAS made
            // the claim exclusive (see the module docs).
            unsafe { s.value.write(v) };
            // Relaxed, then Release: as in `try_push` (the publish carries the cleared word).
            s.claimer.store(0, Relaxed);
            s.seq.store(
                pos.wrapping_add(j as u64 + 1),
                M::order(Mutant::MpmcRelaxedPublish, Release),
            );
        }
        self.ctrl().not_empty.notify_all(self.fences());
    }

    /// Reads the records at the positions from `pos`, which this consumer claimed, into `out`,
    /// and frees their slots for the next lap.
    fn drain_run(&self, pos: u64, out: &mut [T]) {
        let slots = self.storage.slots();
        let cap = slots.len() as u64;
        let slot = |j: usize| &slots[wrap(pos.wrapping_add(j as u64), slots.len())];
        for j in 0..out.len() {
            // Release: as in `try_pop`.
            slot(j).claimer.store(self.me, Release);
        }
        for (j, o) in out.iter_mut().enumerate() {
            let s = slot(j);
            // SAFETY: the record of this position is published (`run_len`'s Acquire) and the CAS
            // made us its only consumer; producers do not touch it until we store `seq`.
            *o = unsafe { s.value.read() };
            // Relaxed, then Release: as in `try_pop`.
            s.claimer.store(0, Relaxed);
            s.seq
                .store(pos.wrapping_add(j as u64).wrapping_add(cap), Release);
        }
        self.ctrl().not_full.notify_all(self.fences());
    }
}
