//! The holder ledger: which process holds how many permits, so the permits of dead processes can
//! be recovered without kernel help.
//!
//! Each slot is two words: `owner` (0 = free, else a packed [`ProcessKey`], with
//! [`RECOVERING`] set while a recoverer, whose key is in the other bits, empties it) and
//! `permits` (held by that process).
//!
//! # Invariants
//!
//! - **One slot per process.** A process claims a free slot with a CAS `0 → key` before its
//!   first acquire and keeps it for its lifetime; all its threads and handles share it. Claims
//!   are serialised per process ([`ProcessEnv::claim_locked`]), so two threads' first acquires
//!   cannot claim two slots. Only recovery frees a slot.
//! - **Never more recorded than held.** `acquire` takes permits and then records them;
//!   `release` un-records and then returns them; so a process killed in between leaks, it never
//!   creates, permits. The count plus every entry's permits never exceeds the maximum.
//! - **Each dead entry is emptied once.** A recoverer judges the owner dead, then claims the
//!   entry with a CAS `owner: dead key → its key | RECOVERING` (a dead key is never written
//!   again, so the CAS cannot succeed on a slot that was freed and reclaimed meanwhile), swaps
//!   `permits` to 0, returns what it took, and frees the slot with a `Release` store, so the
//!   slot's next owner (whose claim is an `Acquire` CAS) starts from the emptied entry.
//! - **Live entries are never touched** by a recoverer: liveness compares start times (a reused
//!   pid is a different process) and counts a process it cannot judge as alive ([`is_alive`]).
//!
//! The algorithm is generic over [`Memory`] and asks about processes through [`ProcessEnv`], so
//! the loom models in `synclab-verify` (`models::sem_ledger`) run this very code.

use super::SemError;
use crate::mem::{Atomic, Memory, Mutant};
pub(crate) use crate::process::is_alive;
use crate::process::{ProcessEnv, ProcessKey};
use std::ptr::NonNull;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::{Arc, OnceLock};

/// Set in a slot's owner word while a recoverer (whose key is in the other bits) empties it.
/// Pids are below 2^22 on Linux, so bit 31 is free (keys with it set are refused).
const RECOVERING: u64 = 1 << 31;

/// One ledger slot in the region.
#[repr(C)]
pub(crate) struct LedgerSlot<M: Memory> {
    pub(super) owner: M::U64,
    pub(super) permits: M::U64,
}

impl<M: Memory> LedgerSlot<M> {
    /// A free slot (the all-zero state a fresh region holds).
    pub(super) fn free() -> Self {
        LedgerSlot {
            owner: M::U64::new(0),
            permits: M::U64::new(0),
        }
    }
}

impl ProcessKey {
    pub(crate) fn pack(self) -> u64 {
        (u64::from(self.start) << 32) | u64::from(self.pid)
    }

    /// The key packed in a token-owner or ledger-owner word (the RECOVERING flag ignored).
    pub(crate) fn from_word(word: u64) -> Self {
        ProcessKey {
            pid: (word as u32) & !(RECOVERING as u32),
            start: (word >> 32) as u32,
        }
    }
}

/// A process's view of the ledger in a region.
pub(crate) struct LedgerView<M: Memory> {
    slots: NonNull<LedgerSlot<M>>,
    len: u32,
    max: u32,
    env: Arc<dyn ProcessEnv>,
    key: ProcessKey,
    mine: OnceLock<usize>,
}

impl<M: Memory> LedgerView<M> {
    /// A view of `len` slots at `slots` (which must stay valid as long as the view), for the
    /// process `env` describes.
    pub(crate) fn attach(
        slots: NonNull<LedgerSlot<M>>,
        len: u32,
        max: u32,
        env: Arc<dyn ProcessEnv>,
    ) -> Result<Self, SemError> {
        let key = env.me()?;
        if key.pid == 0 || u64::from(key.pid) & RECOVERING != 0 {
            return Err(SemError::InvalidArgument(format!(
                "process key {key:?}: the pid must be in 1..2^31"
            )));
        }
        Ok(LedgerView {
            slots,
            len,
            max,
            env,
            key,
            mine: OnceLock::new(),
        })
    }

    /// A view of the same slots for the process `env` describes (another handle).
    pub(crate) fn attach_again(&self, env: Arc<dyn ProcessEnv>) -> Result<Self, SemError> {
        Self::attach(self.slots, self.len, self.max, env)
    }

