//! SIGINT/SIGTERM in the parent of a multi-process run: stop, reap, clean up, then exit 130/143.
//!
//! [`install`] replaces the default action of SIGINT and SIGTERM (which would end the process at
//! once, skipping every `Drop`, so the run's shared-memory regions would stay in `/dev/shm`) with
//! a handler that only records the signal and writes one byte to a self-pipe. Everything else
//! happens on the normal path: [`reap_all`](super::reap_all) has the pipe's read end in its
//! `poll(2)` set, so it wakes at once, SIGKILLs and reaps its workers and returns; the run skips
//! its check, returns, and its regions are unlinked by their creators' `Drop`; the CLI then exits
//! with 128 + the signal number ([`received`]). The byte is never read, so the pipe stays
//! readable and every later wait returns at once too.

use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::OnceLock;

/// The signal received (0 = none).
static RECEIVED: AtomicI32 = AtomicI32::new(0);
/// The self-pipe's write end (-1 until installed).
static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);
/// The self-pipe, kept open for the life of the process.
static PIPE: OnceLock<(OwnedFd, OwnedFd)> = OnceLock::new();

extern "C" fn on_signal(signal: libc::c_int) {
    // Only async-signal-safe work here: two atomic operations and write(2).
    // SeqCst: the flag is read by other threads after they see the pipe readable; the write(2)
    // below is a system call, which orders it anyway.
    RECEIVED.store(signal, Ordering::SeqCst);
    let fd = PIPE_WRITE.load(Ordering::SeqCst);
    if fd >= 0 {
        let byte = 1u8;
        // SAFETY: writes one byte from a live local to a pipe we own; the result is ignored (a
        // full pipe already says "interrupted").
        unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
    }
}

/// Installs the SIGINT and SIGTERM handlers (once; later calls do nothing). Call it before
/// creating any region or starting any worker.
pub fn install() -> std::io::Result<()> {
    if PIPE.get().is_some() {
        return Ok(());
    }
    let (read, write) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC | nix::fcntl::OFlag::O_NONBLOCK)
            .map_err(std::io::Error::from)?;
    PIPE_WRITE.store(write.as_raw_fd(), Ordering::SeqCst);
    let _ = PIPE.set((read, write));
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for signal in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: the handler only does async-signal-safe work (atomics and write(2)).
        unsafe { sigaction(signal, &action) }.map_err(std::io::Error::from)?;
    }
    Ok(())
}

/// The read end of the self-pipe (readable once a signal arrived), when installed.
pub fn wake_fd() -> Option<BorrowedFd<'static>> {
    use std::os::fd::AsFd;
    PIPE.get().map(|(read, _)| read.as_fd())
}

/// The SIGINT/SIGTERM received since [`install`], if any.
pub fn received() -> Option<i32> {
    // SeqCst: see `on_signal`.
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// The name of a signal number this module handles.
pub fn name(signal: i32) -> &'static str {
    match signal {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}

/// Prints the readiness line `synclab: N worker processes started` on stderr when the
/// environment variable `SYNCLAB_READY_LINE` is set: what a test (or a supervisor) waits for
/// before it sends a signal, instead of sleeping.
pub fn announce_started(workers: usize) {
    if std::env::var_os("SYNCLAB_READY_LINE").is_some() {
        eprintln!("synclab: {workers} worker processes started");
    }
}
