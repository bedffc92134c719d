//! Recovery: returning the permits of dead holders (by a consistent cut of the ledger, see
//! `ledger.rs` for why no crash window remains), freeing their ledger slots, and clearing a
//! priority token whose holder died.
//!
//! Recoverers are serialised by the control block's `recoverer` word (0 = free, else the packed
//! key of the process recovering). A process that finds it held by a live process returns 0 at
//! once (that one is doing the work); held by a dead one, it takes it over by a CAS.

use super::ledger::{busy_of, held_of, owner_key, owner_pid, LedgerView};
use super::state::{value_of, waiters_of, PRIO, WAITER_ONE};
use super::{SemError, Semaphore};
use crate::mem::{Atomic, Deadline, Memory, Mutant};
use crate::process::ProcessKey;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

/// A slot as one read of the cut saw it.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Seen {
    owner: u64,
    entry: u64,
}

/// Liveness verdicts of one recovery (each key is judged once: `/proc` reads are not free, and
/// one verdict per key keeps the cut's notion of "live" fixed).
struct Verdicts(Vec<(u64, bool)>);

impl Verdicts {
    fn alive<M: Memory>(&mut self, view: &LedgerView<M>, owner: u64) -> bool {
        if let Some(&(_, a)) = self.0.iter().find(|(k, _)| *k == owner) {
            return a;
        }
        let a = view.judges_alive(owner_key(owner));
        self.0.push((owner, a));
        a
    }
}

impl<M: Memory> LedgerView<M> {
    fn read_all(&self) -> Vec<Seen> {
        (0..self.len as usize)
            .map(|i| {
                let s = self.slot(i);
                // Acquire (owner): pairs with the owner's claim CAS, so liveness is judged after
                // the owner started (the pid table cannot show the pid's previous process).
                // Acquire (entry): pairs with the AcqRel window RMWs (see `ledger.rs`).
                let owner = s
                    .owner
                    .load(M::order(Mutant::SemLedgerRelaxedOwnerLoad, Acquire));
                Seen {
                    owner,
                    entry: s.entry.load(Acquire),
                }
            })
            .collect()
    }

    /// Takes the recovery lock `lock`; false if a live process (this one included) holds it.
    fn lock(&self, lock: &M::U64) -> bool {
        let me = self.key.pack();
        // Acquire: pairs with the Release unlock of the previous recoverer (its frees and
        // give-backs happen-before our cut).
        let cur = lock.load(Acquire);
        if cur == me || (cur != 0 && self.judges_alive(ProcessKey::from_word(cur))) {
            return false;
        }
        if M::mutant(Mutant::SemLedgerClaimWithoutCas) {
            lock.store(me, Release);
            return true;
        }
        // AcqRel: the CAS's atomicity makes one recoverer win (a dead holder's key is never
        // written again); Acquire as above.
        lock.compare_exchange(cur, me, AcqRel, Relaxed).is_ok()
    }

    /// Returns the permits of dead owners through `give_back` and frees their slots; `count`
    /// reads the free count (Acquire). Holds the recovery lock throughout.
    pub(crate) fn recover(
        &self,
        lock: &M::U64,
        count: impl Fn() -> Result<u32, SemError>,
        give_back: impl Fn(u32) -> Result<(), SemError>,
    ) -> Result<u32, SemError> {
        if !self.lock(lock) {
            return Ok(0);
        }
        let r = self.recover_locked(count, give_back);
        // Release: the next recoverer's Acquire load sees our give-back and frees.
        lock.store(0, Release);
        r
    }

    fn recover_locked(
        &self,
        count: impl Fn() -> Result<u32, SemError>,
        give_back: impl Fn(u32) -> Result<(), SemError>,
    ) -> Result<u32, SemError> {
        let mut verdicts = Verdicts(Vec::new());
        let until = M::PEER_CHECK_INTERVAL.map(Deadline::after);
        let mut attempt = 0u32;
        loop {
            match self.try_cut(&mut verdicts, &count)? {
                Ok((dead, cut)) => return self.settle(dead, &cut, &mut verdicts, give_back),
                Err(pid) => {
                    attempt += 1;
                    let out = match until {
                        Some(d) => M::expired(d),
                        // Loom: one attempt (the model explores the interleavings; a retry
                        // loop would only multiply them).
                        None => attempt >= 1,
                    };
                    if out {
                        return Err(SemError::InFlight { pid });
                    }
                    M::spin_hint();
                    if attempt % 64 == 0 {
                        std::thread::yield_now();
                    }
                }
            }
        }
    }

    /// One attempt at a consistent cut: `Ok(Ok((dead permits, slots)))`, or `Ok(Err(pid))` if a
    /// live process (pid) was inside a window or changed its entry meanwhile.
    #[allow(clippy::type_complexity)]
    fn try_cut(
        &self,
        verdicts: &mut Verdicts,
        count: &impl Fn() -> Result<u32, SemError>,
    ) -> Result<Result<(u32, Vec<Seen>), u32>, SemError> {
        let first = self.read_all();
        for s in &first {
            if s.owner != 0 && verdicts.alive(self, s.owner) && busy_of(s.entry) != 0 {
                return Ok(Err(owner_pid(s.owner)));
            }
        }
        let value = count()?;
        let second = self.read_all();
        if let Some(s) = first.iter().zip(&second).find(|(a, b)| a != b) {
            return Ok(Err(owner_pid(s.1.owner)));
        }
        let mut live: u64 = 0;
        let mut recorded_dead: u64 = 0;
        for s in &second {
            if s.owner != 0 && verdicts.alive(self, s.owner) {
                live += self.check_held(s.entry)?;
            } else if s.owner != 0 {
                recorded_dead += held_of(s.entry).min(u64::from(self.max));
            }
        }
        if M::mutant(Mutant::SemCrashTrustsDeadEntry) {
            return Ok(Ok((recorded_dead as u32, second)));
        }
        let dead = u64::from(self.total)
            .checked_sub(u64::from(value) + live)
            .ok_or(SemError::Corrupt {
                what: "ledger permits",
                found: live,
                rule: "live holders' permits plus the free count exceed the semaphore's permits",
            })?;
        Ok(Ok((dead as u32, second)))
    }

