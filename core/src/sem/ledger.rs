//! The holder ledger: which process holds how many permits, so the permits of dead processes can
//! be recovered without kernel help, and **without a crash window**: a holder SIGKILLed at any
//! instruction of `acquire` or `release` leaks nothing once `recover()` has run.
//!
//! Each slot is two words: `owner` (0 = free, else a packed [`ProcessKey`]) and `entry`, which
//! packs three fields so that one atomic read-modify-write updates them together:
//!
//! ```text
//!  63            44 43        32 31                          0
//! ┌────────────────┬────────────┬─────────────────────────────┐
//! │ version (20)   │ busy (12)  │ held: permits of the owner  │
//! └────────────────┴────────────┴─────────────────────────────┘
//! ```
//!
//! `busy` counts the owner's threads that are inside an operation's *window*: between announcing
//! that they are about to change the semaphore's count and recording the result. `version` is
//! bumped by every change of the entry, so a recoverer that reads the same entry twice knows no
//! window opened or closed in between (a 2^20 wrap inside one recoverer's read would be needed to
//! fool it).
//!
//! # Why no crash window remains
//!
//! In ledger mode permits are conserved: at every instant when no live process is inside a
//! window, `value + Σ held over live owners + Σ (permits taken and not returned by dead owners)
//! = permits` (the initial count; a ledger semaphore cannot `release` what it does not hold).
//! Every change of the count by a holder is bracketed by its entry:
//!
//! - `acquire`: `busy += 1` (AcqRel RMW) → the count CAS (AcqRel) → one RMW `held += n,
//!   busy -= 1` (or `busy -= 1` if the CAS failed);
//! - `release`: one CAS `held -= n, busy += 1` → the count CAS → `busy -= 1` (or undo).
//!
//! A recoverer does not try to reconstruct what a dead owner was doing. It takes a consistent
//! cut instead: it reads every entry, then the count, then every entry again; if every live
//! owner's entry is identical in both reads and not busy, no live owner changed the count while
//! it was read (a count CAS sits inside a busy bracket, and the Release/Acquire pairs make the
//! second read see a bracket whose CAS the count read saw), so
//! `dead = permits − value − Σ held(live)` is exactly what the dead took and never gave back —
//! wherever they were killed: before their CAS (nothing taken; not counted), after it and before
//! the record (taken, counted as dead), after an un-record and before the release CAS (still
//! missing from the count: counted). Dead owners' entries are never read for their count, so a
//! torn or hostile dead entry cannot mislead it. Recoverers are serialised by a lock word (whose
//! holder's death is judged like any owner's), so `dead` is returned once; a recoverer killed
//! after returning it but before freeing the dead slots leaves slots that the next recoverer
//! frees, computing `dead = 0` because the count already holds those permits.
//!
//! A live owner stopped inside its window (SIGSTOP) makes the cut impossible: `recover` retries
//! for one `PEER_CHECK_INTERVAL` and then returns [`SemError::InFlight`] naming it (retry later).
//!
//! # Single-writer slots (`LocalSemaphore`)
//!
//! A process's slot is shared by all its threads and handles, so its entry changes by
//! read-modify-writes: an acquire + release costs four locked RMWs on the entry besides the two
//! on the count (measured: about twice glibc's `sem_wait` + `sem_post`). A
//! [`LocalSemaphore`](super::LocalSemaphore) instead claims a slot of its own (owner word = the
//! process key with the [`EXCLUSIVE`] bit) that only it writes, and it is `Send` but not `Sync`,
//! and its guards are not `Send`: one thread at a time writes the entry (moving the handle
//! between threads carries the happens-before of the move). With one writer, each window step
//! is a load of its own last store and a plain `Release` store of the new entry, the same
//! values the RMWs would write; the cut argument above holds unchanged, because it uses only
//! what the RMWs' orderings gave it:
//!
//! - *opening* a window (`busy += 1`, or `held -= n, busy += 1`) is a store sequenced before the
//!   count CAS, whose `Release` half publishes it: a recoverer whose `Acquire` count read sees
//!   the CAS sees the opened window in its second read (so its two reads differ);
//! - *closing* it (record `held += n`, or `busy -= 1`) is a `Release` store sequenced after the
//!   CAS: a recoverer whose `Acquire` entry read sees the record also sees the CAS in its later
//!   count read. This is the ordering the store needs; `Relaxed` lets a cut pair a record with
//!   the count before its CAS (mutant `sem-crash-local-relaxed-record`, caught by the model
//!   `semaphore-crash`, which runs each crash point with a `LocalSemaphore` holder too).
//!
//! A recoverer sums live entries per slot, so a process with a shared slot and several
//! exclusive ones is counted right; an owner word is judged by its key with the bit masked
//! ([`owner_key`]). A dropped `LocalSemaphore` that holds nothing frees its slot itself: it
//! bumps the version (never resets it, so a recoverer's two reads cannot match across a free
//! and a re-claim by the same process) and then clears the owner word with a `Release` store
//! (the next claimer's `AcqRel` CAS acquires the entry). One holding permits keeps its slot
//! until its process dies. The price: `NotHeld` is per handle (a `LocalSemaphore`'s permits
//! are released through it) and each one uses a slot.
//!
//! # Other invariants
//!
//! - **One shared slot per process** (a `LocalSemaphore` has its own). A process claims a
//!   free slot with a CAS `0 → key` before its first acquire and keeps it for its lifetime;
//!   all its threads and handles share it. Claims
//!   are serialised per process ([`ProcessEnv::claim_locked`]), so two threads' first acquires
//!   cannot claim two slots. Only recovery frees a shared slot.
//! - **A freed slot starts empty.** The recoverer zeroes the entry and then frees the owner word
//!   with a `Release` store; the next owner's claim is an `Acquire` CAS.
//! - **Live entries are never touched** by a recoverer: liveness compares start times (a reused
//!   pid is a different process) and counts a process it cannot judge as alive ([`is_alive`]).
//! - **Everything read is validated**: a live entry above the maximum, or live entries that add
//!   up to more than the permits not free, is [`SemError::Corrupt`] naming the field; a hostile
//!   owner word names a process that is judged like any other (usually dead: freed).
//!
//! The algorithm is generic over [`Memory`] and asks about processes through [`ProcessEnv`], so
//! the loom models in `synclab-verify` (`models::sem_ledger`, `models::sem_crash`) run this very
//! code.

