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
//! dead processes (zombies count as dead); exactly one recoverer wins each entry by a CAS on its
//! owner word. [`Semaphore::recover`] documents the crash windows; `ledger.rs` states the
//! ledger's invariants. The ledger asks about processes through a `ProcessEnv` (`ProcFs` for
//! real processes), so its loom models (`synclab-verify`'s `models::sem_ledger`, with a heap
//! semaphore built for a model process and `Semaphore::handle_as`) decide who is dead and run
//! this very code; they find all seven `sem-ledger-*` mutants.
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
#[cfg(test)]
mod tests;

pub use error::SemError;

use crate::mem::{Atomic, Deadline, Memory, Mutant, RealMemory, WaitOutcome};
use crate::object::{Builder, RegionObject, SharedObject};
use crate::process::{ProcessEnv, ProcessKey};
use crate::shm::{Region, RegionHeader, RegionKind, RegionLayout, ShmError, TypeFingerprint};
use ledger::{LedgerSlot, LedgerView};
use std::os::fd::BorrowedFd;
use std::ptr::NonNull;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::Arc;
use std::time::Duration;

/// The largest `max` a semaphore may declare: the value field has 30 bits.
pub const MAX_PERMITS: u32 = (1 << 30) - 1;
/// The most ledger slots a region may have.
pub const MAX_LEDGER_SLOTS: u32 = 4096;

const VALUE_MASK: u64 = MAX_PERMITS as u64;
const PRIO: u64 = 1 << 30;
const CLOSED: u64 = 1 << 31;
const WAITER_ONE: u64 = 1 << 32;
const WAITERS_SHIFT: u32 = 32;

/// The most `acquire` spins before registering and parking: the memory's spin limit (about
/// 1000 `pause`s on real memory; 1 under loom, so loom explores the spin). Each handle adapts its
/// own spin length below this (adaptive spinning, as glibc's adaptive mutexes do): doubled when a
/// spin ends in an acquire, cut by an eighth (down to 1) when it ends in parking.
///
/// Measured with `sem_bench` on this 2-vCPU VM (one-way cross-process wake latency, ping-pong):
/// a fixed ~1000-`pause` spin gave 0.32 µs when the two processes were pinned to different CPUs
/// but 28 µs unpinned (the kernel wakes the peer onto the spinner's CPU, and the spin delays it);
/// a fixed ~128 gave 2.5-9 µs pinned, 8.5-11 µs unpinned; adaptive gives 0.04-1 µs pinned and
/// 0.6-5 µs unpinned (glibc, which never spins: 53-72 µs pinned, 2.2-4.4 µs unpinned; the VM is
/// shared, so runs vary). When
/// processes outnumber CPUs, spins stop paying off and shrink, so waiters stop stealing CPU from
/// holders.
#[inline(always)]
fn spin_limit<M: Memory>() -> u32 {
    M::SPIN_LIMIT.max(1)
}

#[cold]
fn corrupt_count(s: u64) -> SemError {
    SemError::Corrupt {
        what: "semaphore count",
        found: u64::from(value_of(s)),
        rule: "above the declared maximum",
    }
}

#[inline(always)]
fn value_of(s: u64) -> u32 {
    (s & VALUE_MASK) as u32
}
#[inline(always)]
fn waiters_of(s: u64) -> u32 {
    (s >> WAITERS_SHIFT) as u32
}
#[inline(always)]
fn low_of(s: u64) -> u32 {
    s as u32
}

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

/// The control block: placement-initialised at the start of a region body (real memory) or
/// boxed (loom). `#[repr(C)]`; the state word has a 128-byte line to itself.
#[repr(C, align(128))]
pub struct SemCore<M: Memory> {
    state: M::U64,
    /// Ledger mode: the packed [`ProcessKey`] of the priority-token holder while it holds the
    /// token (set after taking it, cleared before dropping it), so `recover` can clear the token
    /// of a holder that died while waiting. 0 = unknown.
    token_owner: M::U64,
}

