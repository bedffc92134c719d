//! The queue's non-blocking operations, `try_push` and `try_pop`, as step sequences that the
//! loom models can stop after any step ([`CrashPoint`]: a process killed there), and the checks
//! that turn states no honest peer produces into `Corrupt`.

use super::{Mpmc, RETRY_BUDGET};
use crate::mem::{Atomic, Memory, Mutant, SlotCell};
use crate::ring::storage::wrap;
use crate::ring::RingError;
use bytemuck::Pod;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

/// Where a model's process dies inside an operation (for loom models; real code never stops).
/// The operation returns as if it had completed, and the caller must act dead from then on.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashPoint {
    /// Runs to completion.
    Never,
    /// Right after winning the position, before recording the claimer (the unrepaired window).
    AfterClaim,
    /// After recording the claimer, before touching the record.
    AfterRecord,
    /// After writing (producer) or reading (consumer) the record, before releasing the slot.
    AfterData,
}

impl<T: Pod + Send, M: Memory> Mpmc<T, M> {
    /// Pushes `value` if a slot is free now: `Err(Full)` otherwise, `Err(Closed)` after `close`,
    /// `Err(Corrupt)` when the shared state is impossible (see the module docs).
    pub fn try_push(&self, value: T) -> Result<(), RingError> {
        self.push_steps(value, CrashPoint::Never)
    }

    /// `try_push`, stopping (as if killed) at `crash`. For models.
    #[doc(hidden)]
    pub fn try_push_crashing(&self, value: T, crash: CrashPoint) -> Result<(), RingError> {
        self.push_steps(value, crash)
    }

    /// Pops a record if one is published at the head: `Err(Empty)` otherwise, `Err(Closed)`
    /// when empty after `close`, `Err(Corrupt)` when the shared state is impossible. Skips the
    /// tombstones of dead producers' positions (see the module docs).
    pub fn try_pop(&self) -> Result<T, RingError> {
        self.pop_steps(CrashPoint::Never)
            .map(|v| v.expect("only a crash point stops a pop"))
    }

    /// `try_pop`, stopping (as if killed) at `crash` (then `Ok(None)`). For models.
    #[doc(hidden)]
    pub fn try_pop_crashing(&self, crash: CrashPoint) -> Result<Option<T>, RingError> {
        self.pop_steps(crash)
    }

    #[inline(always)]
    fn push_steps(&self, value: T, crash: CrashPoint) -> Result<(), RingError> {
        let slots = self.storage.slots();
        let ctrl = self.ctrl();
        // The `closed` line is written once, so this load hits a shared cache line.
        if self.is_closed() {
            return Err(RingError::Closed);
        }
        // Relaxed: the position is only a hint of where to try; the slot's `seq` (Acquire)
        // decides, and the CAS below makes the claim exclusive.
        let mut pos = ctrl.enqueue_pos.load(Relaxed);
        for _ in 0..RETRY_BUDGET {
            let slot = &slots[wrap(pos, slots.len())];
            // Acquire: pairs with the Release store that freed this slot (a consumer's, or a
            // repairer's), so the old record's read happens-before our write.
            let seq = slot.seq.load(Acquire);
            let diff = seq.wrapping_sub(pos) as i64;
            if diff == 0 {
                let next = pos.wrapping_add(1);
                if let Err(now) = self.claim_push(pos, next) {
                    pos = now;
                    continue;
                }
                if crash == CrashPoint::AfterClaim {
                    return Ok(());
                }
                // Release: orders our claim of `pos` (the CAS above) before the key, so a
                // repairer that reads the key (Acquire) and tombstones the slot passes on the
                // knowledge that `pos` was claimed (what `skip_tombstone` checks).
                slot.claimer.store(self.me, Release);
                if crash == CrashPoint::AfterRecord {
                    return Ok(());
                }
                // SAFETY: we own position `pos`: `seq == pos` says its consumer of the previous
                // lap is done with the slot, and the CAS made the claim exclusive among producers.
                unsafe { slot.value.write(value) };
                if crash == CrashPoint::AfterData {
                    return Ok(());
                }
                self.publish_push(slot, next);
                return Ok(());
            } else if diff < 0 {
                // The slot still holds the record of the previous lap: full.
                return Err(RingError::Full);
            }
            // Another producer took `pos`; start again from the current position. The spin
            // hint lets that producer's store reach us (under loom: a yield, without which a
            // stale Relaxed load could be returned forever).
            M::spin_hint();
            // Relaxed: a hint of where to try next, as at the top. It cannot still be `pos`:
            // the slot is past `pos`, so `pos` was claimed, and our Acquire load of `seq`
            // happens-after that claim (through the publisher, or the repairer and the claimer's
            // Release store of its key).
            let now = ctrl.enqueue_pos.load(Relaxed);
            if now == pos {
                return Err(RingError::Corrupt(format!(
                    "mpmc slot {} seq {seq:#x} is past enqueue_pos {pos}, which nobody claimed",
                    wrap(pos, slots.len())
                )));
            }
            pos = now;
        }
        Err(no_progress("push", "enqueue_pos", pos))
    }

