//! A counting semaphore that lives in shared memory and works between real processes.
//!
//! # The state word
//!
//! All of the state that waiting and waking depend on is one 64-bit word (glibc's trick,
//! extended); the control block also holds the priority-token owner (ledger mode):
//!
//! ```text
//!  63                             32 31      30        29                     0
//! ┌──────────────────────────────────┬────────┬─────────┬──────────────────────┐
//! │ waiters (registered sleepers)    │ CLOSED │ PRIO    │ value (free permits) │
//! └──────────────────────────────────┴────────┴─────────┴──────────────────────┘
//!                                    └───────── low half: the futex word ──────┘
//! ```
//!
//! - **Fast path**: `acquire` is one compare-and-swap that lowers `value`; `release` is one
//!   compare-and-swap that raises it and, from the *same* CAS result, learns whether anyone is
//!   registered as a waiter. No system call happens when no one waits.
//! - **Spin, then park**: a blocked acquirer first spins (adaptively, per handle; see
//!   `spin_limit`), then takes the slow path.
//! - **Slow path**: a waiter registers (raises `waiters` with a CAS that also confirms the low
//!   half it is about to sleep on), then sleeps with a process-shared futex on the low half
//!   ([`Memory::wait64_low`]). Everything a sleeper waits for (a permit, the priority token
//!   being cleared, `close`) changes the low half, so the kernel's compare-and-sleep cannot miss
//!   it; and because the waiter count is in the same word as the value, a releaser's CAS always
//!   sees every waiter that registered before it (the two-word design needs a `SeqCst` fence
//!   on both sides, and libc++/libstdc++ shipped the "wake only on 0→positive" shortcut that
//!   loses wakeups: both are mutants here, `sem-split-words-relaxed` and
//!   `sem-wake-on-zero-to-positive`, with `sem-timeout-swallows-wake` and `sem-relaxed-acquire`;
//!   the loom models in `synclab-verify` (`models::sem`) find all four).
//! - Every futex return may be spurious, EINTR included: waiters re-read the word and loop.
//!   Deadlines are absolute CLOCK_MONOTONIC ([`Deadline`]), so restarts do not stretch a wait.
//!
//! # Fairness policy
//!
//! Single-permit acquirers barge (whoever's CAS lands first wins), which is the fast choice.
//! A multi-permit acquirer (`acquire_many(n)`, `n > 1`) that must wait takes the **priority
//! token** (the `PRIO` bit) if no one else holds it. While the token is held, nobody but its
//! holder may take permits (fast path included, `try_acquire` says `WouldBlock`), so released
//! permits accumulate until the holder can take its `n`; then it clears the token and wakes the
//! others. So `acquire_many(n)` cannot starve under a stream of single acquires: once it holds
//! the token it completes as soon as the current holders release `n` permits in total (see the
//! test `acquire_many_is_not_starved_by_single_acquirers`). Other multi-permit waiters queue for
//! the token; each token holder completes after finitely many releases, so the token passes on.
//! The price: while a token holder waits, every release wakes all waiters (they must re-check
//! the token), and single acquirers wait even when permits are free.
//!
//! # Errors and untrusted memory
//!
//! Everything read from the region is untrusted (another process may write anything there). A
//! count above the maximum, a waiter count that would wrap or a ledger entry above the maximum is
//! reported as [`SemError::Corrupt`]; no index read from the region is ever used unchecked.
//! Every wait is sliced by `PEER_CHECK_INTERVAL`, so no hostile value (a zeroed waiter count, a
//! swallowed wake) can keep a waiter past its deadline.
//!
//! `release` beyond the maximum returns [`SemError::Overflow`] and changes nothing. [`close`]
//! wakes every waiter; their acquires (and all later ones) return [`SemError::Closed`].
//! `release` keeps working after `close`, so holders can still return their permits.
//!
//! # Holder ledger (optional)
//!
//! Created with a ledger ([`Builder::ledger`](crate::object::Builder)), the region holds a table of (process, permits held)
//! entries keyed by pid plus the process's start time (field 22 of `/proc/PID/stat`), so a
//! reused pid is not mistaken for the dead holder. [`Semaphore::recover`] returns the permits of
//! dead processes (zombies count as dead) with **no crash window**: every count change by a
//! holder is bracketed by a window in its ledger entry, and a recoverer (one at a time, by a lock
//! word) decides what the dead took from a consistent cut (`permits − value − Σ live held`), so a
//! holder killed at any instruction leaks nothing; `ledger.rs` argues it and states the
//! invariants, `recover.rs` implements it. The ledger asks about processes through a
//! `ProcessEnv` (`ProcFs` for real processes), so its loom models (`synclab-verify`'s
//! `models::sem_ledger` and `models::sem_crash`, with a heap semaphore built for a model
//! process and `Semaphore::handle_as` / `handle_crashing`) decide who is dead, stop a holder
//! between any two of its steps, and run this very code; they find every `sem-ledger-*` and
//! `sem-crash-*` mutant.
//!
//! # Files
//!
//! `state.rs` (the word and control block), `wait.rs` (acquire: fast path, spin, slow path),
//! `ledger.rs` (slots and windows), `recover.rs` (dead holders, dead token owners),
//! `region.rs` (layout, header parameters, builder), `error.rs`.
//!
//! # glibc bug 12674
//!
//! `release` must not touch the semaphore after the update that lets a waiter return (and
//! perhaps unmap it). Here the waiter count comes from the CAS result itself; the only later
//! access is the futex wake, which uses the address only as a key (a stale key means a harmless
//! spurious wake). In this process the mapping cannot go away under a call anyway: every handle
//! keeps its `Arc<Region>`.
//!
//! # For a worker process
//!
//! ```no_run
//! use synclab_core::{Semaphore, ShmName};
//!
//! # fn main() -> Result<(), synclab_core::SemError> {
//! // The parent: `let sem = Semaphore::builder().max(2).ledger(64).create(&name)?;`
//! // then passes the name (or `sem.fd()`, a memfd, via `anonymous()`) to the worker.
//! let name = ShmName::new("/synclab-sem-demo")?;
//! let sem = Semaphore::builder().open(&name)?; // or .open_fd(owned_fd)?
//! for _ in 0..1000 {
//!     let permit = sem.acquire()?; // blocks; `Err(Closed)` once the parent closes it
//!     // ... critical section: at most `max` processes are here ...
//!     drop(permit); // releases
//! }
//! # Ok(())
//! # }
//! ```
//!
//! [`close`]: Semaphore::close

