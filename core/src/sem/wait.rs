//! Acquiring: the fast path (one CAS), the adaptive spin, and the slow path (register, take the
//! priority token if a multi-permit waiter, sleep on the futex half of the state word, leave).
//!
//! Every wait is sliced by `PEER_CHECK_INTERVAL` (real memory: 100 ms): a waiter re-reads the
//! state word at least that often, so a hostile peer that zeroes the waiter count or swallows a
//! wake cannot park it past its deadline, and in ledger mode it recovers dead holders' permits.
//! Every state word read is validated (`corrupt_check`) before it is used.
//!
//! In ledger mode the CAS that takes permits sits inside the holder's ledger window
//! (`ledger.rs`), and the priority token's owner is recorded *before* the token bit is set and
//! cleared *after* it is dropped, so the bit never stands without a recorded owner.

use super::state::{low_of, spin_limit, value_of, waiters_of, CLOSED, PRIO, WAITER_ONE};
use super::{SemError, Semaphore};
use crate::mem::{Atomic, Deadline, Memory, Mutant, WaitOutcome};
use std::sync::atomic::Ordering::{AcqRel, Relaxed, Release};

impl<M: Memory> Semaphore<M> {
    /// The CAS that takes `n` permits from `s` (and deregisters / clears the token as asked),
    /// inside a ledger window in ledger mode. `AcqRel` on success: Acquire pairs with the
    /// `Release` CAS of every `release`, so the new holder's critical section comes after the
    /// previous holders'; Release orders the opened ledger window before it (a recoverer's
    /// cut). `Relaxed` on failure: the loop only retries with the fresh value.
    #[inline(always)]
    pub(super) fn take(&self, s: u64, new: u64, n: u32) -> Result<u64, u64> {
        if let Some(ledger) = &self.ledger {
            ledger.open_window();
            self.step();
        }
        let r = self.state().compare_exchange(
            s,
            new,
            M::order(Mutant::SemRelaxedAcquire, AcqRel),
            Relaxed,
        );
        if let Some(ledger) = &self.ledger {
            self.step();
            ledger.close_window(if r.is_ok() { n } else { 0 });
        }
        r
    }

    /// Whether the word `s` lets `n` permits be taken at once: not corrupt, not closed, no
    /// priority token, at least `n` free: `n <= value <= max` with both flag bits clear, in one
    /// unsigned compare of the low half (a flag bit makes it at least 2^30, above `max`; fewer
    /// than `n` free wraps it around). The caller has checked `1 <= n <= max` (`check_n`).
    #[inline(always)]
    fn takes_at_once(&self, s: u64, n: u32) -> bool {
        low_of(s).wrapping_sub(n) <= self.max().saturating_sub(n)
    }

    /// Takes `n` permits on a semaphore without a ledger: the first round of
    /// [`Semaphore::acquire_loop`] inline (a plain word with enough permits: one compare, one
    /// CAS), everything else (a failed CAS, no permits, the token, a closed or corrupt word) out
    /// of line, so the uncontended acquire stays a handful of instructions around its one CAS,
    /// like glibc's `sem_wait`. The CAS is [`take`](Self::take)'s without the ledger window.
    #[inline(always)]
    pub(super) fn acquire_plain(
        &self,
        n: u32,
        deadline: Option<Deadline>,
        block: bool,
    ) -> Result<(), SemError> {
        // Relaxed: only a first guess for the CAS, which re-validates it.
        let s = self.state().load(Relaxed);
        if self.takes_at_once(s, n) {
            // AcqRel on success, Relaxed on failure: as in `take` (the Release half has no
            // window to order here but costs nothing on a locked instruction).
            return match self.state().compare_exchange(
                s,
                s - u64::from(n),
                M::order(Mutant::SemRelaxedAcquire, AcqRel),
                Relaxed,
            ) {
                Ok(_) => Ok(()),
                Err(actual) => self.acquire_loop(n, deadline, block, actual),
            };
        }
        self.acquire_loop(n, deadline, block, s)
    }

    /// Takes `n` permits in ledger mode: as [`acquire_plain`](Self::acquire_plain), with the
    /// CAS inside the ledger window ([`take`](Self::take)).
    #[inline(always)]
    pub(super) fn acquire_core(
        &self,
        n: u32,
        deadline: Option<Deadline>,
        block: bool,
    ) -> Result<(), SemError> {
        // Relaxed: only a first guess for the CAS, which re-validates it.
        let s = self.state().load(Relaxed);
        if self.takes_at_once(s, n) {
            match self.take(s, s - u64::from(n), n) {
                Ok(_) => return Ok(()),
                Err(actual) => return self.acquire_loop(n, deadline, block, actual),
            }
        }
        self.acquire_loop(n, deadline, block, s)
    }