    #[inline(always)]
    fn pop_steps(&self, crash: CrashPoint) -> Result<Option<T>, RingError> {
        let slots = self.storage.slots();
        let cap = slots.len() as u64;
        let ctrl = self.ctrl();
        // Acquire: pairs with the Release of the CAS that set it, so `check_not_ahead` sees an
        // `enqueue_pos` at least as new as the claim that let that consumer advance.
        let mut pos = ctrl.dequeue_pos.load(Acquire);
        let mut rechecked = false;
        for _ in 0..RETRY_BUDGET {
            let slot = &slots[wrap(pos, slots.len())];
            // Acquire: pairs with the producer's Release publish of `seq` (or a repairer's).
            let seq = slot.seq.load(Acquire);
            let next = pos.wrapping_add(1);
            let diff = seq.wrapping_sub(next) as i64;
            if diff == 0 {
                // AcqRel: Release for `check_not_ahead` (see the load at the top), Acquire and
                // the failure's Acquire as that load.
                if let Err(now) = ctrl
                    .dequeue_pos
                    .compare_exchange_weak(pos, next, AcqRel, Acquire)
                {
                    pos = now;
                    continue;
                }
                if crash == CrashPoint::AfterClaim {
                    return Ok(None);
                }
                // Release: a repairer that reads our key (Acquire) and frees the slot passes on
                // what we saw (the record published, so its position claimed) to whoever reads
                // the freed `seq`: their position checks stay sound.
                slot.claimer.store(self.me, Release);
                if crash == CrashPoint::AfterRecord {
                    return Ok(None);
                }
                // SAFETY: `seq == pos + 1`: the record is published (Acquire above) and the CAS
                // made us its only consumer; producers will not touch it until we store `seq`.
                let value = unsafe { slot.value.read() };
                if crash == CrashPoint::AfterData {
                    return Ok(None);
                }
                self.free_popped(slot, pos.wrapping_add(cap));
                return Ok(Some(value));
            } else if diff < 0 {
                self.check_not_ahead(pos)?;
                if !self.is_closed() {
                    return Err(RingError::Empty);
                }
                // Closed. Our `seq` load may predate the last publishes (it came before the
                // Acquire load of `closed`, which is what synchronises with them): look again
                // once before reporting `Closed`, or a record pushed before `close` is lost.
                // (Found by the `mpmc-consumers` loom model.) Then, if a dead producer's claim
                // is all that stands before later records, repair it and go on.
                if rechecked && !self.repair_at(pos)? {
                    return Err(RingError::Closed);
                }
                rechecked = true;
                // Acquire: as at the top.
                pos = ctrl.dequeue_pos.load(Acquire);
                continue;
            }
            // Another consumer took `pos` (as in `try_push`), or `pos` is a tombstone.
            M::spin_hint();
            // Acquire: as at the top.
            let now = ctrl.dequeue_pos.load(Acquire);
            pos = if now == pos {
                self.skip_tombstone(pos, seq)?
            } else {
                now
            };
        }
        Err(no_progress("pop", "dequeue_pos", pos))
    }

    /// Claims position `pos` for a producer (`enqueue_pos` from `pos` to `next`); `Err` with the
    /// current position if another producer moved it first.
    #[inline(always)]
    fn claim_push(&self, pos: u64, next: u64) -> Result<(), u64> {
        let enq = &self.ctrl().enqueue_pos;
        if M::mutant(Mutant::MpmcClaimWithoutCas) {
            enq.store(next, Relaxed);
            return Ok(());
        }
        // Relaxed: the claim carries no data (the slot's `seq` is what orders the record, see
        // `push_steps`); failure just retries.
        enq.compare_exchange_weak(pos, next, Relaxed, Relaxed)
            .map(|_| ())
    }

    /// The producer's last steps, after writing the record: clear the claimer, publish `seq =
    /// next`, notify.
    #[inline(always)]
    fn publish_push(&self, slot: &super::MpmcSlot<M, T>, next: u64) {
        // Relaxed: the Release store of `seq` right after publishes the cleared word along with
        // the record; a repairer reads it only after an Acquire load of `seq`.
        slot.claimer.store(0, Relaxed);
        // Release: the record write happens-before the consumer's Acquire load of `seq`.
        slot.seq
            .store(next, M::order(Mutant::MpmcRelaxedPublish, Release));
        self.ctrl().not_empty.notify_all(self.fences());
    }

    /// The consumer's last steps, after reading the record: clear the claimer, free the slot
    /// for the next lap (`seq = lap`), notify.
    #[inline(always)]
    fn free_popped(&self, slot: &super::MpmcSlot<M, T>, lap: u64) {
        // Relaxed: the Release store of `seq` right after orders the clearing before the slot's
        // next lap; a repairer reads the word only after an Acquire of `seq`.
        slot.claimer.store(0, Relaxed);
        // Release: our read happens-before the next lap's producer writes the slot.
        slot.seq.store(lap, Release);
        self.ctrl().not_full.notify_all(self.fences());
    }