mod error;
mod ledger;
mod local;
mod recover;
mod region;
mod state;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_local;
mod wait;

pub use error::SemError;
pub use local::{LocalPermit, LocalSemaphore};
pub use state::{SemCore, MAX_LEDGER_SLOTS, MAX_PERMITS};

use crate::mem::{Atomic, Deadline, Memory, Mutant, RealMemory};
use crate::object::Builder;
use crate::process::ProcessEnv;
use crate::shm::Region;
use ledger::{LedgerSlot, LedgerView};
use state::{corrupt_count, spin_limit, value_of, waiters_of, CLOSED, PRIO};
use std::num::NonZeroU32;
use std::ptr::NonNull;
use std::sync::atomic::Ordering::{Relaxed, Release};
use std::sync::Arc;
use std::time::Duration;

/// Creation parameters of a semaphore (see [`Semaphore::builder`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SemParams {
    /// The most permits that can be free at once, `1..=MAX_PERMITS` (default 1).
    pub max: u32,
    /// Free permits at creation, `<= max` (default: `max`).
    pub permits: Option<u32>,
    /// Holder-ledger slots (processes that may hold permits at once), `1..=MAX_LEDGER_SLOTS`;
    /// 0 = no ledger (the default).
    pub ledger_slots: u32,
}

impl SemParams {
    fn initial(&self) -> u32 {
        self.permits.unwrap_or(self.max)
    }
}

/// What keeps a handle's memory alive: a shared-memory region, or (for `heap()`, which loom
/// models use) a heap block shared by every handle made with
/// [`Semaphore::handle_as`].
enum Backing<M: Memory> {
    /// Only ever in a `Semaphore<RealMemory>`.
    Region(Arc<Region>),
    Local(Arc<LocalBlock<M>>),
}

