//! The semaphore uncontended, one thread: our `Semaphore` (in a shared memfd region, as between
//! processes; holder ledger off and on, and on through a `LocalSemaphore`, whose ledger slot is
//! its own: single-writer stores instead of locked read-modify-writes) beside glibc's process-shared `sem_t` (`sem_init` with
//! `pshared = 1` in a `MAP_SHARED` mapping): nanoseconds per acquire+release (`sem_wait` +
//! `sem_post`) and per try-acquire+release (`sem_trywait` + `sem_post`). Every acquire must
//! succeed (one permit, released each time); a failure refuses the figure.

use std::time::Instant;
use synclab_core::Semaphore;

/// Which operation pair.
#[derive(Clone, Copy, Debug)]
pub enum Op {
    /// Blocking acquire (never blocks here) + release.
    Acquire,
    /// Try-acquire + release.
    TryAcquire,
}

/// Holder-ledger slots when the ledger is on.
const LEDGER_SLOTS: u32 = 64;

/// Nanoseconds per pair on our semaphore, `ledger` on or off.
pub fn ours(op: Op, ledger: bool, n: u64) -> Result<f64, String> {
    let sem = one_permit(ledger)?;
    let start = Instant::now();
    for i in 0..n {
        let permit = match op {
            Op::Acquire => sem.acquire(),
            Op::TryAcquire => sem.try_acquire(),
        }
        .map_err(|e| format!("acquire {i}: {e}"))?;
        drop(permit);
    }
    Ok(start.elapsed().as_nanos() as f64 / n as f64)
}

/// Nanoseconds per pair through a [`LocalSemaphore`](synclab_core::LocalSemaphore) on a ledger
/// semaphore.
pub fn ours_local(op: Op, n: u64) -> Result<f64, String> {
    let sem = one_permit(true)?;
    let local = sem.local().map_err(|e| e.to_string())?;
    let start = Instant::now();
    for i in 0..n {
        let permit = match op {
            Op::Acquire => local.acquire(),
            Op::TryAcquire => local.try_acquire(),
        }
        .map_err(|e| format!("acquire {i}: {e}"))?;
        drop(permit);
    }
    Ok(start.elapsed().as_nanos() as f64 / n as f64)
}

/// A one-permit semaphore in a memfd region, with a ledger or without.
fn one_permit(ledger: bool) -> Result<Semaphore, String> {
    let slots = if ledger { LEDGER_SLOTS } else { 0 };
    Semaphore::builder()
        .max(1)
        .permits(1)
        .ledger(slots)
        .anonymous()
        .map_err(|e| e.to_string())
}

/// A glibc `sem_t` initialised process-shared in its own `MAP_SHARED` anonymous mapping.
struct GlibcSem {
    sem: *mut libc::sem_t,
}

impl GlibcSem {
    fn new(value: u32) -> Result<Self, String> {
        let len = std::mem::size_of::<libc::sem_t>();
        // SAFETY: a fresh anonymous shared mapping; no existing memory is touched.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(format!("mmap: {}", std::io::Error::last_os_error()));
        }
        let sem = p.cast::<libc::sem_t>();
        // SAFETY: `sem` points to `len` writable bytes, page-aligned (enough for sem_t), which
        // nothing else uses.
        if unsafe { libc::sem_init(sem, 1, value) } != 0 {
            let e = std::io::Error::last_os_error();
            // SAFETY: unmapping the mapping made above, not used after.
            unsafe { libc::munmap(p, len) };
            return Err(format!("sem_init: {e}"));
        }
        Ok(GlibcSem { sem })
    }

    fn wait(&self, op: Op) -> bool {
        // SAFETY: `self.sem` was initialised by sem_init and is destroyed only on drop.
        unsafe {
            match op {
                Op::Acquire => libc::sem_wait(self.sem) == 0,
                Op::TryAcquire => libc::sem_trywait(self.sem) == 0,
            }
        }
    }

    fn post(&self) -> bool {
        // SAFETY: as in `wait`.
        unsafe { libc::sem_post(self.sem) == 0 }
    }
}

impl Drop for GlibcSem {
    fn drop(&mut self) {
        // SAFETY: no waiter exists (this thread only); the mapping is ours and not used after.
        unsafe {
            libc::sem_destroy(self.sem);
            libc::munmap(self.sem.cast(), std::mem::size_of::<libc::sem_t>());
        }
    }
}

/// Nanoseconds per pair on glibc's process-shared `sem_t`.
pub fn glibc(op: Op, n: u64) -> Result<f64, String> {
    let sem = GlibcSem::new(1)?;
    let start = Instant::now();
    for i in 0..n {
        if !sem.wait(op) {
            return Err(format!(
                "glibc sem acquire {i}: {}",
                std::io::Error::last_os_error()
            ));
        }
        if !sem.post() {
            return Err(format!(
                "glibc sem_post {i}: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(start.elapsed().as_nanos() as f64 / n as f64)
}