impl<M: Memory> SemCore<M> {
    fn new(permits: u32) -> Self {
        SemCore {
            state: M::U64::new(u64::from(permits)),
            token_owner: M::U64::new(0),
        }
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
    max: u32,
    ledger: Option<LedgerView<M>>,
    /// Adaptive spin length (process-local, per handle): doubled when a spin acquires, cut by an
    /// eighth when it ends in parking. See [`spin_limit`].
    spin_budget: std::sync::atomic::AtomicU32,
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
    fn with_backing(backing: Backing<M>, max: u32, ledger: Option<LedgerView<M>>) -> Self {
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
            backing,
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
    pub fn max(&self) -> u32 {
        self.max
    }

    #[inline]
    fn corrupt_check(&self, s: u64) -> Result<(), SemError> {
        if value_of(s) > self.max {
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

    #[inline]
    fn check_n(&self, n: u32) -> Result<(), SemError> {
        if n == 0 || n > self.max {
            return Err(SemError::InvalidArgument(format!(
                "cannot acquire {n} permit(s) of a semaphore with max {}",
                self.max
            )));
        }
        Ok(())
    }

    /// Takes one permit, blocking while none is free.
    #[inline]
    pub fn acquire(&self) -> Result<Permit<'_, M>, SemError> {
        self.acquire_many(1)
    }

    /// Takes one permit if one is free now.
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
    #[inline]
    pub fn acquire_raw(
        &self,
        n: u32,
        deadline: Option<Deadline>,
        block: bool,
    ) -> Result<(), SemError> {
        self.check_n(n)?;
        if let Some(ledger) = &self.ledger {
            // Claim this process's ledger slot before taking anything, so the permits can
            // always be recorded.
            ledger.my_slot(|| self.recover())?;
        }
        self.acquire_core(n, deadline, block)?;
        if let Some(ledger) = &self.ledger {
            ledger.record_acquire(n);
        }
        Ok(())
    }

    /// The CAS that takes `n` permits from `s` (and deregisters / clears the token as asked).
    /// `Acquire` on success: pairs with the `Release` CAS of every `release`, so the new holder's
    /// critical section comes after the previous holders'. `Relaxed` on failure: the loop only
    /// retries with the fresh value.
    #[inline(always)]
    fn try_take(&self, s: u64, new: u64) -> Result<u64, u64> {
        self.state().compare_exchange(
            s,
            new,
            M::order(Mutant::SemRelaxedAcquire, Acquire),
            Relaxed,
        )
    }

    #[inline]
    fn acquire_core(
        &self,
        n: u32,
        deadline: Option<Deadline>,
        block: bool,
    ) -> Result<(), SemError> {
        // Relaxed: only a first guess for the CAS, which re-validates it.
        let mut s = self.state().load(Relaxed);
        let mut spins = 0;
        // Relaxed: a process-local heuristic, never shared memory, orders nothing.
        let limit = self.spin_budget.load(Relaxed).clamp(1, spin_limit::<M>());
        loop {
            self.corrupt_check(s)?;
            if s & CLOSED != 0 {
                return Err(SemError::Closed);
            }
            if s & PRIO == 0 && value_of(s) >= n {
                match self.try_take(s, s - u64::from(n)) {
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
    fn acquire_slow(&self, n: u32, deadline: Option<Deadline>, mut s: u64) -> Result<(), SemError> {
        // Whether this waiter is counted in `waiters` / holds the priority token.
        let mut registered = false;
        let mut holder = false;
        loop {
            self.corrupt_check(s)?;
            let prio_ok = s & PRIO == 0 || holder;
            if s & CLOSED != 0 || (prio_ok && value_of(s) >= n) {
                // Leave: take the permits (unless closed), deregister, drop the token.
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
                    // Cleared before the token is dropped, so a non-zero owner always holds it.
                    self.note_token_owner(false);
                }
                // Acquire on success (see `try_take`), also when leaving on close: harmless.
                match self.try_take(s, new) {
                    Ok(_) => {
                        if holder && waiters_of(new) > 0 {
                            // The token held the others back: let them re-check.
                            M::wake64_low(self.state(), u32::MAX);
                        }
                        return if closed {
                            Err(SemError::Closed)
                        } else {
                            Ok(())
                        };
                    }
                    Err(actual) => {
                        s = actual;
                        continue;
                    }
                }
            }
            // Must wait: register and/or take the token first, in one CAS that also confirms the
            // low half we will sleep on.
            let take_token = n > 1 && !holder && s & PRIO == 0;
            if !registered || take_token {
                let mut new = s;
                if !registered {
                    if waiters_of(s) == u32::MAX {
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
                // Relaxed: registering publishes nothing but the word itself; a releaser's CAS
                // on the same word reads it (RMWs read the latest value in modification order).
                match self.state().compare_exchange(s, new, Relaxed, Relaxed) {
                    Ok(_) => {
                        registered = true;
                        holder |= take_token;
                        s = new;
                    }
                    Err(actual) => {
                        s = actual;
                        continue;
                    }
                }
            }
            if holder {
                // (Again after a failed attempt to leave, which cleared it.)
                self.note_token_owner(true);
            }
            // Ledger mode: wake every PEER_CHECK_INTERVAL to return the permits of holders that
            // died meanwhile (a blocked acquire is not stuck behind a dead holder).
            let slice = match (&self.ledger, M::PEER_CHECK_INTERVAL) {
                (Some(_), Some(every)) => Some(Deadline::after(every)),
                _ => None,
            };
            let until = match (slice, deadline) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let timed_out = match deadline {
                Some(d) if M::expired(d) => true,
                _ => M::wait64_low(self.state(), low_of(s), until) == WaitOutcome::TimedOut,
            };
            let deadline_passed = deadline.is_some_and(M::expired);
            if timed_out && !deadline_passed && slice.is_some() {
                self.recover()?;
            }
            // Woken, ValueChanged, Interrupted (EINTR) or spurious: re-read and loop; the absolute
            // deadline does not stretch.
            // Relaxed: a guess for the next CAS.
            s = self.state().load(Relaxed);
            if timed_out && (deadline_passed || slice.is_none()) {
                return self.timeout_exit(n, holder, s);
            }
        }
    }

    /// Ledger mode: records (or clears) this process as the priority-token holder.
    #[inline]
    fn note_token_owner(&self, holding: bool) {
        if let Some(ledger) = &self.ledger {
            let word = if holding { ledger.key_word() } else { 0 };
            // Release: pairs with `recover_token`'s Acquire load (a recoverer that sees our key
            // sees the state word with our token set).
            self.core().token_owner.store(word, Release);
        }
    }

    /// Clears the priority token of a holder that died while waiting (and its registration),
    /// then wakes everyone. Exactly one caller wins, by a CAS on `token_owner`.
    fn recover_token(&self) -> Result<bool, SemError> {
        let Some(ledger) = &self.ledger else {
            return Ok(false);
        };
        // Acquire: see `note_token_owner`.
        let owner = self.core().token_owner.load(Acquire);
        if owner == 0 || ledger.judges_alive(ProcessKey::from_word(owner)) {
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
        // Relaxed: a guess for the CAS.
        let mut s = self.state().load(Relaxed);
        loop {
            if s & PRIO == 0 {
                return Err(SemError::Corrupt {
                    what: "priority token",
                    found: s & PRIO,
                    rule: "a recorded token holder must hold the token",
                });
            }
            let new = self.deregister(s & !PRIO)?;
            // Release: like `release`, the freed token hands permits to the next acquirer.
            match self.state().compare_exchange(s, new, Release, Relaxed) {
                Ok(_) => break,
                Err(actual) => s = actual,
            }
        }
        M::wake64_low(self.state(), u32::MAX);
        Ok(true)
    }

    /// Whether a multi-permit waiter holds the priority token now (a snapshot, diagnostics).
    pub fn priority_held(&self) -> bool {
        // Relaxed: a snapshot.
        self.state().load(Relaxed) & PRIO != 0
    }

    fn deregister(&self, s: u64) -> Result<u64, SemError> {
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
        if holder {
            self.note_token_owner(false);
        }
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
            match self.try_take(s, new) {
                Ok(_) => {
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

    /// Returns `n` permits. Fails with [`SemError::Overflow`], changing nothing, if that would
    /// raise the count above the maximum. In ledger mode, fails with [`SemError::NotHeld`] if
    /// this process holds fewer than `n`. Works after `close`.
    #[inline]
    pub fn release(&self, n: u32) -> Result<(), SemError> {
        if n == 0 {
            return Ok(());
        }
        if n > self.max {
            return Err(SemError::Overflow {
                value: self.value()?,
                released: n,
                max: self.max,
            });
        }
        if let Some(ledger) = &self.ledger {
            // Ledger first: a crash between the two steps leaks permits rather than creating
            // them (see `recover`).
            ledger.record_release(n)?;
            if let Err(e) = self.release_core(n) {
                ledger.record_acquire(n);
                return Err(e);
            }
            return Ok(());
        }
        self.release_core(n)
    }

    #[inline]
    fn release_core(&self, n: u32) -> Result<(), SemError> {
        // Relaxed: the first guess for the CAS (and, in the split-words mutant, the stale read
        // of the waiter count that a two-word design would make).
        let first = self.state().load(Relaxed);
        let mut s = first;
        loop {
            self.corrupt_check(s)?;
            if value_of(s) + n > self.max {
                return Err(SemError::Overflow {
                    value: value_of(s),
                    released: n,
                    max: self.max,
                });
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
        let waiters = waiters_of(seen);
        if waiters > 0 && (!M::mutant(Mutant::SemWakeOnZeroToPositive) || value_of(seen) == 0) {
            // With the token held, the holder must see the permits (and the rest must re-check):
            // wake all. Otherwise every sleeper wants one permit: wake one per permit.
            let count = if seen & PRIO != 0 {
                u32::MAX
            } else {
                n.min(waiters)
            };
            M::wake64_low(self.state(), count);
        }
        Ok(())
    }

    /// Whether this semaphore keeps a holder ledger.
    pub fn has_ledger(&self) -> bool {
        self.ledger.is_some()
    }

    /// Ledger mode: the permits this process holds according to the ledger.
    pub fn held_by_me(&self) -> Result<u64, SemError> {
        self.ledger.as_ref().ok_or(SemError::NoLedger)?.held_by_me()
    }

    /// Ledger mode: returns the permits of every dead process that held some, and frees its
    /// ledger entry. Returns how many permits were returned. Safe to call from any number of
    /// processes at once: each dead entry is recovered by exactly one of them (a CAS on its owner
    /// word decides).
    ///
    /// A process counts as dead when `/proc/PID/stat` is gone, shows a zombie, or shows another
    /// start time (the pid was reused). Crash windows: `acquire` takes the permits and then
    /// records them, `release` un-records and then returns them, and a recoverer zeroes the
    /// entry and then returns its permits; so a process killed between the two steps leaks at
    /// most the permits of that one call, and a recovery never returns permits twice or returns
    /// permits nobody held. (SEM_UNDO avoids the window with the kernel's help; we have none.)
    ///
    /// An entry that a live recoverer is emptying stays taken until it is done: a process that
    /// needs a slot meanwhile, with every other slot taken, gets [`SemError::LedgerFull`].
    ///
    /// It also clears the priority token of a multi-permit waiter that died while holding it
    /// (otherwise single acquirers would wait forever), and that waiter's registration. The
    /// token's owner is recorded just after the token is taken and cleared just before it is
    /// dropped, so a waiter killed inside those few instructions leaves a token nobody can
    /// clear (closing the semaphore still wakes everyone).
    pub fn recover(&self) -> Result<u32, SemError> {
        let ledger = self.ledger.as_ref().ok_or(SemError::NoLedger)?;
        let permits = ledger.recover(|n| self.release_core(n))?;
        self.recover_token()?;
        Ok(permits)
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

/// Region parameters: `params[0]` = initial permits, `[1]` = flags, `[2]` = ledger slots.
const FLAG_LEDGER: u64 = 1;
const CORE_LEN: usize = std::mem::size_of::<SemCore<RealMemory>>();

fn check_slots(slots: u32) -> Result<(), SemError> {
    if slots > MAX_LEDGER_SLOTS {
        return Err(SemError::InvalidArgument(format!(
            "ledger slots must be in 1..={MAX_LEDGER_SLOTS} (0 for no ledger), not {slots}"
        )));
    }
    Ok(())
}

impl<M: Memory> SharedObject for Semaphore<M> {
    type Params = SemParams;
    type Error = SemError;

    fn default_params() -> SemParams {
        SemParams {
            max: 1,
            permits: None,
            ledger_slots: 0,
        }
    }

    fn check(p: &SemParams) -> Result<(), SemError> {
        check_params(p.initial(), p.max)?;
        check_slots(p.ledger_slots)
    }

    fn on_heap(p: &SemParams, env: Arc<dyn ProcessEnv>) -> Result<Self, SemError> {
        let slots = p.ledger_slots;
        let block = Arc::new(LocalBlock {
            core: SemCore::<M>::new(p.initial()),
            slots: (0..slots).map(|_| LedgerSlot::free()).collect(),
        });
        let ledger = if slots > 0 {
            Some(LedgerView::attach(
                NonNull::from(&*block.slots).cast::<LedgerSlot<M>>(),
                slots,
                p.max,
                env,
            )?)
        } else {
            None
        };
        Ok(Self::with_backing(Backing::Local(block), p.max, ledger))
    }

    fn shm_error(e: &SemError) -> Option<&ShmError> {
        match e {
            SemError::Shm(e) => Some(e),
            _ => None,
        }
    }
}

/// Semaphores hold no records: the type check is opted out of.
impl RegionObject for Semaphore<RealMemory> {
    const KIND: RegionKind = RegionKind::Semaphore;

    fn record() -> TypeFingerprint {
        TypeFingerprint::NONE
    }

    fn layout(p: &SemParams) -> RegionLayout {
        let slot = std::mem::size_of::<LedgerSlot<RealMemory>>();
        RegionLayout {
            kind: Self::KIND,
            capacity: u64::from(p.max),
            elem_size: slot as u32,
            elem_align: std::mem::align_of::<LedgerSlot<RealMemory>>() as u32,
            params: [
                u64::from(p.initial()),
                if p.ledger_slots > 0 { FLAG_LEDGER } else { 0 },
                u64::from(p.ledger_slots),
                0,
            ],
            body_len: (CORE_LEN + p.ledger_slots as usize * slot) as u64,
        }
    }

    fn params_of(h: &RegionHeader) -> Result<SemParams, ShmError> {
        let bad = |field: &'static str, found: u64, expected: &str| ShmError::LayoutMismatch {
            field,
            found,
            expected: expected.to_string(),
        };
        let max = u32::try_from(h.capacity)
            .ok()
            .filter(|m| (1..=MAX_PERMITS).contains(m))
            .ok_or_else(|| bad("capacity", h.capacity, "a maximum in 1..=2^30-1"))?;
        let permits = u32::try_from(h.params[0])
            .ok()
            .filter(|&p| p <= max)
            .ok_or_else(|| bad("params[0]", h.params[0], "initial permits <= max"))?;
        if h.params[1] & !FLAG_LEDGER != 0 {
            return Err(bad("params[1]", h.params[1], "known flags only"));
        }
        let ledger = h.params[1] & FLAG_LEDGER != 0;
        let slots = u32::try_from(h.params[2])
            .ok()
            .filter(|&s| {
                if ledger {
                    (1..=MAX_LEDGER_SLOTS).contains(&s)
                } else {
                    s == 0
                }
            })
            .ok_or_else(|| {
                bad(
                    "params[2]",
                    h.params[2],
                    "ledger slots in 1..=4096 (0 without ledger)",
                )
            })?;
        Ok(SemParams {
            max,
            permits: Some(permits),
            ledger_slots: slots,
        })
    }

    fn init(p: &SemParams, body: NonNull<u8>, body_len: usize) {
        init_body(body, body_len, p.initial());
    }

    fn attach(region: Region, env: Arc<dyn ProcessEnv>) -> Result<Self, SemError> {
        let layout = *region.layout();
        // Re-validate (create paths computed it; open paths validated it against the mapping).
        let need =
            CORE_LEN + layout.params[2] as usize * std::mem::size_of::<LedgerSlot<RealMemory>>();
        if region.body_len() < need
            || layout.capacity == 0
            || layout.capacity > u64::from(MAX_PERMITS)
        {
            return Err(ShmError::TooSmall {
                len: region.len(),
                need,
                what: "the semaphore control block and ledger",
            }
            .into());
        }
        let max = layout.capacity as u32;
        let body = region.body();
        let ledger = if layout.params[1] & FLAG_LEDGER != 0 {
            // SAFETY: the body is at least CORE_LEN + slots * size_of::<LedgerSlot>() bytes
            // (checked above), 128-aligned, and the slots follow the control block.
            let slots = unsafe { body.add(CORE_LEN) }.cast::<LedgerSlot<RealMemory>>();
            Some(LedgerView::attach(
                slots,
                layout.params[2] as u32,
                max,
                env,
            )?)
        } else {
            None
        };
        Ok(Self::with_backing(
            Backing::Region(Arc::new(region)),
            max,
            ledger,
        ))
    }
}

impl<M: Memory> Builder<Semaphore<M>> {
    /// The most permits that can be free at once, `1..=MAX_PERMITS` (default 1).
    pub fn max(self, max: u32) -> Self {
        self.with(|p| p.max = max)
    }

    /// Free permits at creation, `<= max` (default: `max`).
    pub fn permits(self, permits: u32) -> Self {
        self.with(|p| p.permits = Some(permits))
    }

    /// Keeps a holder ledger of `slots` entries (processes that may hold permits at once,
    /// `1..=MAX_LEDGER_SLOTS`), so [`Semaphore::recover`] can return the permits of dead
    /// processes. 0 (the default): no ledger.
    pub fn ledger(self, slots: u32) -> Self {
        self.with(|p| p.ledger_slots = slots)
    }
}

impl Semaphore<RealMemory> {
    /// The region's fd (named or memfd), to hand to a child process.
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        match &self.backing {
            Backing::Region(r) => r.fd(),
            Backing::Local(_) => None,
        }
    }

    /// The region's name, for named semaphores.
    pub fn name(&self) -> Option<&crate::shm::ShmName> {
        match &self.backing {
            Backing::Region(r) => r.name(),
            Backing::Local(_) => None,
        }
    }

    /// The region the semaphore lives in (`None` on the heap).
    pub fn region(&self) -> Option<&Region> {
        match &self.backing {
            Backing::Region(r) => Some(r),
            Backing::Local(_) => None,
        }
    }

    /// Keeps a named semaphore's name after this process's handles drop (see
    /// [`Region::persist`]).
    pub fn persist(&self) {
        if let Some(r) = self.region() {
            r.persist();
        }
    }
}

fn init_body(body: NonNull<u8>, len: usize, permits: u32) {
    assert!(len >= CORE_LEN, "layout_for sized the body");
    // SAFETY: the body is 128-aligned (page-aligned base + 128-byte header), at least CORE_LEN
    // bytes, freshly created and not yet visible to anyone; the ledger slots after it are zero
    // (ftruncate / alloc_zeroed), which is their valid "free" state.
    unsafe {
        body.cast::<SemCore<RealMemory>>()
            .as_ptr()
            .write(SemCore::new(permits))
    };
}