impl<M: Memory> Clone for Backing<M> {
    fn clone(&self) -> Self {
        match self {
            Backing::Region(r) => Backing::Region(Arc::clone(r)),
            Backing::Local(b) => Backing::Local(Arc::clone(b)),
        }
    }
}

/// The heap form of a region body: the control block and the ledger slots.
struct LocalBlock<M: Memory> {
    core: SemCore<M>,
    slots: Box<[LedgerSlot<M>]>,
}

/// A handle to a counting semaphore. Cheap to share between threads (`Send + Sync`); every
/// process opens its own handle on the region.
pub struct Semaphore<M: Memory = RealMemory> {
    core: NonNull<SemCore<M>>,
    /// Non-zero by type, so `n > max` for a constant `n = 1` folds away on the fast paths.
    max: NonZeroU32,
    ledger: Option<LedgerView<M>>,
    /// Adaptive spin length (process-local, per handle): doubled when a spin acquires, cut by an
    /// eighth when it ends in parking. See [`spin_limit`].
    spin_budget: std::sync::atomic::AtomicU32,
    /// Models only: steps left before this handle "crashes" (see `handle_crashing`).
    crash_at: Option<std::sync::atomic::AtomicU32>,
    backing: Backing<M>,
}

// SAFETY: the handle points at atomics (in a region or a heap block, either kept alive by the
// Arc in `backing`, which every handle made by `handle_as` shares); all access goes through `&`
// to those atomics, which are `Sync`, and the ledger's `ProcessEnv` is `Send + Sync`.
unsafe impl<M: Memory> Send for Semaphore<M> {}
// SAFETY: as above.
unsafe impl<M: Memory> Sync for Semaphore<M> {}

const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Semaphore>();
};

impl<M: Memory> std::fmt::Debug for Semaphore<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Relaxed: a diagnostic snapshot that orders nothing.
        f.debug_struct("Semaphore")
            .field("max", &self.max)
            .field("state", &self.core().state.load(Relaxed))
            .field("ledger", &self.ledger.is_some())
            .finish()
    }
}

/// The panic payload of a handle made by [`Semaphore::handle_crashing`] when it reaches its
/// crash step.
#[doc(hidden)]
#[derive(Debug)]
pub struct Crashed;

/// An acquired set of permits, released when dropped.
#[must_use = "dropping a Permit releases it at once"]
pub struct Permit<'a, M: Memory = RealMemory> {
    sem: &'a Semaphore<M>,
    n: u32,
}

impl<M: Memory> std::fmt::Debug for Permit<'_, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Permit").field("count", &self.n).finish()
    }
}

impl<M: Memory> Permit<'_, M> {
    /// How many permits this guard holds.
    pub fn count(&self) -> u32 {
        self.n
    }

    /// Keeps the permits acquired without releasing them (release later with
    /// [`Semaphore::release`]).
    pub fn forget(mut self) {
        self.n = 0;
    }
}

impl<M: Memory> Drop for Permit<'_, M> {
    #[inline]
    fn drop(&mut self) {
        if self.n > 0 {
            // Cannot overflow unless a peer released permits it did not hold (or the region is
            // corrupt); a destructor has no one to report that to.
            let _ = self.sem.release(self.n);
        }
    }
}

fn check_params(permits: u32, max: u32) -> Result<(), SemError> {
    if max == 0 || max > MAX_PERMITS {
        return Err(SemError::InvalidArgument(format!(
            "max must be in 1..={MAX_PERMITS}, not {max}"
        )));
    }
    if permits > max {
        return Err(SemError::InvalidArgument(format!(
            "initial permits {permits} exceed max {max}"
        )));
    }
    Ok(())
}

impl<M: Memory> Semaphore<M> {
    /// A builder: set the maximum, initial permits and ledger, then create, open or place the
    /// semaphore.
    ///
    /// ```
    /// use synclab_core::Semaphore;
    ///
    /// let sem = Semaphore::builder().max(2).permits(1).heap().unwrap();
    /// let permit = sem.try_acquire().unwrap();
    /// assert_eq!(sem.value().unwrap(), 0);
    /// drop(permit);
    /// assert_eq!(sem.value().unwrap(), 1);
    /// ```
    pub fn builder() -> Builder<Self> {
        Builder::new()
    }

