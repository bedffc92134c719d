//! [`LocalSemaphore`]: a handle used by one thread at a time (`Send`, not `Sync`). In ledger mode
//! it records its permits in a ledger slot of its own, which only it writes, so its window
//! updates are plain `Release` stores instead of locked read-modify-writes (`ledger.rs`, "Single
//! writer slots"): an uncontended acquire + release costs two locked instructions, like a
//! semaphore without a ledger, instead of six. Without a ledger it is a plain handle.
//!
//! Its permits are its own: they are released through it (`release` on it fails with
//! [`SemError::NotHeld`] beyond what *it* holds), and its guards ([`LocalPermit`]) cannot leave
//! its thread.

use super::{SemError, Semaphore};
use crate::mem::{Deadline, Memory, RealMemory};
use std::cell::Cell;
use std::marker::PhantomData;
use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

/// A semaphore handle for one thread at a time, with a ledger slot of its own (see the module
/// docs). Made by [`Semaphore::local`].
///
/// ```
/// use synclab_core::Semaphore;
///
/// let sem = Semaphore::builder().max(2).ledger(4).heap().unwrap();
/// let mine = sem.local().unwrap();
/// let permit = mine.acquire().unwrap();
/// assert_eq!(mine.held_by_me().unwrap(), 1);
/// drop(permit);
/// assert_eq!(sem.value().unwrap(), 2);
/// ```
pub struct LocalSemaphore<M: Memory = RealMemory> {
    sem: Semaphore<M>,
    /// `Send` but not `Sync`: one thread at a time writes the slot.
    _one_thread: PhantomData<Cell<()>>,
}

impl<M: Memory> std::fmt::Debug for LocalSemaphore<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("LocalSemaphore").field(&self.sem).finish()
    }
}

/// Permits taken through a [`LocalSemaphore`], released (through it) when dropped. Not `Send`.
#[must_use = "dropping a LocalPermit releases it at once"]
pub struct LocalPermit<'a, M: Memory = RealMemory> {
    sem: &'a LocalSemaphore<M>,
    n: u32,
}

impl<M: Memory> std::fmt::Debug for LocalPermit<'_, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalPermit")
            .field("count", &self.n)
            .finish()
    }
}

impl<M: Memory> LocalPermit<'_, M> {
    /// How many permits this guard holds.
    pub fn count(&self) -> u32 {
        self.n
    }

    /// Keeps the permits acquired without releasing them (release later with
    /// [`LocalSemaphore::release`]).
    pub fn forget(mut self) {
        self.n = 0;
    }
}

impl<M: Memory> Drop for LocalPermit<'_, M> {
    #[inline]
    fn drop(&mut self) {
        if self.n > 0 {
            // As `Permit`'s drop: only a corrupt region or a foreign release makes this fail.
            let _ = self.sem.release(self.n);
        }
    }
}

impl<M: Memory> Semaphore<M> {
    /// A handle for one thread at a time on the same semaphore, for the same process. In ledger
    /// mode it claims a ledger slot of its own on first use (so it counts against the ledger's
    /// slots like a process does) and frees it when dropped holding nothing.
    pub fn local(&self) -> Result<LocalSemaphore<M>, SemError> {
        let ledger = match &self.ledger {
            Some(view) => Some(view.attach_exclusive(Arc::clone(&view.env))?),
            None => None,
        };
        let mut sem = Self::with_backing(self.backing.clone(), self.max, ledger);
        // Models: a crashing handle's local handle crashes at the same step.
        // Relaxed: a process-local countdown.
        sem.crash_at = self
            .crash_at
            .as_ref()
            .map(|left| AtomicU32::new(left.load(Relaxed)));
        Ok(LocalSemaphore {
            sem,
            _one_thread: PhantomData,
        })
    }
}

impl<M: Memory> LocalSemaphore<M> {
    /// Takes one permit, blocking while none is free.
    #[inline]
    pub fn acquire(&self) -> Result<LocalPermit<'_, M>, SemError> {
        self.acquire_many(1)
    }

    /// Takes one permit if one is free now.
    #[inline]
    pub fn try_acquire(&self) -> Result<LocalPermit<'_, M>, SemError> {
        self.try_acquire_many(1)
    }

    /// Takes one permit, blocking at most `timeout`.
    pub fn acquire_timeout(&self, timeout: Duration) -> Result<LocalPermit<'_, M>, SemError> {
        self.acquire_many_until(1, Deadline::after(timeout))
    }

    /// Takes `n` permits at once, blocking until they are free (see [`Semaphore::acquire_many`]).
    #[inline]
    pub fn acquire_many(&self, n: u32) -> Result<LocalPermit<'_, M>, SemError> {
        self.sem.acquire_raw(n, None, true)?;
        Ok(LocalPermit { sem: self, n })
    }

    /// Takes `n` permits if they are free now.
    #[inline]
    pub fn try_acquire_many(&self, n: u32) -> Result<LocalPermit<'_, M>, SemError> {
        self.sem.acquire_raw(n, None, false)?;
        Ok(LocalPermit { sem: self, n })
    }

    /// Takes `n` permits, blocking until `deadline` at the latest.
    pub fn acquire_many_until(
        &self,
        n: u32,
        deadline: Deadline,
    ) -> Result<LocalPermit<'_, M>, SemError> {
        self.sem.acquire_raw(n, Some(deadline), true)?;
        Ok(LocalPermit { sem: self, n })
    }

    /// Takes `n` permits without a guard (release them with [`release`](Self::release)).
    #[inline]
    pub fn acquire_raw(
        &self,
        n: u32,
        deadline: Option<Deadline>,
        block: bool,
    ) -> Result<(), SemError> {
        self.sem.acquire_raw(n, deadline, block)
    }

    /// Returns `n` permits taken through this handle (see [`Semaphore::release`]; in ledger
    /// mode `NotHeld` beyond what this handle holds).
    #[inline]
    pub fn release(&self, n: u32) -> Result<(), SemError> {
        if self.sem.ledger.is_some() && n != 0 && n <= self.sem.max() {
            // `Semaphore::release`'s ledger branch, inline here.
            return self.sem.release_ledger_inline(n);
        }
        self.sem.release(n)
    }

    /// Ledger mode: the permits this handle holds.
    pub fn held_by_me(&self) -> Result<u64, SemError> {
        self.sem.held_by_me()
    }

    /// The number of free permits now (a snapshot).
    pub fn value(&self) -> Result<u32, SemError> {
        self.sem.value()
    }

    /// Ledger mode: returns the permits of dead processes (see [`Semaphore::recover`]).
    pub fn recover(&self) -> Result<u32, SemError> {
        self.sem.recover()
    }
}

impl<M: Memory> Drop for LocalSemaphore<M> {
    fn drop(&mut self) {
        if let Some(ledger) = &self.sem.ledger {
            ledger.drop_exclusive();
        }
    }
}
