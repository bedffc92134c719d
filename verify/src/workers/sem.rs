//! semaphore run role: acquire one permit, note the occupancy in the region, release; recorded.
//!
//! Occupancy is tracked in the spare words beside the semaphore ([`HarnessSem`], [`aux`]
//! indices): permits held now, the most ever held at once, and acquires completed.
//!
//! # A doomed worker (`--die-at ROUND`)
//!
//! For `synclab run semaphore --kill K` the parent picks K workers and a seeded round for each.
//! At that round the worker takes **every** permit (`acquire(max)`, recorded), leaves the tracked
//! section, and then starts one more recorded `acquire(1)` which cannot succeed while it lives
//! (it holds all the permits and nobody else may return them). Inside that operation, after its
//! pending history entry is published, it announces itself (sets its bit in
//! [`aux::DOOMED_MASK`], bumps [`aux::DOOMED_COUNT`], wakes the futex on it), then blocks. The
//! parent SIGKILLs it on the announcement and calls `recover()`.
//!
//! Why this shape: the kill then lands (for every timing) while the worker holds permits its
//! ledger entry records exactly, and inside an operation that never returns (HISTORY.md's
//! `return_ns: null`). A kill at an arbitrary instant could instead land in the crash windows
//! `Semaphore::recover` documents (between an acquire's CAS and its ledger record, or a
//! release's un-record and its CAS), which leak the permits of that one call: a documented
//! limitation of the ledger (no SEM_UNDO without the kernel), not something a run should report
//! as a failure at random.

use super::Transfer;
use crate::harness_sem::HarnessSem;
use crate::runs::history_buffers::{op, HistoryBuffers, Recorder};
use serde_json::{json, Value};
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{AcqRel, Relaxed, Release};
use synclab_core::model::{Deadline, Memory, RealMemory};
use synclab_core::shm::ShmName;

/// Indices of the spare words ([`HarnessSem::aux`]) used by semaphore runs.
pub mod aux {
    /// Permits held now by tracked holders.
    pub const HOLDERS: usize = 0;
    /// The most permits ever held at once.
    pub const MAX_HOLDERS: usize = 1;
    /// Acquires completed.
    pub const ACQUIRES: usize = 2;
    /// Doomed workers that announced they hold every permit (a futex word: the parent waits on
    /// its low half).
    pub const DOOMED_COUNT: usize = 3;
    /// Bit `w` set: worker `w` announced (workers `< 64`).
    pub const DOOMED_MASK: usize = 4;
}

/// Arguments of the semaphore role.
#[derive(clap::Args, Debug, Clone)]
pub struct SemRole {
    /// The semaphore (`--name`), iterations (`--count`), deadline, and the history region and
    /// buffer (`--history` required).
    #[command(flatten)]
    pub transfer: Transfer,
    /// At this round, take every permit, announce it, and block in one more acquire until the
    /// parent SIGKILLs this process (see the module docs).
    #[arg(long)]
    pub die_at: Option<u64>,
}

fn failed(e: impl std::fmt::Display) -> Value {
    json!({"role": "sem-contend", "ok": false, "error": e.to_string()})
}

/// The occupancy words.
struct Occupancy<'a> {
    holders: &'a AtomicU64,
    max_holders: &'a AtomicU64,
    acquires: &'a AtomicU64,
}

impl Occupancy<'_> {
    /// Notes `n` permits held for a short critical section, then leaves it and counts the acquire.
    fn visit(&self, n: u64) {
        // AcqRel: the occupancy count is the property under test; ordering it with the permit
        // operations (which are themselves Acquire/Release) keeps the observation meaningful.
        let now = self.holders.fetch_add(n, AcqRel) + n;
        // Hold the permits briefly (a short critical section) so holders actually overlap.
        for _ in 0..64 {
            std::hint::spin_loop();
        }
        // Relaxed: a first guess for the CAS below, which re-validates it.
        let mut seen = self.max_holders.load(Relaxed);
        while now > seen {
            match self
                .max_holders
                .compare_exchange_weak(seen, now, AcqRel, Relaxed)
            {
                Ok(_) => break,
                Err(s) => seen = s,
            }
        }
        // AcqRel: as for the increment above.
        self.holders.fetch_sub(n, AcqRel);
        // Relaxed: a plain tally, read by the parent after every worker has exited.
        self.acquires.fetch_add(1, Relaxed);
    }
}

/// Runs `count` acquire/release rounds (or dies at round `die_at`).
pub(super) fn contend(r: &SemRole) -> Value {
    let open = || -> Result<(HarnessSem, HistoryBuffers), String> {
        let s = HarnessSem::open(&ShmName::new(&r.transfer.name).map_err(|e| e.to_string())?)?;
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
    let (Some(holders), Some(max_holders), Some(acquires)) = (
        sem.aux(aux::HOLDERS),
        sem.aux(aux::MAX_HOLDERS),
        sem.aux(aux::ACQUIRES),
    ) else {
        return failed("semaphore region has no spare words");
    };
    let occupancy = Occupancy {
        holders,
        max_holders,
        acquires,
    };
    let mut rec = h.recorder(r.transfer.worker);
    let deadline = r.transfer.deadline();
    for round in 0..r.transfer.count {
        if r.die_at == Some(round) {
            return die(&sem, &mut rec, &occupancy, r.transfer.worker, deadline);
        }
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
        occupancy.visit(1);
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

/// The doomed round (module docs): take every permit, then announce and block in an acquire that
/// cannot succeed. Returns only if the parent never kills this process (an error).
fn die(
    sem: &HarnessSem,
    rec: &mut Recorder<'_>,
    occupancy: &Occupancy<'_>,
    worker: usize,
    deadline: Deadline,
) -> Value {
    let all = sem.max();
    match rec.record(
        op::ACQUIRE,
        Some(u64::from(all)),
        || sem.acquire_raw(all, Some(deadline), true),
        |res| (res.is_ok(), None),
    ) {
        Some(Ok(())) => {}
        Some(Err(e)) => return failed(e),
        None => return failed("history buffer full"),
    }
    occupancy.visit(u64::from(all));
    let (Some(count), Some(mask)) = (sem.aux(aux::DOOMED_COUNT), sem.aux(aux::DOOMED_MASK)) else {
        return failed("semaphore region has no spare words");
    };
    if worker >= 64 {
        return failed("--die-at needs a worker index below 64");
    }
    let announce = || {
        // Relaxed: published by the Release increment of the count just below, which the
        // parent's Acquire load of the count pairs with before it reads the mask.
        mask.fetch_or(1 << worker, Relaxed);
        // Release: publishes the bit above; the count is the futex word the parent sleeps on.
        count.fetch_add(1, Release);
        RealMemory::wake64_low(count, u32::MAX);
    };
    let res = rec.record(
        op::ACQUIRE,
        Some(1),
        || {
            announce();
            sem.acquire_raw(1, Some(deadline), true)
        },
        |res| (res.is_ok(), None),
    );
    failed(format!(
        "was to be SIGKILLed while holding every permit, but the last acquire returned ({res:?})"
    ))
}