    /// Another handle on the same semaphore that acts as the process `env` describes: in
    /// ledger mode it records its permits under that process's key, judges liveness and
    /// serialises slot claims through `env`. For models and tests that play several processes
    /// in one (a real process opens the region and is described by [`ProcFs`]).
    #[doc(hidden)]
    pub fn handle_as(&self, env: Arc<dyn ProcessEnv>) -> Result<Self, SemError> {
        let ledger = match &self.ledger {
            Some(view) => Some(view.attach_again(env)?),
            None => None,
        };
        Ok(Self::with_backing(self.backing.clone(), self.max, ledger))
    }

    /// A handle on `backing` (whose control block must be initialised, and whose ledger slots
    /// `ledger` must point into).
    fn with_backing(backing: Backing<M>, max: NonZeroU32, ledger: Option<LedgerView<M>>) -> Self {
        let core = match &backing {
            // A region backs only `Semaphore<RealMemory>` (see `from_region`), whose control block
            // starts the body.
            Backing::Region(r) => r.body().cast::<SemCore<M>>(),
            Backing::Local(block) => NonNull::from(&block.core),
        };
        Semaphore {
            core,
            max,
            ledger,
            spin_budget: std::sync::atomic::AtomicU32::new(spin_limit::<M>()),
            crash_at: None,
            backing,
        }
    }

    /// A handle like [`handle_as`](Self::handle_as) that "crashes" (panics with [`Crashed`])
    /// at its `steps`-th step boundary: models use it to stop a process between any two of the
    /// atomic steps of acquire and release (catching the unwind, then marking the process dead).
    #[doc(hidden)]
    pub fn handle_crashing(&self, env: Arc<dyn ProcessEnv>, steps: u32) -> Result<Self, SemError> {
        let mut h = self.handle_as(env)?;
        h.crash_at = Some(std::sync::atomic::AtomicU32::new(steps));
        Ok(h)
    }

    /// A step boundary (see [`handle_crashing`](Self::handle_crashing)); nothing on a normal
    /// handle.
    #[inline(always)]
    fn step(&self) {
        if let Some(left) = &self.crash_at {
            // Relaxed: a process-local countdown, never shared memory.
            if left.fetch_sub(1, Relaxed) == 1 {
                std::panic::panic_any(Crashed);
            }
        }
    }

    #[inline(always)]
    fn core(&self) -> &SemCore<M> {
        // SAFETY: `core` points at an initialised control block that lives as long as `backing`,
        // which `self` owns.
        unsafe { self.core.as_ref() }
    }

    #[inline(always)]
    fn state(&self) -> &M::U64 {
        &self.core().state
    }

    /// The declared maximum.
    #[inline(always)]
    pub fn max(&self) -> u32 {
        self.max.get()
    }

    #[inline]
    fn corrupt_check(&self, s: u64) -> Result<(), SemError> {
        if value_of(s) > self.max() {
            return Err(corrupt_count(s));
        }
        Ok(())
    }

    /// The number of free permits now (a snapshot).
    pub fn value(&self) -> Result<u32, SemError> {
        // Relaxed: a snapshot that orders nothing.
        let s = self.state().load(Relaxed);
        self.corrupt_check(s)?;
        Ok(value_of(s))
    }

    /// Whether [`Semaphore::close`] has been called.
    pub fn is_closed(&self) -> bool {
        // Relaxed: a snapshot.
        self.state().load(Relaxed) & CLOSED != 0
    }

    /// Number of registered waiters now (a snapshot, for diagnostics).
    pub fn waiters(&self) -> u32 {
        // Relaxed: a snapshot.
        waiters_of(self.state().load(Relaxed))
    }

    #[inline(always)]
    fn check_n(&self, n: u32) -> Result<(), SemError> {
        if n == 0 || n > self.max() {
            return Err(self.bad_n(n));
        }
        Ok(())
    }

    #[cold]
    fn bad_n(&self, n: u32) -> SemError {
        SemError::InvalidArgument(format!(
            "cannot acquire {n} permit(s) of a semaphore with max {}",
            self.max
        ))
    }