use super::SemError;
use crate::mem::{Atomic, Memory, Mutant};
pub(crate) use crate::process::is_alive;
use crate::process::{ProcessEnv, ProcessKey};
use std::ptr::NonNull;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::{Arc, OnceLock};

const HELD_MASK: u64 = (1 << 32) - 1;
const BUSY_SHIFT: u32 = 32;
const BUSY_ONE: u64 = 1 << BUSY_SHIFT;
const BUSY_MASK: u64 = ((1 << 12) - 1) << BUSY_SHIFT;
const VER_ONE: u64 = 1 << 44;
/// Set in the owner word of a slot that belongs to one [`LocalSemaphore`](super::LocalSemaphore)
/// (an exclusive, single-writer slot) rather than to its whole process. Pids are below 2^31
/// (`attach` refuses others), so the bit is free; it keeps the process's shared slot lookup
/// (`find_owned`, an exact compare) from ever finding an exclusive slot.
pub(super) const EXCLUSIVE: u64 = 1 << 31;

/// The process an owner word names (a shared or an exclusive slot's).
pub(super) fn owner_key(word: u64) -> ProcessKey {
    ProcessKey::from_word(word & !EXCLUSIVE)
}

/// The pid an owner word names, for errors.
pub(super) fn owner_pid(word: u64) -> u32 {
    owner_key(word).pid
}

pub(super) fn held_of(entry: u64) -> u64 {
    entry & HELD_MASK
}
pub(super) fn busy_of(entry: u64) -> u64 {
    (entry & BUSY_MASK) >> BUSY_SHIFT
}

/// One ledger slot in the region.
#[repr(C)]
pub(crate) struct LedgerSlot<M: Memory> {
    pub(super) owner: M::U64,
    pub(super) entry: M::U64,
}

