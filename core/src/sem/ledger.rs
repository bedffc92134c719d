//! The holder ledger: which process holds how many permits, so the permits of dead processes can
//! be recovered without kernel help.
//!
//! Each slot is two words: `owner` (0 = free, else a packed [`ProcessKey`], with
//! [`RECOVERING`] set while a recoverer is emptying it) and `permits` (held by that process).
//! A process claims a free slot with a CAS `0 → key` before its first acquire and keeps it for
//! its lifetime; all its threads and handles share it. Only recovery frees a slot.

use super::SemError;
use crate::mem::{Atomic, Memory};
use std::ptr::NonNull;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::OnceLock;

/// Set in a slot's owner word while a recoverer (whose key is in the other bits) empties it.
/// Pids are below 2^22 on Linux, so bit 31 is free.
const RECOVERING: u64 = 1 << 31;

/// One ledger slot in the region.
#[repr(C)]
pub(crate) struct LedgerSlot<M: Memory> {
    pub(super) owner: M::U64,
    pub(super) permits: M::U64,
}

/// A process identity that survives pid reuse: the pid and the low 32 bits of its start time
/// (clock ticks since boot, field 22 of `/proc/PID/stat`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProcessKey {
    /// The pid.
    pub pid: u32,
    /// Low 32 bits of the start time in clock ticks since boot.
    pub start: u32,
}

impl ProcessKey {
    /// This process's key.
    pub fn current() -> Result<Self, SemError> {
        let pid = std::process::id();
        match read_stat(pid)? {
            Some((_, start)) => Ok(ProcessKey {
                pid,
                start: start as u32,
            }),
            None => Err(SemError::Io(format!(
                "/proc/{pid}/stat of this process is missing"
            ))),
        }
    }

    pub(crate) fn pack(self) -> u64 {
        (u64::from(self.start) << 32) | u64::from(self.pid)
    }

    /// The key packed in a token-owner or ledger-owner word (the RECOVERING flag ignored).
    pub(crate) fn from_word(word: u64) -> Self {
        Self::unpack(word)
    }

    fn unpack(word: u64) -> Self {
        ProcessKey {
            pid: (word as u32) & !(RECOVERING as u32),
            start: (word >> 32) as u32,
        }
    }

    /// Whether the process is alive: `/proc/PID/stat` exists, is not a zombie, and shows the same
    /// start time (a different one means the pid was reused). Unexpected errors count as alive,
    /// so a recovery never takes the permits of a process it could not judge.
    pub fn is_alive(self) -> bool {
        if self.pid == 0 {
            return false;
        }
        match read_stat(self.pid) {
            Ok(Some((state, start))) => {
                !matches!(state, b'Z' | b'X' | b'x') && start as u32 == self.start
            }
            Ok(None) => false,
            Err(_) => true,
        }
    }
}

/// `(state, starttime)` from `/proc/PID/stat`, `None` if the process does not exist.
fn read_stat(pid: u32) -> Result<Option<(u8, u64)>, SemError> {
    let text = match std::fs::read(format!("/proc/{pid}/stat")) {
        Ok(t) => t,
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound
                || e.raw_os_error() == Some(libc::ESRCH) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(SemError::Io(format!("reading /proc/{pid}/stat: {e}"))),
    };
    // The command name (field 2) is in parentheses and may contain anything, spaces and ')'
    // included: the fields after it start after the LAST ')'.
    let bad = || SemError::Io(format!("unparsable /proc/{pid}/stat"));
    let close = text.iter().rposition(|&b| b == b')').ok_or_else(bad)?;
    let rest = std::str::from_utf8(&text[close + 1..]).map_err(|_| bad())?;
    let mut fields = rest.split_ascii_whitespace();
    // Field 3 is the state; field 22 (starttime) is the 20th after the ')'.
    let state = fields
        .next()
        .and_then(|f| f.bytes().next())
        .ok_or_else(bad)?;
    let start = fields
        .nth(18)
        .and_then(|f| f.parse::<u64>().ok())
        .ok_or_else(bad)?;
    Ok(Some((state, start)))
}

