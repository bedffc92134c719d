//! Parallel property tests through real processes: the generated programs of [`super::case`]
//! with each branch in its own OS process (the caller re-executes a binary that calls
//! [`branch_main`]), all on one named shared-memory object, every operation ticked on the
//! shared [`Clock`], the histories gathered by the parent ([`run_case`], `run.rs`) and checked
//! by `synclab-lin`. This file: what a branch is given and reports, and the branch side.
//!
//! spsc: branch 0's `Push`es in the producer process, branch 1's `Pop`s in the consumer process
//! (roles belong to processes, so spsc cases have no prefix). mpmc and the semaphore: the prefix
//! in the parent, every branch in a process of its own; mpmc is drained by the parent after the
//! branches exit, and semaphore branches give back what they hold before they exit.
//!
//! The planted fault ([`Plant::SpscPublishesOneTooMany`]): mutants cannot be switched on in a
//! shared region (only `RealMemory` objects live in regions), so the producer process, after its
//! pushes (if any), advances the ring's published tail by one more record than it wrote, as a
//! publish off by one would. The consumer then reads a slot nobody wrote in this round.

use super::case::{QOp, SOp};
use super::clock::Clock;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::Duration;
use synclab_core::{Mpmc, RingError, Semaphore, ShmName, Spsc};
use synclab_lin::{Op, OpKind};

pub use super::run::{run_case, Outcome};

/// The environment variable that carries a branch to its process (JSON).
pub const BRANCH_ENV: &str = "SYNCLAB_PARPROC_BRANCH";

/// How the branch process prints its history (this marker, then JSON, on one line).
pub(super) const OUT_PREFIX: &str = "PARPROC-HISTORY ";

/// How long the rendezvous waits for the other branch processes.
const RENDEZVOUS: Duration = Duration::from_secs(20);

/// spsc and mpmc capacity, semaphore permits.
pub const CAPACITY: usize = 2;
/// mpmc capacity.
pub const MPMC_CAPACITY: usize = 4;
/// Semaphore permits (and maximum).
pub const PERMITS: u32 = 3;

/// The object under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Object {
    /// `Spsc<u64>`, capacity [`CAPACITY`].
    Spsc,
    /// `Mpmc<u64>`, capacity [`MPMC_CAPACITY`].
    Mpmc,
    /// `Semaphore` of [`PERMITS`].
    Semaphore,
}

/// A fault planted in a branch process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Plant {
    /// None: the object as shipped.
    None,
    /// The spsc producer publishes one record more than it wrote, after its pushes.
    SpscPublishesOneTooMany,
}

/// The operations of one branch process.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Ops {
    /// Queue operations.
    Queue(Vec<QOp>),
    /// Semaphore operations.
    Sem(Vec<SOp>),
}

/// What a branch process is given.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Branch {
    /// The object.
    pub object: Object,
    /// Its region's name.
    pub name: String,
    /// The clock file.
    pub clock: PathBuf,
    /// This process's number in the history (1-based; 0 is the parent).
    pub who: u64,
    /// Processes meeting at the rendezvous.
    pub processes: u64,
    /// Its operations.
    pub ops: Ops,
    /// The planted fault.
    pub plant: Plant,
    /// Lockstep rounds (mpmc and semaphore): the branch processes meet before each of their
    /// first `rounds` operations (every process takes part in every round); 0: free-running.
    pub rounds: u64,
}

/// One recorded operation, as a branch process reports it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Rec {
    /// `enqueue`/`dequeue` value or `acquire`/`release` count.
    pub kind: Kind,
    /// Took effect.
    pub ok: bool,
    /// Clock tick before the call.
    pub invoke: i64,
    /// Clock tick after it returned.
    pub ret: i64,
}

/// A recorded operation's kind.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub enum Kind {
    /// Enqueue of a value.
    Enq(i64),
    /// Dequeue (`None`: empty).
    Deq(Option<i64>),
    /// Acquire of n permits.
    Acq(u64),
    /// Release of n permits.
    Rel(u64),
}

