//! semaphore run role: acquire one permit, note the occupancy in the region, release; recorded.
//!
//! Occupancy is tracked in the semaphore region's spare words: `aux(0)` holders now, `aux(1)` the
//! most holders ever seen, `aux(2)` acquires completed.

use super::Transfer;
use crate::runs::history_buffers::{op, HistoryBuffers};
use serde_json::{json, Value};
use std::sync::atomic::Ordering::{AcqRel, Relaxed};
use synclab_core::sem::Semaphore;
use synclab_core::shm::ShmName;

/// Arguments of the semaphore role.
#[derive(clap::Args, Debug, Clone)]
pub struct SemRole {
    /// The semaphore (`--name`), iterations (`--count`), deadline, and the history region and
    /// buffer (`--history` required).
    #[command(flatten)]
    pub transfer: Transfer,
}

fn failed(e: impl std::fmt::Display) -> Value {
    json!({"role": "sem-contend", "ok": false, "error": e.to_string()})
}

/// Runs `count` acquire/release rounds.
pub(super) fn contend(r: &SemRole) -> Value {
    let open = || -> Result<(Semaphore, HistoryBuffers), String> {
        let s = Semaphore::open(&ShmName::new(&r.transfer.name).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        let h = r
            .transfer
            .history_buffers()?
            .ok_or("semaphore workers record their operations: --history is required")?;
        Ok((s, h))
    };
    let (sem, h) = match open() {
        Ok(x) => x,
        Err(e) => return failed(e),
    };
    let (Some(holders), Some(max_holders), Some(acquires)) = (sem.aux(0), sem.aux(1), sem.aux(2))
    else {
        return failed("semaphore region has no spare words");
    };
    let mut rec = h.recorder(r.transfer.worker);
    let deadline = r.transfer.deadline();
    for _ in 0..r.transfer.count {
        match rec.record(
            op::ACQUIRE,
            Some(1),
            || sem.acquire_raw(1, Some(deadline), true),
            |res| (res.is_ok(), None),
        ) {
            Some(Ok(())) => {}
            Some(Err(e)) => return failed(e),
            None => return failed("history buffer full"),
        }
        // AcqRel: the occupancy count is the property under test; ordering it with the permit
        // operations (which are themselves Acquire/Release) keeps the observation meaningful.
        let now = holders.fetch_add(1, AcqRel) + 1;
        // Hold the permit briefly (a short critical section) so holders actually overlap.
        for _ in 0..64 {
            std::hint::spin_loop();
        }
        let mut seen = max_holders.load(Relaxed);
        while now > seen {
            match max_holders.compare_exchange_weak(seen, now, AcqRel, Relaxed) {
                Ok(_) => break,
                Err(s) => seen = s,
            }
        }
        // AcqRel: as for the increment above.
        holders.fetch_sub(1, AcqRel);
        // Relaxed: a plain tally, read by the parent after every worker has exited.
        acquires.fetch_add(1, Relaxed);
        match rec.record(
            op::RELEASE,
            Some(1),
            || sem.release(1),
            |res| (res.is_ok(), None),
        ) {
            Some(Ok(())) => {}
            Some(Err(e)) => return failed(e),
            None => return failed("history buffer full"),
        }
    }
    json!({"role": "sem-contend", "ok": true, "rounds": r.transfer.count})
}