    /// Gives back `dead` permits, then frees every dead owner's slot of the cut.
    fn settle(
        &self,
        dead: u32,
        cut: &[Seen],
        verdicts: &mut Verdicts,
        give_back: impl Fn(u32) -> Result<(), SemError>,
    ) -> Result<u32, SemError> {
        if dead > 0 {
            give_back(dead).map_err(|e| match e {
                SemError::Overflow { .. } => SemError::Corrupt {
                    what: "semaphore count",
                    found: u64::from(dead),
                    rule: "cannot take back the permits of dead holders",
                },
                e => e,
            })?;
        }
        for (i, s) in cut.iter().enumerate() {
            if s.owner == 0 || verdicts.alive(self, s.owner) {
                continue;
            }
            let slot = self.slot(i);
            // Relaxed: published by the Release free below. A dead owner never writes again and
            // only the lock holder frees, so the slot is stable here.
            slot.entry.store(0, Relaxed);
            // Release: a claimer's AcqRel CAS 0 → key acquires the zeroed entry (without it the
            // next owner may start from the dead holder's count).
            let _ = slot.owner.compare_exchange(
                s.owner,
                0,
                M::order(Mutant::SemLedgerRelaxedFree, Release),
                Relaxed,
            );
        }
        Ok(dead)
    }
}

impl<M: Memory> Semaphore<M> {
    /// Ledger mode: returns the permits of every dead process that held some, and frees its
    /// ledger entry. Returns how many permits were returned. Safe to call from any number of
    /// processes at once: one recovers (a lock word decides), the others return 0 at once.
    ///
    /// A process counts as dead when `/proc/PID/stat` is gone, shows a zombie, or shows another
    /// start time (the pid was reused). There is no crash window: a holder killed at any
    /// instruction of `acquire` or `release` leaks nothing after `recover()` (see `ledger.rs`
    /// for the argument). A live process stopped inside the few instructions of an operation's
    /// window (e.g. by SIGSTOP) makes the count undecidable: after one `PEER_CHECK_INTERVAL`
    /// this returns [`SemError::InFlight`] naming it, and a later call succeeds.
    ///
    /// It also clears the priority token of a multi-permit waiter that died while holding it
    /// (otherwise single acquirers would wait forever), with that waiter's registration, and a
    /// token bit that no recorded owner holds (a hostile or corrupt region).
    pub fn recover(&self) -> Result<u32, SemError> {
        let ledger = self.ledger.as_ref().ok_or(SemError::NoLedger)?;
        let count = || {
            // Acquire: pairs with holders' AcqRel count CASes (see `ledger.rs`).
            let s = self.state().load(Acquire);
            self.corrupt_check(s)?;
            Ok(value_of(s))
        };
        let permits = ledger.recover(&self.core().recoverer, count, |n| self.release_core(n));
        let token = self.recover_token();
        let permits = permits?;
        token?;
        Ok(permits)
    }

    /// Clears the priority token of a holder that died while waiting (and its registration),
    /// or a token bit without a recorded owner, then wakes everyone. Exactly one caller wins
    /// a dead owner, by a CAS on `token_owner`.
    fn recover_token(&self) -> Result<bool, SemError> {
        let Some(ledger) = &self.ledger else {
            return Ok(false);
        };
        // Acquire: pairs with the Release store that clears the owner after the token bit (see
        // `wait.rs`), so seeing no owner after seeing the bit means the bit has no owner (or was
        // dropped meanwhile, which the CAS below detects).
        let s = self.state().load(Acquire);
        let owner = self.core().token_owner.load(Acquire);
        if owner == 0 {
            if s & PRIO == 0 {
                return Ok(false);
            }
            // A token nobody owns (the owner is recorded before the bit is set): clear it.
            // A CAS from the very word we judged, so a token taken meanwhile is left alone.
            if self
                .state()
                .compare_exchange(s, s & !PRIO, Release, Relaxed)
                .is_ok()
            {
                M::wake64_low(self.state(), u32::MAX);
                return Ok(true);
            }
            return Ok(false);
        }
        if ledger.judges_alive(ProcessKey::from_word(owner)) {
            return Ok(false);
        }
        // AcqRel: one recoverer wins; a dead owner never writes its key again.
        if self
            .core()
            .token_owner
            .compare_exchange(owner, 0, AcqRel, Relaxed)
            .is_err()
        {
            return Ok(false);
        }
        // The dead owner set the bit (and registered, in the same CAS) only after recording
        // itself, and clears the bit before its record: with the bit set it is ours to clear.
        // Relaxed: a guess for the CAS.
        let mut s = self.state().load(Relaxed);
        loop {
            if s & PRIO == 0 {
                return Ok(false); // died before setting it or after dropping it
            }
            let mut new = s & !PRIO;
            if waiters_of(new) > 0 {
                new -= WAITER_ONE;
            }
            // Release: like `release`, the freed token hands permits to the next acquirer.
            match self.state().compare_exchange(s, new, Release, Relaxed) {
                Ok(_) => break,
                Err(actual) => s = actual,
            }
        }
        M::wake64_low(self.state(), u32::MAX);
        Ok(true)
    }
}