/// A process's view of the ledger in a region.
pub(crate) struct LedgerView<M: Memory> {
    slots: NonNull<LedgerSlot<M>>,
    len: u32,
    max: u32,
    key: ProcessKey,
    mine: OnceLock<usize>,
}

impl<M: Memory> LedgerView<M> {
    /// A view of `len` slots at `slots` (which must stay valid as long as the view).
    pub(crate) fn attach(
        slots: NonNull<LedgerSlot<M>>,
        len: u32,
        max: u32,
    ) -> Result<Self, SemError> {
        Ok(LedgerView {
            slots,
            len,
            max,
            key: ProcessKey::current()?,
            mine: OnceLock::new(),
        })
    }

    /// This process's key, packed.
    pub(crate) fn key_word(&self) -> u64 {
        self.key.pack()
    }

    pub(crate) fn slot(&self, i: usize) -> &LedgerSlot<M> {
        assert!(i < self.len as usize, "ledger index {i} out of range");
        // SAFETY: `i < len` and the region holds `len` initialised (zeroed = valid atomics) slots
        // that live as long as `self` (the Semaphore owns both the region and this view).
        unsafe { &*self.slots.as_ptr().add(i) }
    }

    /// This process's slot, claiming a free one on first use (recovering dead ones if full).
    pub(crate) fn my_slot(
        &self,
        recover: impl Fn() -> Result<u32, SemError>,
    ) -> Result<usize, SemError> {
        if let Some(&i) = self.mine.get() {
            return Ok(i);
        }
        let key = self.key.pack();
        for attempt in 0..2 {
            // Reuse a slot this process already owns (another handle claimed it).
            for i in 0..self.len as usize {
                // Acquire: pairs with the Release that freed or claimed the slot.
                if self.slot(i).owner.load(Acquire) == key {
                    return Ok(*self.mine.get_or_init(|| i));
                }
            }
            for i in 0..self.len as usize {
                let slot = self.slot(i);
                // AcqRel: acquires the freeing recoverer's zeroing of `permits`.
                if slot.owner.compare_exchange(0, key, AcqRel, Relaxed).is_ok() {
                    return Ok(*self.mine.get_or_init(|| i));
                }
            }
            if attempt == 0 {
                recover()?;
            }
        }
        Err(SemError::LedgerFull { slots: self.len })
    }

    /// This process's slot if it has one (claimed by this or another handle), without claiming.
    fn find_mine(&self) -> Option<usize> {
        if let Some(&i) = self.mine.get() {
            return Some(i);
        }
        let key = self.key.pack();
        // Acquire: see `my_slot`.
        let i = (0..self.len as usize).find(|&i| self.slot(i).owner.load(Acquire) == key)?;
        Some(*self.mine.get_or_init(|| i))
    }

    pub(crate) fn record_acquire(&self, n: u32) {
        if let Some(&i) = self.mine.get() {
            // Relaxed: the ledger is bookkeeping read by recoverers only after the owner died;
            // the recoverer's swap on `permits` reads the latest value in modification order.
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
        // Relaxed: this process's own counter.
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
            // Acquire: see `my_slot`.
            let owner = slot.owner.load(Acquire);
            if owner == 0 || owner == me || owner == me | RECOVERING {
                continue;
            }
            // An entry being recovered is judged by its recoverer's liveness: if that one died
            // mid-recovery, the entry is taken over (its `permits` were swapped to 0 before any
            // were given back, so nothing is returned twice).
            if ProcessKey::unpack(owner).is_alive() {
                continue;
            }
            // AcqRel: acquires the dead owner's last ledger updates; publishes our claim.
            if slot
                .owner
                .compare_exchange(owner, me | RECOVERING, AcqRel, Relaxed)
                .is_err()
            {
                continue; // another recoverer won, or the slot changed
            }
            // AcqRel swap: zero first, give back second, so a crash here leaks, never doubles.
            let permits = slot.permits.swap(0, AcqRel);
            // Release: a claimer's AcqRel CAS 0 → key sees the zeroed permits.
            let free = |slot: &LedgerSlot<M>| slot.owner.store(0, Release);
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
