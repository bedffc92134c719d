//! The shared logical clock of a multi-process parallel property test: a small shared-memory
//! file mapped by the parent and every branch process, holding the clock every operation ticks
//! before it starts and after it returns (as `shuttle::record` does between threads), and the
//! rendezvous counter that releases the branch processes together.
//!
//! The file's contents are untrusted like any shared memory: a corrupt value can only make a
//! history invalid (the checker rejects it) or end a rendezvous at its deadline, never UB.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};

/// Bytes mapped: the clock and the rendezvous counter, each on its own cache line.
const LEN: usize = 128;

/// The rendezvous count after an abort (no real count gets near it).
const ABORTED: u64 = 1 << 62;

/// A mapping of the clock file.
pub struct Clock {
    base: NonNull<u8>,
    path: PathBuf,
    owner: bool,
}

// SAFETY: the mapping is only accessed through atomics; the pointer stays valid until `drop`.
unsafe impl Send for Clock {}
// SAFETY: as above.
unsafe impl Sync for Clock {}

impl Clock {
    /// Creates a zeroed clock file at `path` (fails if it exists) and maps it; the file is
    /// removed when this mapping drops.
    pub fn create(path: &Path) -> std::io::Result<Clock> {
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)?;
        f.set_len(LEN as u64)?;
        Self::map(&f, path, true)
    }

    /// Maps the clock file another process created.
    pub fn open(path: &Path) -> std::io::Result<Clock> {
        let f = OpenOptions::new().read(true).write(true).open(path)?;
        if f.metadata()?.len() < LEN as u64 {
            return Err(std::io::Error::other("clock file too short"));
        }
        Self::map(&f, path, false)
    }

    fn map(f: &File, path: &Path, owner: bool) -> std::io::Result<Clock> {
        use std::os::fd::AsRawFd;
        // SAFETY: a fresh shared mapping of `LEN` bytes of a file at least that long (checked or
        // set above); nothing else is mapped at the address the kernel picks.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                LEN,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                f.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Clock {
            base: NonNull::new(p.cast()).expect("mmap returned a non-null address"),
            path: path.to_path_buf(),
            owner,
        })
    }

    fn word<T>(&self, offset: usize) -> &T {
        // SAFETY: `offset` is 0 or 64, inside the `LEN`-byte mapping, and page-aligned base +
        // 64 is aligned for the 8-byte atomics; the mapping lives as long as `self`, and every
        // process only accesses it through atomics.
        unsafe { &*self.base.as_ptr().add(offset).cast::<T>() }
    }

    fn clock(&self) -> &AtomicI64 {
        self.word(0)
    }

    fn arrived(&self) -> &AtomicU64 {
        self.word(64)
    }

    /// The next tick. SeqCst: the ticks of all processes form one order that agrees with real
    /// time (a tick taken after another returned is larger).
    pub fn tick(&self) -> i64 {
        self.clock().fetch_add(1, SeqCst)
    }

    /// Ends every rendezvous now and for good (a branch process failed: the others stop
    /// waiting for it).
    pub fn abort(&self) {
        // SeqCst: as the rendezvous.
        self.arrived().store(ABORTED, SeqCst);
    }

    /// Arrives at the rendezvous of `n` processes and spins until all have (yielding now and
    /// then: more processes than cores); `false` if `deadline` passes first or a process
    /// aborted.
    pub fn rendezvous(&self, n: u64, deadline: Duration) -> bool {
        // SeqCst: a plain rendezvous; the only data published through it is the object, which
        // every process attached to before arriving.
        self.arrived().fetch_add(1, SeqCst);
        let start = Instant::now();
        let mut spins = 0u32;
        loop {
            let arrived = self.arrived().load(SeqCst);
            if arrived >= ABORTED {
                return false;
            }
            if arrived >= n {
                return true;
            }
            spins = spins.wrapping_add(1);
            if spins % 1024 == 0 {
                if start.elapsed() > deadline {
                    return false;
                }
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
    }
}

impl Drop for Clock {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `map`, unmapped once; no reference into it outlives
        // `self` (they borrow it).
        unsafe { libc::munmap(self.base.as_ptr().cast(), LEN) };
        if self.owner {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
