//! mpmc run roles: producers enqueue distinct values (`id << 40 | seq`), consumers dequeue until
//! the parent closes the queue; every operation is recorded in the worker's history buffer. A
//! victim of `synclab run mpmc --kill` (trigger `op`) SIGKILLs itself inside operation
//! `--die-at` at `--die-step`, leaving that operation recorded with an unknown outcome.

use super::Transfer;
use crate::runs::history_buffers::{op, HistoryBuffers};
use crate::runs::DieStep;
use serde_json::{json, Value};
use synclab_core::model::Deadline;
use synclab_core::shm::ShmName;
use synclab_core::{Mpmc, RingError};

/// Arguments of the mpmc roles.
#[derive(clap::Args, Debug, Clone)]
pub struct MpmcRole {
    /// The queue, how long to wait, and the history region and buffer (`--history` required).
    #[command(flatten)]
    pub transfer: Transfer,
    /// Producer id (the high bits of its values).
    #[arg(long, default_value_t = 0)]
    pub id: u64,
    /// SIGKILL this process inside its operation number N (1-based), at `--die-step`.
    #[arg(long)]
    pub die_at: Option<u64>,
    /// Where inside operation `--die-at` to die.
    #[arg(long, value_enum, default_value_t = DieStep::Before)]
    pub die_step: DieStep,
}

/// Ends this process with SIGKILL, as the parent's kill would (no exit path runs).
fn die() -> ! {
    // SAFETY: raise(2) takes a signal number and touches no memory of ours.
    unsafe { libc::raise(libc::SIGKILL) };
    unreachable!("SIGKILL cannot be caught")
}

/// Pushes `v` up to `step` (retrying while the queue is full), then dies. Returns only the
/// error that stopped the push first (closed, corrupt, or still full at the deadline).
fn push_and_die(q: &Mpmc<u64>, v: u64, step: DieStep, deadline: Deadline) -> RingError {
    if let Some(crash) = step.crash_point() {
        loop {
            match q.try_push_crashing(v, crash) {
                // Stopped at the crash point (or, for `after-op`, done).
                Ok(()) => break,
                Err(RingError::Full) if !deadline.has_passed() => std::thread::yield_now(),
                Err(e) => return e,
            }
        }
    }
    die()
}

/// Pops up to `step` (retrying while the queue is empty), then dies: also when the queue is
/// closed and empty (this dequeue's outcome stays unknown all the same). Returns only the error
/// that stopped the pop first (corrupt, or still empty at the deadline).
fn pop_and_die(q: &Mpmc<u64>, step: DieStep, deadline: Deadline) -> RingError {
    if let Some(crash) = step.crash_point() {
        loop {
            match q.try_pop_crashing(crash) {
                Ok(_) | Err(RingError::Closed) => break,
                Err(RingError::Empty) if !deadline.has_passed() => std::thread::yield_now(),
                Err(e) => return e,
            }
        }
    }
    die()
}

fn open(r: &MpmcRole) -> Result<(Mpmc<u64>, HistoryBuffers), String> {
    let q = Mpmc::<u64>::builder()
        .open(&ShmName::new(&r.transfer.name).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let h = r
        .transfer
        .history_buffers()?
        .ok_or("mpmc workers record their operations: --history is required")?;
    Ok((q, h))
}

fn failed(role: &str, e: impl std::fmt::Display) -> Value {
    json!({"role": role, "ok": false, "error": e.to_string()})
}

/// Enqueues `count` values.
pub(super) fn produce(r: &MpmcRole) -> Value {
    let (q, h) = match open(r) {
        Ok(x) => x,
        Err(e) => return failed("mpmc-produce", e),
    };
    let mut rec = h.recorder(r.transfer.worker);
    let deadline = r.transfer.deadline();
    for s in 0..r.transfer.count {
        let v = r.id << 40 | s;
        match rec.record(
            op::ENQUEUE,
            Some(v),
            || match r.die_at {
                Some(n) if n == s + 1 => Err(push_and_die(&q, v, r.die_step, deadline)),
                _ => q.push_until(v, Some(deadline)),
            },
            |res| (res.is_ok(), None),
        ) {
            Some(Ok(())) => {}
            Some(Err(e)) => return failed("mpmc-produce", e),
            None => return failed("mpmc-produce", "history buffer full"),
        }
    }
    json!({"role": "mpmc-produce", "ok": true, "sent": r.transfer.count})
}

/// Dequeues until the queue is closed and empty.
pub(super) fn consume(r: &MpmcRole) -> Value {
    let (q, h) = match open(r) {
        Ok(x) => x,
        Err(e) => return failed("mpmc-consume", e),
    };
    let mut rec = h.recorder(r.transfer.worker);
    let deadline = r.transfer.deadline();
    let mut received = 0u64;
    for n in 1.. {
        let res = rec.record(
            op::DEQUEUE,
            None,
            || match r.die_at {
                Some(at) if at == n => Err(pop_and_die(&q, r.die_step, deadline)),
                _ => q.pop_until(Some(deadline)),
            },
            |res| match res {
                Ok(v) => (true, Some(*v)),
                // Closed is reported only when the queue is empty: a dequeue that found it empty.
                Err(RingError::Closed) => (true, None),
                Err(_) => (false, None),
            },
        );
        match res {
            Some(Ok(_)) => received += 1,
            Some(Err(RingError::Closed)) => break,
            Some(Err(e)) => return failed("mpmc-consume", e),
            None => return failed("mpmc-consume", "history buffer full"),
        }
    }
    json!({"role": "mpmc-consume", "ok": true, "received": received})
}