impl<M: Memory> LedgerSlot<M> {
    /// A free slot (the all-zero state a fresh region holds).
    pub(super) fn free() -> Self {
        LedgerSlot {
            owner: M::U64::new(0),
            entry: M::U64::new(0),
        }
    }
}

impl ProcessKey {
    pub(crate) fn pack(self) -> u64 {
        (u64::from(self.start) << 32) | u64::from(self.pid)
    }

    /// The key packed in a token-owner, lock or ledger-owner word.
    pub(crate) fn from_word(word: u64) -> Self {
        ProcessKey {
            pid: word as u32,
            start: (word >> 32) as u32,
        }
    }
}

/// A process's view of the ledger in a region.
pub(crate) struct LedgerView<M: Memory> {
    pub(super) slots: NonNull<LedgerSlot<M>>,
    pub(super) len: u32,
    pub(super) max: u32,
    /// The semaphore's permits (its initial count): conserved in ledger mode.
    pub(super) total: u32,
    pub(super) env: Arc<dyn ProcessEnv>,
    pub(super) key: ProcessKey,
    mine: OnceLock<usize>,
    /// A [`LocalSemaphore`](super::LocalSemaphore)'s view: its slot is its own (claimed with
    /// the [`EXCLUSIVE`] bit), written by one thread at a time, so entry updates are plain
    /// stores (see the module docs).
    exclusive: bool,
}

impl<M: Memory> LedgerView<M> {
    /// A view of `len` slots at `slots` (which must stay valid as long as the view), for the
    /// process `env` describes.
    pub(crate) fn attach(
        slots: NonNull<LedgerSlot<M>>,
        len: u32,
        (max, total): (u32, u32),
        env: Arc<dyn ProcessEnv>,
    ) -> Result<Self, SemError> {
        let key = env.me()?;
        if key.pid == 0 || key.pid >= 1 << 31 {
            return Err(SemError::InvalidArgument(format!(
                "process key {key:?}: the pid must be in 1..2^31"
            )));
        }
        Ok(LedgerView {
            slots,
            len,
            max,
            total,
            env,
            key,
            mine: OnceLock::new(),
            exclusive: false,
        })
    }

    /// A view of the same slots for a [`LocalSemaphore`](super::LocalSemaphore) of the process
    /// `env` describes: it claims a slot of its own on first use.
    pub(crate) fn attach_exclusive(&self, env: Arc<dyn ProcessEnv>) -> Result<Self, SemError> {
        let mut view = self.attach_again(env)?;
        view.exclusive = true;
        Ok(view)
    }

    /// The owner word this view claims slots with.
    fn claim_word(&self) -> u64 {
        if self.exclusive {
            self.key.pack() | EXCLUSIVE
        } else {
            self.key.pack()
        }
    }

    /// A view of the same slots for the process `env` describes (another handle).
    pub(crate) fn attach_again(&self, env: Arc<dyn ProcessEnv>) -> Result<Self, SemError> {
        Self::attach(self.slots, self.len, (self.max, self.total), env)
    }

    /// This process's key, packed.
    pub(crate) fn key_word(&self) -> u64 {
        self.key.pack()
    }

    /// Whether the process `key` is alive, asked through this view's environment.
    pub(crate) fn judges_alive(&self, key: ProcessKey) -> bool {
        is_alive::<M>(key, &*self.env)
    }

    #[inline(always)]
    pub(crate) fn slot(&self, i: usize) -> &LedgerSlot<M> {
        assert!(i < self.len as usize, "ledger index {i} out of range");
        // SAFETY: `i < len` and the region (or the heap block of a local semaphore) holds `len`
        // initialised (zeroed = valid atomics) slots that live as long as `self` (the Semaphore
        // owns both its backing and this view).
        unsafe { &*self.slots.as_ptr().add(i) }
    }

    /// This process's slot, claiming a free one on first use (recovering dead ones if full).
    /// `LedgerFull` if every slot is owned by a live process.
    #[inline(always)]
    pub(crate) fn my_slot(
        &self,
        recover: impl Fn() -> Result<u32, SemError>,
    ) -> Result<usize, SemError> {
        if let Some(&i) = self.mine.get() {
            return Ok(i);
        }
        self.claim_slot(recover)
    }

