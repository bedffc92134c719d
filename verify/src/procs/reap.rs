//! Waiting for worker processes with a deadline, without polling loops: each child gets a pidfd
//! and `poll(2)` sleeps until one exits or the deadline passes; stragglers are SIGKILLed.

use std::io::Read;
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::process::Child;
use std::time::{Duration, Instant};

/// How a worker ended.
#[derive(Clone, Debug)]
pub struct WorkerExit {
    /// Its index in the list given to [`reap_all`].
    pub index: usize,
    /// Exit code, if it exited.
    pub code: Option<i32>,
    /// Signal that killed it, if any.
    pub signal: Option<i32>,
    /// Whether we killed it at the deadline.
    pub timed_out: bool,
    /// Everything it printed on stdout (its report).
    pub stdout: String,
}

impl WorkerExit {
    /// Exited with code 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// One-phrase description ("exit 0", "killed by signal 9", "timed out").
    pub fn describe(&self) -> String {
        match (self.timed_out, self.code, self.signal) {
            (true, _, _) => "timed out (killed at the deadline)".into(),
            (_, Some(c), _) => format!("exit {c}"),
            (_, _, Some(s)) => format!("killed by signal {s}"),
            _ => "unknown".into(),
        }
    }
}

fn pidfd_open(pid: u32) -> std::io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1; no memory is passed.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this fd to us; nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Waits for every child until `timeout`, kills the ones still running, reaps all, and returns
/// their exits (and stdout) in order. A SIGINT/SIGTERM caught by [`super::signals`] counts as the
/// deadline passing at once: every child still running is killed (and reported timed out). Stdout is drained on threads so a chatty worker never
/// blocks on a full pipe.
pub fn reap_all(mut children: Vec<Child>, timeout: Duration) -> Vec<WorkerExit> {
    // A timeout too long to represent is no deadline at all (never an overflow panic).
    let deadline = Instant::now().checked_add(timeout);
    let readers: Vec<_> = children
        .iter_mut()
        .map(|c| {
            let mut out = c.stdout.take();
            std::thread::spawn(move || {
                let mut s = String::new();
                if let Some(o) = out.as_mut() {
                    let _ = o.read_to_string(&mut s);
                }
                s
            })
        })
        .collect();
    let pidfds: Vec<Option<OwnedFd>> = children.iter().map(|c| pidfd_open(c.id()).ok()).collect();
    let mut done = vec![false; children.len()];
    let mut timed_out = vec![false; children.len()];
    loop {
        for (i, c) in children.iter_mut().enumerate() {
            if !done[i] && matches!(c.try_wait(), Ok(Some(_))) {
                done[i] = true;
            }
        }
        if done.iter().all(|d| *d) {
            break;
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) || super::signals::received().is_some() {
            for (i, c) in children.iter_mut().enumerate() {
                if !done[i] {
                    let _ = c.kill();
                    timed_out[i] = true;
                }
            }
            break;
        }
        let mut fds: Vec<nix::poll::PollFd> = pidfds
            .iter()
            .enumerate()
            .filter(|(i, _)| !done[*i])
            .filter_map(|(_, fd)| fd.as_ref())
            .map(|fd| nix::poll::PollFd::new(fd.as_fd(), nix::poll::PollFlags::POLLIN))
            .collect();
        let children_polled = fds.len();
        if let Some(wake) = super::signals::wake_fd() {
            fds.push(nix::poll::PollFd::new(wake, nix::poll::PollFlags::POLLIN));
        }
        let left = deadline
            .map_or(Duration::MAX, |d| d.saturating_duration_since(now))
            .min(Duration::from_millis(60_000));
        let ms = nix::poll::PollTimeout::try_from(left.as_millis() as i32)
            .unwrap_or(nix::poll::PollTimeout::MAX);
        if children_polled == 0 {
            // No pidfd support: fall back to blocking waits (children have their own deadlines).
            for (i, c) in children.iter_mut().enumerate() {
                if !done[i] {
                    let _ = c.wait();
                    done[i] = true;
                }
            }
            break;
        }
        let _ = nix::poll::poll(&mut fds, ms);
    }
    children
        .into_iter()
        .zip(readers)
        .enumerate()
        .map(|(index, (mut c, r))| {
            use std::os::unix::process::ExitStatusExt;
            let status = c.wait().ok();
            WorkerExit {
                index,
                code: status.and_then(|s| s.code()),
                signal: status.and_then(|s| s.signal()),
                timed_out: timed_out[index],
                stdout: r.join().unwrap_or_default(),
            }
        })
        .collect()
}