impl Rec {
    pub(super) fn op(&self, process: u64) -> Op {
        let kind = match self.kind {
            Kind::Enq(value) => OpKind::Enqueue { value },
            Kind::Deq(value) => OpKind::Dequeue { value },
            Kind::Acq(n) => OpKind::Acquire { n },
            Kind::Rel(n) => OpKind::Release { n },
        };
        let mut op = Op::new(process, kind, self.invoke, self.ret);
        op.ok = Some(self.ok);
        op
    }
}

/// Records calls on the shared clock.
pub(super) struct Log<'a> {
    pub(super) clock: &'a Clock,
    pub(super) recs: Vec<Rec>,
}

impl Log<'_> {
    /// Runs `op`, ticking before and after; `what` says what to record (`None`: nothing).
    pub(super) fn call<R>(
        &mut self,
        op: impl FnOnce() -> R,
        what: impl FnOnce(&R) -> Option<(Kind, bool)>,
    ) -> R {
        let invoke = self.clock.tick();
        let r = op();
        let ret = self.clock.tick();
        if let Some((kind, ok)) = what(&r) {
            self.recs.push(Rec {
                kind,
                ok,
                invoke,
                ret,
            });
        }
        r
    }
}

/// The body of a branch process: reads its [`Branch`] from [`BRANCH_ENV`], runs it and prints
/// its history on stdout; `None` when the variable is not set (not a branch process).
pub fn branch_main() -> Option<Result<(), String>> {
    let json = std::env::var(BRANCH_ENV).ok()?;
    Some((|| {
        let b: Branch = serde_json::from_str(&json).map_err(|e| e.to_string())?;
        let recs = run_branch(&b)?;
        let line = serde_json::to_string(&recs).map_err(|e| e.to_string())?;
        println!("{OUT_PREFIX}{line}");
        Ok(())
    })())
}

pub(super) fn ring_err(e: RingError) -> String {
    format!("unexpected ring error: {e}")
}

fn run_branch(b: &Branch) -> Result<Vec<Rec>, String> {
    let clock = Clock::open(&b.clock).map_err(|e| format!("clock: {e}"))?;
    let r = run_branch_on(b, &clock);
    if r.is_err() {
        // The others stop waiting for this process at once.
        clock.abort();
    }
    r
}

/// Meets the other branch processes: first `n` arrivals (start together), then `2 n` (finish
/// together, before any handle drops: an spsc side that exits closes the ring for its peer).
fn meet(clock: &Clock, n: u64, what: &str) -> Result<(), String> {
    clock
        .rendezvous(n, RENDEZVOUS)
        .then_some(())
        .ok_or_else(|| format!("the other branch processes never {what} (or one failed)"))
}

fn run_branch_on(b: &Branch, clock: &Clock) -> Result<Vec<Rec>, String> {
    let name = ShmName::new(&b.name).map_err(|e| e.to_string())?;
    let mut log = Log {
        clock,
        recs: Vec::new(),
    };
    // Arrival counts: `n` to start, `n` per lockstep round, `n` to finish.
    let start = || meet(clock, b.processes, "arrived");
    let round = std::cell::Cell::new(0);
    let pace = || {
        if round.get() >= b.rounds {
            return Ok(());
        }
        round.set(round.get() + 1);
        meet(clock, b.processes * (1 + round.get()), "stepped")
    };
    let finish = || {
        while round.get() < b.rounds {
            pace()?;
        }
        meet(clock, b.processes * (2 + b.rounds), "finished")
    };
    match (&b.object, &b.ops) {
        (Object::Spsc, Ops::Queue(ops)) => {
            let ring = Spsc::<u64>::builder().open(&name).map_err(ring_err)?;
            if b.who == 1 {
                let mut p = ring.producer().map_err(ring_err)?;
                start()?;
                let pushes = ops.iter().filter(|o| **o == QOp::Push).count() as u64;
                for v in 1..=pushes {
                    let r = log.call(|| p.try_push(v), |r| Some((Kind::Enq(v as i64), r.is_ok())));
                    match r {
                        Ok(()) | Err(RingError::Full) => {}
                        Err(e) => return Err(ring_err(e)),
                    }
                }
                if b.plant == Plant::SpscPublishesOneTooMany {
                    publish_one_too_many(&ring);
                }
                finish()?;
            } else {
                let mut c = ring.consumer().map_err(ring_err)?;
                start()?;
                for _ in ops.iter().filter(|o| **o == QOp::Pop) {
                    let r = log.call(
                        || c.try_pop(),
                        |r| match r {
                            Ok(v) => Some((Kind::Deq(Some(*v as i64)), true)),
                            Err(RingError::Empty) => Some((Kind::Deq(None), true)),
                            Err(_) => None,
                        },
                    );
                    match r {
                        Ok(_) | Err(RingError::Empty) => {}
                        Err(e) => return Err(ring_err(e)),
                    }
                }
                finish()?;
            }
        }
        (Object::Mpmc, Ops::Queue(ops)) => {
            let q = Mpmc::<u64>::builder().open(&name).map_err(ring_err)?;
            start()?;
            for (i, op) in ops.iter().enumerate() {
                pace()?;
                mpmc_step(&mut log, &q, b.who * 1000 + i as u64, *op)?;
            }
            finish()?;
        }
        (Object::Semaphore, Ops::Sem(ops)) => {
            let sem = Semaphore::builder()
                .open(&name)
                .map_err(|e| e.to_string())?;
            start()?;
            let held = sem_ops(&mut log, &sem, ops, &pace)?;
            release_held(&mut log, &sem, held)?;
            finish()?;
        }
        _ => return Err("operations do not match the object".to_string()),
    }
    Ok(log.recs)
}