    /// The acquire loop from the word `s`: validate, take if possible, else spin (adaptively)
    /// and then take the slow path.
    #[inline(never)]
    fn acquire_loop(
        &self,
        n: u32,
        deadline: Option<Deadline>,
        block: bool,
        mut s: u64,
    ) -> Result<(), SemError> {
        let mut spins = 0;
        // Relaxed: a process-local heuristic, never shared memory, orders nothing.
        let limit = self.spin_budget.load(Relaxed).clamp(1, spin_limit::<M>());
        loop {
            self.corrupt_check(s)?;
            if s & CLOSED != 0 {
                return Err(SemError::Closed);
            }
            if s & PRIO == 0 && value_of(s) >= n {
                match self.take(s, s - u64::from(n), n) {
                    Ok(_) => {
                        if spins > 0 {
                            // Spinning paid off: allow longer spins (up to the limit).
                            let grown = limit.saturating_mul(2).min(spin_limit::<M>());
                            self.spin_budget.store(grown, Relaxed);
                        }
                        return Ok(());
                    }
                    Err(actual) => {
                        s = actual;
                        continue;
                    }
                }
            }
            if !block {
                return Err(SemError::WouldBlock);
            }
            if spins >= limit {
                // Spinning did not pay off: spin an eighth less next time (down to 1).
                self.spin_budget
                    .store((limit - (limit / 8).max(1)).max(1), Relaxed);
                break;
            }
            spins += 1;
            M::spin_hint();
            // Relaxed: as above.
            s = self.state().load(Relaxed);
        }
        self.acquire_slow(n, deadline, s)
    }

    /// Registers as a waiter and sleeps until `n` permits can be taken, the deadline passes or
    /// the semaphore closes.
    fn acquire_slow(&self, n: u32, deadline: Option<Deadline>, s: u64) -> Result<(), SemError> {
        let mut holder = false;
        let r = self.wait_loop(n, deadline, s, &mut holder);
        if holder && matches!(r, Err(SemError::Corrupt { .. })) {
            // Leaving on a corrupt region while holding the token: drop it (bit first, then
            // owner, as always), so a live owner's key does not keep the others out.
            // Relaxed: a guess for the CAS. AcqRel on success: as a leaving CAS.
            let mut cur = self.state().load(Relaxed);
            while let Err(actual) = self
                .state()
                .compare_exchange(cur, cur & !PRIO, AcqRel, Relaxed)
            {
                cur = actual;
            }
            self.clear_token_owner();
            M::wake64_low(self.state(), u32::MAX);
        }
        r
    }

    /// The slow path's loop; `holder` says whether this waiter holds the priority token.
    fn wait_loop(
        &self,
        n: u32,
        deadline: Option<Deadline>,
        mut s: u64,
        holder: &mut bool,
    ) -> Result<(), SemError> {
        // Whether this waiter is counted in `waiters`.
        let mut registered = false;
        loop {
            self.corrupt_check(s)?;
            let prio_ok = s & PRIO == 0 || *holder;
            if s & CLOSED != 0 || (prio_ok && value_of(s) >= n) {
                match self.leave(n, registered, *holder, s)? {
                    Ok(r) => return r,
                    Err(actual) => {
                        s = actual;
                        continue;
                    }
                }
            }
            if !registered || (n > 1 && !*holder && s & PRIO == 0) {
                match self.register(n, registered, s)? {
                    Ok((new, took_token)) => {
                        registered = true;
                        *holder |= took_token;
                        s = new;
                    }
                    Err(actual) => {
                        s = actual;
                        continue;
                    }
                }
            }
            let timed_out = self.sleep(s, deadline)?;
            // Woken, ValueChanged, Interrupted (EINTR), a slice's end or spurious: re-read and
            // loop; the absolute deadline does not stretch.
            // Relaxed: a guess for the next CAS.
            s = self.state().load(Relaxed);
            if timed_out {
                return self.timeout_exit(n, *holder, s);
            }
        }
    }

    /// One CAS that registers (if not yet) and takes the priority token (for `n > 1`, if free
    /// and, in ledger mode, its owner word could be claimed first). `Ok(Ok((new word, took
    /// the token)))`, or `Ok(Err(actual))` to retry.
    #[allow(clippy::type_complexity)]
    fn register(
        &self,
        n: u32,
        registered: bool,
        s: u64,
    ) -> Result<Result<(u64, bool), u64>, SemError> {
        let mut take_token = n > 1 && s & PRIO == 0 && !M::mutant(Mutant::SemProgressNoPriority);
        if take_token {
            take_token = self.claim_token_owner();
        }
        let mut new = s;
        if !registered {
            if waiters_of(s) == u32::MAX {
                if take_token {
                    self.clear_token_owner();
                }
                return Err(SemError::Corrupt {
                    what: "waiter count",
                    found: u64::from(u32::MAX),
                    rule: "would wrap",
                });
            }
            new += WAITER_ONE;
        }
        if take_token {
            new |= PRIO;
        }
        if new == s {
            return Ok(Ok((s, false)));
        }
        // Release on success: when this sets the token bit, a recoverer that reads the bit
        // with its Acquire state load must also see the token's owner word, written (by
        // `claim_token_owner`) before this CAS; with Relaxed it could see the bit with a stale
        // owner 0 and clear the bit without dropping our registration (found by the loom model
        // `semaphore-token-recover`, race "with-death"). Otherwise registering publishes
        // nothing but the word itself, which a releaser's RMW reads (the latest value in
        // modification order). Relaxed on failure: we retry from the value read.
        match self.state().compare_exchange(s, new, Release, Relaxed) {
            Ok(_) => {
                self.step();
                Ok(Ok((new, take_token)))
            }
            Err(actual) => {
                if take_token {
                    self.clear_token_owner();
                }
                Ok(Err(actual))
            }
        }
    }