    /// This process's key, packed.
    pub(crate) fn key_word(&self) -> u64 {
        self.key.pack()
    }

    /// Whether the process `key` is alive, asked through this view's environment.
    pub(crate) fn judges_alive(&self, key: ProcessKey) -> bool {
        is_alive::<M>(key, &*self.env)
    }

    pub(crate) fn slot(&self, i: usize) -> &LedgerSlot<M> {
        assert!(i < self.len as usize, "ledger index {i} out of range");
        // SAFETY: `i < len` and the region (or the heap block of a local semaphore) holds `len`
        // initialised (zeroed = valid atomics) slots that live as long as `self` (the Semaphore
        // owns both its backing and this view).
        unsafe { &*self.slots.as_ptr().add(i) }
    }

    /// This process's slot, claiming a free one on first use (recovering dead ones if full).
    /// `LedgerFull` if every slot is owned by a live process or being emptied by a live
    /// recoverer.
    pub(crate) fn my_slot(
        &self,
        recover: impl Fn() -> Result<u32, SemError>,
    ) -> Result<usize, SemError> {
        if let Some(&i) = self.mine.get() {
            return Ok(i);
        }
        for attempt in 0..2 {
            if let Some(i) = self.find_or_claim() {
                return Ok(*self.mine.get_or_init(|| i));
            }
            if attempt == 0 {
                recover()?;
            }
        }
        Err(SemError::LedgerFull { slots: self.len })
    }

    /// Under this process's claim lock: the slot it already owns (claimed by another thread or
    /// handle), else a free slot claimed now. Without the lock, two threads that both found no
    /// slot of theirs would claim one each and split the process's permits between them.
    fn find_or_claim(&self) -> Option<usize> {
        let mut found = None;
        let mut body = || found = self.find_owned().or_else(|| self.claim_free());
        if M::mutant(Mutant::SemLedgerClaimUnlocked) {
            body();
        } else {
            self.env.claim_locked(&mut body);
        }
        found
    }

    /// The first slot owned by this process's key.
    fn find_owned(&self) -> Option<usize> {
        let key = self.key.pack();
        // Acquire: pairs with the AcqRel claim CAS of the thread or handle of this process that
        // claimed the slot, which acquired the freeing recoverer's emptying (see `claim_free`):
        // so this process's reads of `permits` see the entry emptied, not a dead holder's count.
        (0..self.len as usize).find(|&i| self.slot(i).owner.load(Acquire) == key)
    }

    /// Claims the first free slot.
    fn claim_free(&self) -> Option<usize> {
        let key = self.key.pack();
        (0..self.len as usize).find(|&i| {
            // AcqRel: Acquire pairs with the Release store of the recoverer that freed the slot,
            // so its zeroing of `permits` happens-before this process's records and reads;
            // Release passes that on to this process's other handles (`find_owned`).
            self.slot(i)
                .owner
                .compare_exchange(0, key, AcqRel, Relaxed)
                .is_ok()
        })
    }

    /// This process's slot if it has one (claimed by this or another handle), without claiming.
    fn find_mine(&self) -> Option<usize> {
        if let Some(&i) = self.mine.get() {
            return Some(i);
        }
        let i = self.find_owned()?;
        Some(*self.mine.get_or_init(|| i))
    }

    pub(crate) fn record_acquire(&self, n: u32) {
        if let Some(&i) = self.mine.get() {
            // Relaxed: every access to `permits` that must agree on its value is a read-modify-
            // write (this add, `record_release`'s CAS, the recoverer's swap), and RMWs read the
            // latest value in the word's modification order, so none is lost. The entry's hand-
            // over between owners is ordered by the owner word (see `claim_free`), and a dead
            // holder's last add precedes its recoverer's swap because death is observed through
            // the kernel (the process exited before `/proc` says so).
            self.slot(i).permits.fetch_add(u64::from(n), Relaxed);
        }
    }