    /// Takes one permit, blocking while none is free.
    #[inline]
    pub fn acquire(&self) -> Result<Permit<'_, M>, SemError> {
        self.acquire_many(1)
    }

    /// Takes one permit if one is free now.
    #[inline]
    pub fn try_acquire(&self) -> Result<Permit<'_, M>, SemError> {
        self.try_acquire_many(1)
    }

    /// Takes one permit, blocking at most `timeout`.
    pub fn acquire_timeout(&self, timeout: Duration) -> Result<Permit<'_, M>, SemError> {
        self.acquire_many_until(1, Deadline::after(timeout))
    }

    /// Takes one permit, blocking until the absolute CLOCK_MONOTONIC `deadline` at the latest.
    pub fn acquire_until(&self, deadline: Deadline) -> Result<Permit<'_, M>, SemError> {
        self.acquire_many_until(1, deadline)
    }

    /// Takes `n` permits at once (all or nothing), blocking until they are free. See the module
    /// docs for the fairness policy that keeps this from starving.
    #[inline]
    pub fn acquire_many(&self, n: u32) -> Result<Permit<'_, M>, SemError> {
        self.acquire_raw(n, None, true)?;
        Ok(Permit { sem: self, n })
    }

    /// Takes `n` permits if they are free now.
    #[inline]
    pub fn try_acquire_many(&self, n: u32) -> Result<Permit<'_, M>, SemError> {
        self.acquire_raw(n, None, false)?;
        Ok(Permit { sem: self, n })
    }

    /// Takes `n` permits, blocking at most `timeout`.
    pub fn acquire_many_timeout(
        &self,
        n: u32,
        timeout: Duration,
    ) -> Result<Permit<'_, M>, SemError> {
        self.acquire_many_until(n, Deadline::after(timeout))
    }

    /// Takes `n` permits, blocking until `deadline` at the latest.
    pub fn acquire_many_until(
        &self,
        n: u32,
        deadline: Deadline,
    ) -> Result<Permit<'_, M>, SemError> {
        self.acquire_raw(n, Some(deadline), true)?;
        Ok(Permit { sem: self, n })
    }

    /// Takes `n` permits without a guard: the caller releases them with [`Semaphore::release`].
    /// `deadline = None` waits forever; `block = false` never waits.
    #[inline(always)]
    pub fn acquire_raw(
        &self,
        n: u32,
        deadline: Option<Deadline>,
        block: bool,
    ) -> Result<(), SemError> {
        self.check_n(n)?;
        if self.ledger.is_some() {
            return self.acquire_ledger(n, deadline, block);
        }
        self.acquire_plain(n, deadline, block)
    }

    /// `acquire_raw` in ledger mode.
    #[inline]
    fn acquire_ledger(
        &self,
        n: u32,
        deadline: Option<Deadline>,
        block: bool,
    ) -> Result<(), SemError> {
        if let Some(ledger) = &self.ledger {
            // Claim this process's ledger slot before taking anything, so the permits can
            // always be recorded (the CAS that takes them sits in a ledger window: `wait.rs`).
            ledger.my_slot(|| self.recover())?;
            self.step();
        }
        self.acquire_core(n, deadline, block)
    }

    /// Whether a multi-permit waiter holds the priority token now (a snapshot, diagnostics).
    pub fn priority_held(&self) -> bool {
        // Relaxed: a snapshot.
        self.state().load(Relaxed) & PRIO != 0
    }

    /// Returns `n` permits. Fails with [`SemError::Overflow`], changing nothing, if that would
    /// raise the count above the maximum. In ledger mode, fails with [`SemError::NotHeld`] if
    /// this process holds fewer than `n`. Works after `close`.
    #[inline]
    pub fn release(&self, n: u32) -> Result<(), SemError> {
        if n == 0 {
            return Ok(());
        }
        if n > self.max() {
            return Err(self.release_too_many(n));
        }
        if self.ledger.is_some() {
            return self.release_ledger(n);
        }
        self.release_core(n)
    }

    /// `release` in ledger mode (out of line: inlined, it costs the plain fast path two
    /// instructions of register shuffling, measured with callgrind on `sem_ops`).
    #[inline(never)]
    fn release_ledger(&self, n: u32) -> Result<(), SemError> {
        self.release_ledger_inline(n)
    }

    /// The body of [`release_ledger`](Self::release_ledger), inline: a `LocalSemaphore` (which
    /// has no ledger-less path to keep small) calls it directly.
    #[inline(always)]
    fn release_ledger_inline(&self, n: u32) -> Result<(), SemError> {
        let Some(ledger) = &self.ledger else {
            return self.release_core(n);
        };
        // Un-record and open a window, return the permits, close the window: a crash anywhere
        // in between is resolved by `recover` (see `ledger.rs`).
        ledger.open_release(n)?;
        self.step();
        let r = self.release_core(n);
        self.step();
        ledger.close_release(n, r.is_ok());
        r
    }

    /// Returns `n` permits with one CAS and, from the word that CAS replaced, wakes whoever was
    /// registered. Inline up to the CAS; refusals (overflow, a corrupt count) and wakes are
    /// out of line.
    #[inline(always)]
    fn release_core(&self, n: u32) -> Result<(), SemError> {
        // Relaxed: the first guess for the CAS (and, in the split-words mutant, the stale read
        // of the waiter count that a two-word design would make).
        let first = self.state().load(Relaxed);
        let mut s = first;
        loop {
            // One test for both refusals: a count above the maximum (corrupt), or a release that
            // would exceed it.
            if u64::from(value_of(s)) + u64::from(n) > u64::from(self.max()) {
                return Err(self.release_refused(s, n));
            }
            // Release on success: the caller's critical section happens-before the next holder's
            // `Acquire` CAS. Relaxed on failure: we only retry.
            match self
                .state()
                .compare_exchange(s, s + u64::from(n), Release, Relaxed)
            {
                Ok(_) => break,
                Err(actual) => s = actual,
            }
        }
        // `s` is exactly the word our CAS replaced: it says who was registered at that instant.
        // Nothing below reads the semaphore again (glibc bug 12674).
        let seen = if M::mutant(Mutant::SemSplitWordsRelaxed) {
            first
        } else {
            s
        };
        if waiters_of(seen) > 0 {
            self.wake_after_release(seen, n);
        }
        Ok(())
    }

    /// The error of a release of more than the maximum.
    #[cold]
    fn release_too_many(&self, n: u32) -> SemError {
        match self.value() {
            Ok(value) => SemError::Overflow {
                value,
                released: n,
                max: self.max(),
            },
            Err(e) => e,
        }
    }

    /// Why a release from the word `s` is refused: a corrupt count, or an overflow.
    #[cold]
    fn release_refused(&self, s: u64, n: u32) -> SemError {
        if let Err(e) = self.corrupt_check(s) {
            return e;
        }
        SemError::Overflow {
            value: value_of(s),
            released: n,
            max: self.max(),
        }
    }

    /// The wake after a release of `n` whose CAS replaced `seen` (which has waiters).
    #[cold]
    fn wake_after_release(&self, seen: u64, n: u32) {
        let waiters = waiters_of(seen);
        if !M::mutant(Mutant::SemWakeOnZeroToPositive) || value_of(seen) == 0 {
            // With the token held, the holder must see the permits (and the rest must re-check):
            // wake all. Otherwise every sleeper wants one permit: wake one per permit.
            let count = if seen & PRIO != 0 {
                u32::MAX
            } else {
                n.min(waiters)
            };
            M::wake64_low(self.state(), count);
        }
    }

    /// Whether this semaphore keeps a holder ledger.
    pub fn has_ledger(&self) -> bool {
        self.ledger.is_some()
    }

    /// Ledger mode: the permits this process holds according to the ledger.
    pub fn held_by_me(&self) -> Result<u64, SemError> {
        self.ledger.as_ref().ok_or(SemError::NoLedger)?.held_by_me()
    }

    /// Closes the semaphore: wakes every waiter; their acquires, and all later ones, return
    /// [`SemError::Closed`]. Idempotent. `release` still works.
    pub fn close(&self) {
        // AcqRel: orders close after this process's earlier operations and before the wake;
        // the bit is in the futex word, so a waiter about to sleep sees the change.
        self.state()
            .fetch_or(CLOSED, std::sync::atomic::Ordering::AcqRel);
        M::wake64_low(self.state(), u32::MAX);
    }
}
