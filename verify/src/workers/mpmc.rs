//! mpmc run roles: producers enqueue distinct values (`id << 40 | seq`), consumers dequeue until
//! the parent closes the queue; every operation is recorded in the worker's history buffer.

use super::Transfer;
use crate::runs::history_buffers::{op, HistoryBuffers};
use serde_json::{json, Value};
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
            || q.push_until(v, Some(deadline)),
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
    loop {
        let res = rec.record(
            op::DEQUEUE,
            None,
            || q.pop_until(Some(deadline)),
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