    /// [`my_slot`](Self::my_slot) on first use: out of line.
    #[cold]
    #[inline(never)]
    fn claim_slot(&self, recover: impl Fn() -> Result<u32, SemError>) -> Result<usize, SemError> {
        for attempt in 0..2 {
            if let Some(i) = self.find_or_claim() {
                return Ok(*self.mine.get_or_init(|| i));
            }
            if attempt == 0 {
                match recover() {
                    Ok(_) | Err(SemError::InFlight { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Err(SemError::LedgerFull { slots: self.len })
    }

    /// Under this process's claim lock: the slot it already owns (claimed by another thread or
    /// handle), else a free slot claimed now. Without the lock, two threads that both found no
    /// slot of theirs would claim one each and split the process's permits between them.
    fn find_or_claim(&self) -> Option<usize> {
        if self.exclusive {
            // A slot of its own: nothing to share, so no lock.
            return self.claim_free();
        }
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
        // claimed the slot, which acquired the freeing recoverer's zeroing (see `claim_free`):
        // so this process's reads of the entry see it emptied, not a dead holder's count.
        (0..self.len as usize).find(|&i| self.slot(i).owner.load(Acquire) == key)
    }

    /// Claims the first free slot.
    fn claim_free(&self) -> Option<usize> {
        let key = self.claim_word();
        (0..self.len as usize).find(|&i| {
            // AcqRel: Acquire pairs with the Release store of the recoverer that freed the slot,
            // so its zeroing of the entry happens-before this process's records and reads;
            // Release passes that on to this process's other handles (`find_owned`).
            self.slot(i)
                .owner
                .compare_exchange(0, key, AcqRel, Relaxed)
                .is_ok()
        })
    }

    /// This process's slot if it has one (claimed by this or another handle), without claiming.
    #[inline(always)]
    fn find_mine(&self) -> Option<usize> {
        if let Some(&i) = self.mine.get() {
            return Some(i);
        }
        if self.exclusive {
            // Only the slot this view claimed is its own.
            return None;
        }
        let i = self.find_owned()?;
        Some(*self.mine.get_or_init(|| i))
    }

    /// Adds `delta` (wrapping: fields never carry into each other for a valid entry) to this
    /// process's entry. AcqRel: the Release half orders a window's opening before the count CAS
    /// a recoverer may see, and the record after it; the Acquire half keeps the process's own
    /// entry updates in order (see the module docs).
    #[inline(always)]
    fn bump(&self, delta: u64) {
        if let Some(&i) = self.mine.get() {
            let entry = &self.slot(i).entry;
            if self.exclusive {
                // Relaxed load: this thread wrote the entry last (one writer; a handle moved to
                // another thread carries the happens-before of the move). The store's ordering
                // is `single_writer_order`'s.
                let cur = entry.load(Relaxed);
                entry.store(cur.wrapping_add(delta), single_writer_order::<M>());
            } else {
                entry.fetch_add(delta, AcqRel);
            }
        }
    }

    /// Opens a window: this process is about to take permits.
    #[inline(always)]
    pub(crate) fn open_window(&self) {
        if !M::mutant(Mutant::SemCrashNoIntent) {
            self.bump(BUSY_ONE.wrapping_add(VER_ONE));
        }
    }

    /// Closes the window opened by [`open_window`](Self::open_window), recording `taken`
    /// permits (0 if the CAS failed or took nothing).
    #[inline(always)]
    pub(crate) fn close_window(&self, taken: u32) {
        self.close_window_raw(u64::from(taken));
    }

    /// Un-records `n` permits and opens a release window, in one CAS (`NotHeld` if this process
    /// holds fewer than `n`).
    #[inline(always)]
    pub(crate) fn open_release(&self, n: u32) -> Result<(), SemError> {
        let Some(i) = self.find_mine() else {
            return Err(SemError::NotHeld {
                held: 0,
                requested: n,
            });
        };
        let slot = self.slot(i);
        // Acquire: see `bump` (an exclusive view reads its own last store).
        let mut cur = slot.entry.load(Acquire);
        loop {
            let held = self.check_held(cur)?;
            if held < u64::from(n) {
                return Err(SemError::NotHeld { held, requested: n });
            }
            let busy = if M::mutant(Mutant::SemCrashNoIntent) {
                0
            } else {
                BUSY_ONE
            };
            let new = (cur - u64::from(n))
                .wrapping_add(busy)
                .wrapping_add(VER_ONE);
            if self.exclusive {
                // One writer: a store (see `bump`).
                slot.entry.store(new, single_writer_order::<M>());
                return Ok(());
            }
            if M::mutant(Mutant::SemLedgerReleaseWithoutCas) {
                slot.entry.store(new, Release);
                return Ok(());
            }
            // AcqRel: see `bump`.
            match slot.entry.compare_exchange(cur, new, AcqRel, Acquire) {
                Ok(_) => return Ok(()),
                Err(actual) => cur = actual,
            }
        }
    }

    /// Closes a release window: `returned` says whether the count CAS returned the permits (if
    /// not, they are recorded again).
    #[inline(always)]
    pub(crate) fn close_release(&self, n: u32, returned: bool) {
        self.close_window_raw(if returned { 0 } else { u64::from(n) });
    }

    #[inline(always)]
    fn close_window_raw(&self, add: u64) {
        let busy = if M::mutant(Mutant::SemCrashNoIntent) {
            0
        } else {
            BUSY_ONE
        };
        self.bump(add.wrapping_add(VER_ONE).wrapping_sub(busy));
    }

    #[inline(always)]
    pub(super) fn check_held(&self, entry: u64) -> Result<u64, SemError> {
        let held = held_of(entry);
        if held > u64::from(self.max) {
            return Err(corrupt_held(held));
        }
        Ok(held)
    }

    /// A [`LocalSemaphore`](super::LocalSemaphore) going away: frees its exclusive slot if it
    /// holds nothing and is in no window (a slot that still records permits, e.g. from
    /// `Permit::forget`, stays its process's until the process dies and `recover` returns them).
    pub(crate) fn drop_exclusive(&self) {
        if !self.exclusive {
            return;
        }
        let Some(&i) = self.mine.get() else {
            return;
        };
        let slot = self.slot(i);
        // Relaxed: this thread wrote the entry last (see `bump`).
        let cur = slot.entry.load(Relaxed);
        if held_of(cur) != 0 || busy_of(cur) != 0 {
            return;
        }
        // The version keeps counting (it is not zeroed), so a recoverer's two reads of the slot
        // cannot match across a free and a later claim by this same process: they differ in the
        // owner word or in the version. Release: published with the owner store below.
        slot.entry.store(cur.wrapping_add(VER_ONE), Release);
        // Release: the next claimer's AcqRel CAS 0 → key sees the entry above. A recoverer never
        // frees a live owner's slot, so nobody else writes this owner word now.
        slot.owner.store(0, Release);
    }

    pub(crate) fn held_by_me(&self) -> Result<u64, SemError> {
        let Some(i) = self.find_mine() else {
            return Ok(0);
        };
        // Acquire: see `bump` (this process's own records, and the zeroing by the recoverer that
        // freed the slot before this process claimed it).
        self.check_held(self.slot(i).entry.load(Acquire))
    }
}

/// The error for a ledger entry that records more than the maximum.
#[cold]
fn corrupt_held(held: u64) -> SemError {
    SemError::Corrupt {
        what: "ledger permits",
        found: held,
        rule: "above the semaphore's maximum",
    }
}

/// The ordering of an exclusive (single-writer) entry store: `Release`, so a recoverer whose
/// `Acquire` read of the entry sees a window closed (a record after the count CAS) also sees
/// that CAS in its count read; a `Relaxed` record lets it pair the new entry with the old count
/// and hand the permits out twice (the mutant `sem-crash-local-relaxed-record`).
#[inline(always)]
fn single_writer_order<M: Memory>() -> std::sync::atomic::Ordering {
    M::order(Mutant::SemCrashLocalRelaxedRecord, Release)
}