/// The planted fault: the ring's published tail (the first word of the region's body, as
/// `core/tests/hostile/mod.rs` lays it out) advanced by one record nobody wrote.
fn publish_one_too_many(ring: &Spsc<u64>) {
    let region = ring.region().expect("a named ring");
    // SAFETY: the body is 128-aligned and starts with the 8-byte tail word, an atomic that every
    // process only accesses atomically; the region stays mapped while `ring` lives.
    let tail = unsafe { &*region.body().as_ptr().cast::<AtomicU64>() };
    tail.fetch_add(1, SeqCst);
}

/// One mpmc operation (pushed value `v`); `Full`/`Empty` answers are not recorded (see
/// `verify/tests/parallel_prop.rs`).
pub(super) fn mpmc_step(log: &mut Log<'_>, q: &Mpmc<u64>, v: u64, op: QOp) -> Result<(), String> {
    let r = match op {
        QOp::Push => log.call(
            || q.try_push(v),
            |r| r.is_ok().then_some((Kind::Enq(v as i64), true)),
        ),
        QOp::Pop => log
            .call(
                || q.try_pop(),
                |r| Some((Kind::Deq(Some(*r.as_ref().ok()? as i64)), true)),
            )
            .map(|_| ()),
    };
    match r {
        Ok(()) | Err(RingError::Full | RingError::Empty) => Ok(()),
        Err(e) => Err(ring_err(e)),
    }
}

/// Runs semaphore operations, calling `pace` before each; the permits still held.
pub(super) fn sem_ops(
    log: &mut Log<'_>,
    sem: &Semaphore,
    ops: &[SOp],
    pace: &dyn Fn() -> Result<(), String>,
) -> Result<u32, String> {
    let mut held = 0;
    for op in ops {
        pace()?;
        match *op {
            SOp::TryAcquire(n) => {
                let r = log.call(
                    || sem.try_acquire_many(n).map(|p| p.forget()),
                    |r| Some((Kind::Acq(n.into()), r.is_ok())),
                );
                match r {
                    Ok(()) => held += n,
                    Err(synclab_core::SemError::WouldBlock) => {}
                    Err(e) => return Err(format!("try_acquire_many({n}): {e}")),
                }
            }
            SOp::Release if held > 0 => {
                log.call(|| sem.release(1), |r| Some((Kind::Rel(1), r.is_ok())))
                    .map_err(|e| format!("release: {e}"))?;
                held -= 1;
            }
            SOp::Release => {}
            SOp::Acquire(_) => return Err("blocking acquires are not generated".to_string()),
        }
    }
    Ok(held)
}

pub(super) fn release_held(log: &mut Log<'_>, sem: &Semaphore, held: u32) -> Result<(), String> {
    if held > 0 {
        log.call(
            || sem.release(held),
            |r| Some((Kind::Rel(held.into()), r.is_ok())),
        )
        .map_err(|e| format!("final release: {e}"))?;
    }
    Ok(())
}
