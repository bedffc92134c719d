//! `LoomProcess`: the semaphore ledger's `ProcessEnv` for loom models, so a model decides which
//! "process" is alive, when it dies and whether its pid is reused.
//!
//! A model plays several processes with loom threads. Each process has a [`ProcessKey`] and a
//! `LoomProcess` (shared by all its handles: it carries the process's claim lock, a loom
//! `Mutex`). The [`PidTable`] says, per pid, which process has it now: its start time, "none",
//! or "unreadable" (`/proc` refuses to say: `status` returns an error). A process dies when a
//! model thread writes its pid's entry (to "none", or to a new start time when the pid is
//! reused at once) after its last action.
//!
//! The table's `Release` writes and `Acquire` reads stand for the kernel: a process's death is
//! observed (through `/proc`) only after everything it did.

use loom::sync::atomic::AtomicU64;
use loom::sync::Mutex;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::sync::Arc;
use synclab_core::model::{PidStatus, ProcessEnv, ProcessError, ProcessKey};

/// Pids `1..PIDS` exist in a model.
pub const PIDS: usize = 4;
/// A table entry: no process has the pid.
const NONE: u64 = 0;
/// A table entry: `/proc` cannot be read for the pid.
const UNREADABLE: u64 = u64::MAX;

/// Which process has each pid now (see the module docs).
pub struct PidTable {
    starts: [AtomicU64; PIDS],
}

impl PidTable {
    /// A table where no pid is in use.
    pub fn new() -> Arc<Self> {
        Arc::new(PidTable {
            starts: std::array::from_fn(|_| AtomicU64::new(NONE)),
        })
    }

    fn entry(&self, pid: u32) -> &AtomicU64 {
        &self.starts[pid as usize]
    }

    /// The process `key` starts (or its pid becomes `key`'s after a death: pid reuse).
    pub fn start(&self, key: ProcessKey) {
        assert!(key.start != 0, "start time 0 means no process in the table");
        // Release: see the module docs (what the process did before is visible with its start).
        self.entry(key.pid).store(u64::from(key.start), Release);
    }

    /// The process with `pid` dies and its pid stays unused.
    pub fn kill(&self, pid: u32) {
        // Release: see the module docs (death is observed after the process's last action).
        self.entry(pid).store(NONE, Release);
    }

    /// `/proc` cannot be read for `pid` from now on (the process lives on).
    pub fn hide(&self, pid: u32) {
        // Release: as `start` (the table is the model's kernel; see the module docs).
        self.entry(pid).store(UNREADABLE, Release);
    }

    /// Starts process `key` and returns its environment.
    pub fn spawn(self: &Arc<Self>, key: ProcessKey) -> Arc<LoomProcess> {
        self.start(key);
        Arc::new(LoomProcess {
            key,
            table: Arc::clone(self),
            claim: Mutex::new(()),
        })
    }
}

/// One model process: its key, the pid table, and its claim lock.
pub struct LoomProcess {
    key: ProcessKey,
    table: Arc<PidTable>,
    claim: Mutex<()>,
}

impl ProcessEnv for LoomProcess {
    fn me(&self) -> Result<ProcessKey, ProcessError> {
        Ok(self.key)
    }

    fn status(&self, pid: u32) -> Result<PidStatus, ProcessError> {
        if pid as usize >= PIDS {
            return Ok(PidStatus::Gone);
        }
        // Acquire: see the module docs (death is observed after the process's last action).
        match self.table.entry(pid).load(Acquire) {
            NONE => Ok(PidStatus::Gone),
            UNREADABLE => Err(ProcessError(format!("/proc/{pid}/stat: permission denied"))),
            start => Ok(PidStatus::Running { start }),
        }
    }

    fn claim_locked(&self, f: &mut dyn FnMut()) {
        let _guard = self.claim.lock().unwrap();
        f();
    }
}
