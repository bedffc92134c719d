//! Who a process is, and what the system says about a pid: the questions the semaphore's holder
//! ledger, the rings' role owners and stale-region cleaning ask about processes, behind the
//! [`ProcessEnv`] trait.
//!
//! The ledger's algorithm (`ledger.rs`) never reads `/proc` itself. It asks a `ProcessEnv` for
//! this process's [`ProcessKey`], for the [`PidStatus`] of a pid, and for a lock that serialises
//! this process's slot claims, and it judges liveness itself from those answers
//! (`ledger::is_alive`). [`ProcFs`] answers for real processes from `/proc`; the loom models in
//! `synclab-verify` answer from a table the model controls, so the shipped judgement (start times
//! compared, pid reuse detected, unreadable entries counted as alive) is the modelled one.

use crate::mem::{Memory, Mutant};
use std::sync::{Mutex, PoisonError};

/// `/proc` could not tell what was asked (this process's own entry missing, or unreadable).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProcessError(pub String);

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
    pub fn current() -> Result<Self, ProcessError> {
        let pid = std::process::id();
        match read_stat(pid)? {
            PidStatus::Running { start } => Ok(ProcessKey {
                pid,
                start: start as u32,
            }),
            _ => Err(ProcessError(format!(
                "/proc/{pid}/stat of this process is missing"
            ))),
        }
    }

    /// Whether the process is alive according to `/proc`: `/proc/PID/stat` exists, is not a
    /// zombie, and shows the same start time (a different one means the pid was reused).
    /// Unexpected errors count as alive, so a recovery never takes the permits of a process it
    /// could not judge. (The ledger makes the same judgement through its [`ProcessEnv`].)
    pub fn is_alive(self) -> bool {
        is_alive::<crate::mem::RealMemory>(self, &ProcFs)
    }
}

/// Whether the process `key` names is alive, judged from what `env` says about its pid: alive if
/// a process with that pid runs and started at the key's start time; dead if the pid is gone,
/// exited (a zombie) or now names a process with another start time (reuse); alive if `env`
/// cannot tell, so a recovery never takes the permits of a process it could not judge.
pub(crate) fn is_alive<M: Memory>(key: ProcessKey, env: &dyn ProcessEnv) -> bool {
    if key.pid == 0 {
        return false;
    }
    match env.status(key.pid) {
        Ok(PidStatus::Running { start }) => {
            start as u32 == key.start || M::mutant(Mutant::SemLedgerPidOnly)
        }
        Ok(PidStatus::Gone | PidStatus::Exited) => false,
        Err(_) => !M::mutant(Mutant::SemLedgerUnknownIsDead),
    }
}

/// What the system says about a pid right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PidStatus {
    /// No process has this pid.
    Gone,
    /// The process with this pid has exited and awaits reaping (a zombie, or dead).
    Exited,
    /// A process with this pid runs; it started `start` clock ticks after boot. (It is not
    /// necessarily the process a key names: the pid may have been reused.)
    Running {
        /// Start time in clock ticks since boot (all 64 bits; keys keep the low 32).
        start: u64,
    },
}

/// The process environment the holder ledger runs in. See the module docs.
pub trait ProcessEnv: Send + Sync {
    /// This process's key: what the ledger records as the owner of this process's entry.
    fn me(&self) -> Result<ProcessKey, ProcessError>;

    /// What the system says about `pid` now. `Err` when it cannot tell (the ledger then counts
    /// the process as alive).
    fn status(&self, pid: u32) -> Result<PidStatus, ProcessError>;

    /// Runs `f` holding this process's ledger-claim lock: one lock per process, shared by all
    /// its threads and handles, so that a process claims at most one ledger slot.
    fn claim_locked(&self, f: &mut dyn FnMut());
}

/// The real process environment: this process, `/proc`, and a process-wide claim lock.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcFs;

impl ProcessEnv for ProcFs {
    fn me(&self) -> Result<ProcessKey, ProcessError> {
        ProcessKey::current()
    }

    fn status(&self, pid: u32) -> Result<PidStatus, ProcessError> {
        read_stat(pid)
    }

    fn claim_locked(&self, f: &mut dyn FnMut()) {
        // One per process, whatever the region: claiming happens once per handle, so sharing
        // the lock between regions costs nothing. A panic under it cannot leave the ledger
        // half-updated (a claim is one CAS), so a poisoned lock is still good.
        static CLAIM: Mutex<()> = Mutex::new(());
        let _guard = CLAIM.lock().unwrap_or_else(PoisonError::into_inner);
        f();
    }
}

/// The status of `pid` from `/proc/PID/stat` (state, field 3, and start time, field 22).
fn read_stat(pid: u32) -> Result<PidStatus, ProcessError> {
    if pid == 0 {
        return Ok(PidStatus::Gone);
    }
    let text = match std::fs::read(format!("/proc/{pid}/stat")) {
        Ok(t) => t,
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound
                || e.raw_os_error() == Some(libc::ESRCH) =>
        {
            return Ok(PidStatus::Gone)
        }
        Err(e) => return Err(ProcessError(format!("reading /proc/{pid}/stat: {e}"))),
    };
    // The command name (field 2) is in parentheses and may contain anything, spaces and ')'
    // included: the fields after it start after the LAST ')'.
    let bad = || ProcessError(format!("unparsable /proc/{pid}/stat"));
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
    Ok(if matches!(state, b'Z' | b'X' | b'x') {
        PidStatus::Exited
    } else {
        PidStatus::Running { start }
    })
}
