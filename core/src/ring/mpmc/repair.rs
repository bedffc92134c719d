//! Repairing a slot whose holder died (see the module docs of `mpmc`): judging the claimer
//! recorded in the slot, moving the slot on to its next lap with exactly one winner, and
//! counting what was repaired.

use super::Mpmc;
use crate::mem::{Atomic, Memory, Mutant};
use crate::process::{is_alive, ProcessEnv, ProcessKey};
use crate::ring::storage::wrap;
use crate::ring::RingError;
use bytemuck::Pod;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

/// A claimer word for a process whose key the environment could not tell: never judged dead, so
/// never repaired.
pub(crate) const UNKNOWN: u64 = u64::MAX;

/// The claimer word this process writes (see [`UNKNOWN`]).
pub(super) fn packed_me(env: &dyn ProcessEnv) -> u64 {
    match env.me() {
        Ok(k) if k.pid != 0 => k.pack(),
        _ => UNKNOWN,
    }
}

/// The repair counters in the control block. `#[repr(C)]`: lives in shared regions.
#[repr(C)]
pub(crate) struct RepairCounts<M: Memory> {
    tombstones: M::U64,
    dropped: M::U64,
}

impl<M: Memory> RepairCounts<M> {
    pub(super) fn new() -> Self {
        RepairCounts {
            tombstones: M::U64::new(0),
            dropped: M::U64::new(0),
        }
    }
}

/// What survivors have repaired in a queue since it was created (by every process).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MpmcRepairs {
    /// Positions a dead producer claimed and never published, skipped as tombstones (its push
    /// did not happen).
    pub tombstones: u64,
    /// Slots a dead consumer claimed and never freed, freed by a survivor: the record in each
    /// was lost (the consumer may have read it before dying).
    pub dropped: u64,
}

impl<T: Pod + Send, M: Memory> Mpmc<T, M> {
    /// What has been repaired so far (see [`MpmcRepairs`]). Counted by the repairers; a
    /// hostile peer can write anything here.
    pub fn repairs(&self) -> MpmcRepairs {
        let r = &self.ctrl().repairs;
        // Relaxed: statistics; nothing is read through them.
        MpmcRepairs {
            tombstones: r.tombstones.load(Relaxed),
            dropped: r.dropped.load(Relaxed),
        }
    }

    /// Repairs the slots at the current enqueue and dequeue positions if processes that died
    /// hold them (blocked operations do this on their own every `PEER_CHECK_INTERVAL`); returns
    /// how many it repaired. `Corrupt` if a slot's sequence number is impossible.
    pub fn repair(&self) -> Result<usize, RingError> {
        // Relaxed: the positions only pick the slots to inspect; `repair_at` validates.
        let deq = self.ctrl().dequeue_pos.load(Relaxed);
        let enq = self.ctrl().enqueue_pos.load(Relaxed);
        Ok(usize::from(self.repair_at(deq)?) + usize::from(self.repair_at(enq)?))
    }

    /// Repairs the slot of position `pos` if a dead process holds it: true if this call did.
    pub(super) fn repair_at(&self, pos: u64) -> Result<bool, RingError> {
        let slots = self.storage.slots();
        let n = slots.len();
        let cap = n as u64;
        let i = wrap(pos, n);
        let slot = &slots[i];
        // Acquire: pairs with the Release store that set `seq`, so the claimer word read next
        // is at least as new as the clearing that came before that store.
        let seq = slot.seq.load(Acquire);
        // Acquire: pairs with the claimer's Release store of its key, so what the claimer saw
        // (its position claimed) happens-before our repair and whoever reads its result.
        let key = slot.claimer.load(Acquire);
        if key == 0 || key == UNKNOWN {
            return Ok(false);
        }
        // The phase tells who holds the slot: `seq == pos` (its lap's producer) or
        // `seq == pos + 1` (its lap's consumer); either way the next lap starts at `pos + cap`.
        let (next, tombstone) = if wrap(seq, n) == i {
            (seq.wrapping_add(cap), true)
        } else if wrap(seq.wrapping_sub(1), n) == i {
            (seq.wrapping_sub(1).wrapping_add(cap), false)
        } else {
            return Err(RingError::Corrupt(format!(
                "mpmc slot {i} seq {seq:#x} is in neither phase of slot {i} (capacity {cap})"
            )));
        };
        let alive = is_alive::<M>(ProcessKey::from_word(key), &*self.env);
        if alive && !M::mutant(Mutant::MpmcRepairLiveClaimer) {
            return Ok(false);
        }
        if M::mutant(Mutant::MpmcRepairWithoutCas) {
            slot.claimer.store(0, Relaxed);
            slot.seq.store(next, Release);
        } else {
            // AcqRel: exactly one repairer turns the dead key into 0 (the winner); Acquire as
            // the load above. Failure: someone else repaired, or the slot moved on.
            if slot
                .claimer
                .compare_exchange(key, 0, AcqRel, Relaxed)
                .is_err()
            {
                return Ok(false);
            }
            // Release: whoever reads the new `seq` (Acquire) sees the cleared claimer and, via
            // our Acquire of the key, the dead holder's claim. The CAS (not a store) fails if
            // the slot moved on since we read `seq`: the key was then a later holder's.
            if slot
                .seq
                .compare_exchange(seq, next, Release, Relaxed)
                .is_err()
            {
                // Give the key back, unless a new holder wrote its own meanwhile.
                // Relaxed: as the failure above; the word carries no data.
                let _ = slot.claimer.compare_exchange(0, key, Relaxed, Relaxed);
                return Ok(false);
            }
        }
        let counts = &self.ctrl().repairs;
        let counter = if tombstone {
            &counts.tombstones
        } else {
            &counts.dropped
        };
        // Relaxed: statistics.
        counter.fetch_add(1, Relaxed);
        self.ctrl().not_empty.notify_all(self.fences());
        self.ctrl().not_full.notify_all(self.fences());
        Ok(true)
    }
}