    /// One attempt at a push that succeeds at once: the first round of `push_steps` when the
    /// queue is open, the slot at `enqueue_pos` is free and the claim lands; false (having
    /// changed nothing) otherwise, and the caller runs the full `push_steps`. Inline and free of
    /// `Result`s, so the blocking push costs what the algorithm costs (see spsc's lesson in
    /// commit 160ec5f: a slower producer drags the ring into lockstep).
    #[inline(always)]
    pub(super) fn push_once(&self, value: T) -> bool {
        let slots = self.storage.slots();
        // Acquire (in `is_closed`): as in `push_steps`.
        if self.is_closed() {
            return false;
        }
        // Relaxed / Acquire / the claim: exactly as in `push_steps`.
        let pos = self.ctrl().enqueue_pos.load(Relaxed);
        let slot = &slots[wrap(pos, slots.len())];
        if slot.seq.load(Acquire) != pos {
            return false;
        }
        let next = pos.wrapping_add(1);
        if self.claim_push(pos, next).is_err() {
            return false;
        }
        // Release: as in `push_steps` (the claim before the key, for a repairer).
        slot.claimer.store(self.me, Release);
        // SAFETY: we own position `pos`: `seq == pos` says its consumer of the previous lap is
        // done with the slot, and the claim made it ours alone (as in `push_steps`).
        unsafe { slot.value.write(value) };
        self.publish_push(slot, next);
        true
    }

    /// One attempt at a pop that succeeds at once (as [`Mpmc::push_once`] for `pop_steps`):
    /// the record, or `None` having changed nothing.
    #[inline(always)]
    pub(super) fn pop_once(&self) -> Option<T> {
        let slots = self.storage.slots();
        // Acquire: as in `pop_steps`.
        let pos = self.ctrl().dequeue_pos.load(Acquire);
        let slot = &slots[wrap(pos, slots.len())];
        let next = pos.wrapping_add(1);
        // Acquire: pairs with the producer's Release publish, as in `pop_steps`.
        if slot.seq.load(Acquire) != next {
            return None;
        }
        // AcqRel / Acquire: as the claim in `pop_steps`.
        self.ctrl()
            .dequeue_pos
            .compare_exchange_weak(pos, next, AcqRel, Acquire)
            .ok()?;
        // Release: as in `pop_steps`.
        slot.claimer.store(self.me, Release);
        // SAFETY: `seq == pos + 1`: the record is published (Acquire above) and the claim made
        // us its only consumer (as in `pop_steps`).
        let value = unsafe { slot.value.read() };
        self.free_popped(slot, pos.wrapping_add(slots.len() as u64));
        Some(value)
    }

    /// `dequeue_pos` did not move, yet its slot is past position `pos`: the slot was repaired
    /// (a tombstone). Checks that `pos` was claimed at all, then moves `dequeue_pos` past it;
    /// returns the position to try next.
    fn skip_tombstone(&self, pos: u64, seq: u64) -> Result<u64, RingError> {
        // Relaxed: our Acquire load of `seq` happens-after the repairer's Acquire of the dead
        // producer's key, which happens-after its claim: an honest `enqueue_pos` shows it.
        let enq = self.ctrl().enqueue_pos.load(Relaxed);
        if (enq.wrapping_sub(pos) as i64) <= 0 {
            return Err(RingError::Corrupt(format!(
                "mpmc slot {} seq {seq:#x} is past dequeue_pos {pos}, which enqueue_pos {enq} \
                 never reached",
                wrap(pos, self.capacity())
            )));
        }
        let next = pos.wrapping_add(1);
        // AcqRel / Acquire: as the consumer's claim in `pop_steps`.
        match self
            .ctrl()
            .dequeue_pos
            .compare_exchange(pos, next, AcqRel, Acquire)
        {
            Ok(_) => Ok(next),
            Err(now) => Ok(now),
        }
    }

    /// `Corrupt` if `dequeue_pos` (`pos`, loaded with Acquire) is ahead of `enqueue_pos`: no
    /// consumer advances past a position nobody claimed (see the Acquire load in `pop_steps`).
    fn check_not_ahead(&self, pos: u64) -> Result<(), RingError> {
        // Relaxed: ordered after the claim by the Acquire load of `pos` (see `pop_steps`).
        let enq = self.ctrl().enqueue_pos.load(Relaxed);
        if (enq.wrapping_sub(pos) as i64) < 0 {
            return Err(RingError::Corrupt(format!(
                "mpmc dequeue_pos {pos} is ahead of enqueue_pos {enq}"
            )));
        }
        Ok(())
    }
}

/// The error of an operation that retried [`RETRY_BUDGET`] times.
fn no_progress(op: &str, field: &str, pos: u64) -> RingError {
    RingError::Corrupt(format!(
        "mpmc {op} made no progress in {RETRY_BUDGET} retries ({field} last {pos}): a peer keeps \
         rewriting the positions"
    ))
}