    /// Takes `n` permits (unless closed), deregisters and drops the token, in one CAS from `s`.
    /// `Ok(Ok(result))` when done, `Ok(Err(actual))` to retry.
    #[allow(clippy::type_complexity)]
    fn leave(
        &self,
        n: u32,
        registered: bool,
        holder: bool,
        s: u64,
    ) -> Result<Result<Result<(), SemError>, u64>, SemError> {
        let closed = s & CLOSED != 0;
        let mut new = s;
        if !closed {
            new -= u64::from(n);
        }
        if registered {
            new = self.deregister(new)?;
        }
        if holder {
            new &= !PRIO;
        }
        match self.take(s, new, if closed { 0 } else { n }) {
            Ok(_) => {
                if holder {
                    // Cleared after the bit is dropped, so the bit never stands without an owner.
                    self.clear_token_owner();
                    if waiters_of(new) > 0 {
                        // The token held the others back: let them re-check.
                        M::wake64_low(self.state(), u32::MAX);
                    }
                }
                Ok(Ok(if closed {
                    Err(SemError::Closed)
                } else {
                    Ok(())
                }))
            }
            Err(actual) => Ok(Err(actual)),
        }
    }

    /// Sleeps on the low half of `s` until woken, the slice ends or the deadline passes; true
    /// if the deadline passed. In ledger mode a slice's end recovers dead holders' permits.
    fn sleep(&self, s: u64, deadline: Option<Deadline>) -> Result<bool, SemError> {
        if deadline.is_some_and(M::expired) {
            return Ok(true);
        }
        let slice = M::PEER_CHECK_INTERVAL.map(Deadline::after);
        let until = match (slice, deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let out = M::wait64_low(self.state(), low_of(s), until);
        let deadline_passed = deadline.is_some_and(M::expired);
        let timed_out = out == WaitOutcome::TimedOut;
        if timed_out && !deadline_passed && slice.is_some() {
            // The slice ended, not the wait: recover (ledger mode) and re-check.
            if self.ledger.is_some() {
                match self.recover() {
                    Ok(_) | Err(SemError::InFlight { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            return Ok(false);
        }
        // (Without slices, as under loom, a timed-out wait is the deadline's.)
        Ok(deadline_passed || (timed_out && slice.is_none()))
    }

    /// Ledger mode: claims the token's owner word for this process (before the bit is set);
    /// false if another process's key is there. Without a ledger there is no owner to record.
    fn claim_token_owner(&self) -> bool {
        let Some(ledger) = &self.ledger else {
            return true;
        };
        // AcqRel: Acquire pairs with the previous owner's Release clear; Release orders our
        // key before the state CAS that sets the bit (a recoverer that sees the bit sees us).
        let ok = self
            .core()
            .token_owner
            .compare_exchange(0, ledger.key_word(), AcqRel, Relaxed)
            .is_ok();
        self.step();
        ok
    }

    /// Ledger mode: clears the token's owner word (after the bit is dropped).
    fn clear_token_owner(&self) {
        if self.ledger.is_some() {
            // Release: pairs with the next owner's claim and `recover_token`'s Acquire load.
            self.core().token_owner.store(0, Release);
        }
    }

    pub(super) fn deregister(&self, s: u64) -> Result<u64, SemError> {
        if waiters_of(s) == 0 {
            return Err(SemError::Corrupt {
                what: "waiter count",
                found: 0,
                rule: "a registered waiter is leaving, so it cannot be 0",
            });
        }
        Ok(s - WAITER_ONE)
    }

    /// The deadline passed: leave, unless permits became free meanwhile (a release that raced the
    /// timeout wins, so no wakeup meant for this waiter is lost).
    fn timeout_exit(&self, n: u32, holder: bool, mut s: u64) -> Result<(), SemError> {
        loop {
            self.corrupt_check(s)?;
            let closed = s & CLOSED != 0;
            let can_take = !closed && (s & PRIO == 0 || holder) && value_of(s) >= n;
            let mut new = self.deregister(s)?;
            if can_take {
                new -= u64::from(n);
            }
            if holder {
                new &= !PRIO;
            }
            match self.take(s, new, if can_take { n } else { 0 }) {
                Ok(_) => {
                    if holder {
                        self.clear_token_owner();
                    }
                    // A token holder that leaves must pass on the wakeups it absorbed: while it
                    // held the token, released permits were reserved for it and the others went
                    // back to sleep.
                    if holder && waiters_of(new) > 0 && !M::mutant(Mutant::SemTimeoutSwallowsWake) {
                        M::wake64_low(self.state(), u32::MAX);
                    }
                    return if can_take {
                        Ok(())
                    } else if closed {
                        Err(SemError::Closed)
                    } else {
                        Err(SemError::TimedOut)
                    };
                }
                Err(actual) => s = actual,
            }
        }
    }
}