    pub(crate) fn record_release(&self, n: u32) -> Result<(), SemError> {
        let held = self.held_by_me()?;
        let Some(i) = self.find_mine() else {
            return Err(SemError::NotHeld { held, requested: n });
        };
        let slot = self.slot(i);
        let mut cur = held;
        loop {
            if cur < u64::from(n) {
                return Err(SemError::NotHeld {
                    held: cur,
                    requested: n,
                });
            }
            if M::mutant(Mutant::SemLedgerReleaseWithoutCas) {
                slot.permits.store(cur - u64::from(n), Relaxed);
                return Ok(());
            }
            // Relaxed: see `record_acquire`.
            match slot
                .permits
                .compare_exchange(cur, cur - u64::from(n), Relaxed, Relaxed)
            {
                Ok(_) => return Ok(()),
                Err(actual) => cur = actual,
            }
        }
    }

    pub(crate) fn held_by_me(&self) -> Result<u64, SemError> {
        let Some(i) = self.find_mine() else {
            return Ok(0);
        };
        // Relaxed: this process's own counter. Its own records come before this load in program
        // order or through whatever handed permits between its threads, and the entry's
        // emptying by the recoverer that freed the slot came before this process's claim (see
        // `claim_free`), so the load cannot return an older value than those.
        let held = self.slot(i).permits.load(Relaxed);
        if held > u64::from(self.max) {
            return Err(SemError::Corrupt {
                what: "ledger permits",
                found: held,
                rule: "above the semaphore's maximum",
            });
        }
        Ok(held)
    }

    /// Returns the permits of dead owners through `give_back` (the raw release). Each entry is
    /// won by exactly one recoverer: the CAS `owner: dead key → my key | RECOVERING`.
    pub(crate) fn recover(
        &self,
        give_back: impl Fn(u32) -> Result<(), SemError>,
    ) -> Result<u32, SemError> {
        let me = self.key.pack();
        let mut total: u32 = 0;
        for i in 0..self.len as usize {
            let slot = self.slot(i);
            // Acquire: pairs with the owner's claim CAS (Release), so we judge the owner's
            // liveness after it started: the pid table cannot show us the pid's previous
            // process, whose start time would make a live owner look dead (pid reuse). The claim
            // CAS below re-reads the word, so this value is otherwise only a candidate.
            let owner = slot
                .owner
                .load(M::order(Mutant::SemLedgerRelaxedOwnerLoad, Acquire));
            if owner == 0 || owner == me || owner == me | RECOVERING {
                continue;
            }
            // An entry being recovered is judged by its recoverer's liveness: if that one died
            // mid-recovery, the entry is taken over (its `permits` were swapped to 0 before any
            // were given back, so nothing is returned twice).
            if self.judges_alive(ProcessKey::from_word(owner)) {
                continue;
            }
            let claimed = if M::mutant(Mutant::SemLedgerClaimWithoutCas) {
                slot.owner.store(me | RECOVERING, Release);
                true
            } else {
                // AcqRel: the CAS's atomicity is what makes one recoverer win; Acquire also
                // orders the previous owner's claim (and a dead recoverer's) before our
                // emptying, Release our claim before the slot's later owners.
                slot.owner
                    .compare_exchange(owner, me | RECOVERING, AcqRel, Relaxed)
                    .is_ok()
            };
            if !claimed {
                continue; // another recoverer won, or the slot changed
            }
            // Zero first, give back second, so a crash here leaks, never doubles. AcqRel is more
            // than needed: the swap reads the latest count whatever its ordering (an RMW), and
            // the freeing store's Release below publishes the zeroing to the next owner.
            let permits = slot.permits.swap(0, AcqRel);
            // Release: a claimer's AcqRel CAS 0 → key acquires the zeroed permits (without it,
            // the next owner may read, or in C++ terms even add to, the dead holder's count).
            let free = |slot: &LedgerSlot<M>| {
                slot.owner
                    .store(0, M::order(Mutant::SemLedgerRelaxedFree, Release))
            };
            if permits > u64::from(self.max) {
                free(slot);
                return Err(SemError::Corrupt {
                    what: "ledger permits",
                    found: permits,
                    rule: "above the semaphore's maximum",
                });
            }
            let p = permits as u32;
            if p > 0 {
                if let Err(e) = give_back(p) {
                    free(slot);
                    return Err(match e {
                        SemError::Overflow { .. } => SemError::Corrupt {
                            what: "ledger permits",
                            found: permits,
                            rule: "more than the permits missing from the count",
                        },
                        e => e,
                    });
                }
            }
            free(slot);
            total = total.saturating_add(p);
        }
        Ok(total)
    }
}
