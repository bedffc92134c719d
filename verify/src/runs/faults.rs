//! Fault injection into running workers: SIGSTOP/SIGCONT pairs at seeded random moments (a
//! preempted process: the case lock-free code exists for). Signals go through pidfds, so a
//! worker that has exited and been reaped can never be confused with a new process that reused
//! its pid. [`wait_exit`] waits for a killed worker to be gone (a pidfd turns readable).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A pidfd for `pid` (a child we have not reaped yet).
pub fn pidfd(pid: u32) -> std::io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1; no memory is passed.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a fresh fd the kernel returned to us.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Sends `signal` to the process behind `fd` (no effect once it has exited).
pub fn signal(fd: &OwnedFd, signal: i32) -> bool {
    // SAFETY: pidfd_send_signal(pidfd, sig, info = NULL, flags = 0) reads no memory of ours.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd.as_raw_fd(),
            signal,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    rc == 0
}

/// A background thread that stops and resumes workers until told to finish.
pub struct StopInjector {
    done: Arc<AtomicBool>,
    handle: JoinHandle<u64>,
}

impl StopInjector {
    /// About `rate` stops per second (each 0.1–2 ms long) among `targets`, chosen by a ChaCha8
    /// RNG seeded with `seed`. `None` when `rate` is 0 or there is no target.
    pub fn start(targets: Vec<OwnedFd>, rate: f64, seed: u64) -> Option<StopInjector> {
        if rate <= 0.0 || targets.is_empty() {
            return None;
        }
        let done = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&done);
        let handle = std::thread::spawn(move || {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut stops = 0u64;
            // Relaxed: a plain stop request; the join below synchronises the result.
            while !flag.load(Ordering::Relaxed) {
                let gap = rng.gen_range(0.5..1.5) / rate;
                std::thread::sleep(Duration::from_secs_f64(gap));
                let victim = &targets[rng.gen_range(0..targets.len())];
                let pause = Duration::from_micros(rng.gen_range(100..2000));
                if signal(victim, libc::SIGSTOP) {
                    std::thread::sleep(pause);
                    stops += 1;
                }
                // Always resume, even if the stop "failed": never leave a worker stopped.
                signal(victim, libc::SIGCONT);
            }
            stops
        });
        Some(StopInjector { done, handle })
    }

    /// Stops injecting (every worker is left running) and returns how many stops were made.
    pub fn finish(self) -> u64 {
        // Relaxed: a stop request; `join` below synchronises everything the thread did.
        self.done.store(true, Ordering::Relaxed);
        self.handle.join().unwrap_or(0)
    }
}

/// Waits until the process behind `fd` has terminated (its pidfd turns readable), at most
/// `timeout`. True if it has.
pub fn wait_exit(fd: &OwnedFd, timeout: Duration) -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    let start = std::time::Instant::now();
    loop {
        let left = timeout.saturating_sub(start.elapsed());
        let ms =
            PollTimeout::try_from(left.as_millis().min(60_000) as i32).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, ms) {
            Ok(n) if n > 0 => return true,
            // EINTR: poll again with what is left of the time.
            Err(nix::errno::Errno::EINTR) => {}
            _ if left.is_zero() => return false,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
}
