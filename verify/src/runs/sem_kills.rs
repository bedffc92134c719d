//! Killing semaphore holders and recovering their permits, in the parent of a semaphore run.
//!
//! Each victim worker announces (`workers::sem`, "a doomed worker") once it holds every permit
//! and is blocked in one more acquire. [`kill_announced`] waits for announcements on a futex in
//! the semaphore region (no polling sleeps), SIGKILLs each announced victim through its pidfd,
//! waits until it is gone, and calls [`Semaphore::recover`].
//!
//! # How the recovery appears in the history
//!
//! `recover()` returns the dead holder's permits with the semaphore's own release CAS, made by
//! the parent. The history records exactly that: one `release` of the recovered permits by the
//! parent, as its own process (numbered after the workers), invoked just before `recover()` and
//! returned just after it (fences between, as for every recorded operation). The semaphore model
//! is a counter of free permits and does not track owners, so a release by a process that never
//! acquired is legal in it; the dead worker's `acquire` stays completed in its history (it did
//! take the permits) and its last `acquire`, cut short by the kill, is recorded without a return
//! (`return_ns: null`, outcome unknown: it may have taken effect or not). The alternative of
//! checking the survivors alone with the dead holder's acquires as pending would be weaker: a
//! pending acquire may also never take effect, so it would accept a history in which the dead
//! holder's permits were handed out twice.

use super::faults::{signal, wait_exit};
use crate::harness_sem::HarnessSem;
use crate::lin::{Op, OpKind};
use crate::workers::sem_aux as aux;
use std::os::fd::OwnedFd;
use std::sync::atomic::fence;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{Acquire, Relaxed, SeqCst};
use std::time::Duration;
use synclab_core::model::{Deadline, Memory, RealMemory};
use synclab_core::Semaphore;

/// A worker to kill once it announces, with its pidfd.
pub(super) struct Victim {
    /// Its worker (history buffer) index, `< 64`.
    pub worker: usize,
    /// Its pidfd.
    pub fd: OwnedFd,
}

/// What the killing did.
#[derive(Default)]
pub(super) struct Kills {
    /// Worker indices SIGKILLed.
    pub killed: Vec<usize>,
    /// Permits `recover()` returned in total.
    pub recovered: u64,
    /// The parent's recorded `release` operations (one per recovery that returned permits).
    pub ops: Vec<Op>,
    /// What went wrong.
    pub errors: Vec<String>,
}

/// How long a SIGKILLed worker may take to be gone.
const DEATH_TIMEOUT: Duration = Duration::from_secs(30);

fn now_ns() -> i64 {
    Deadline::after(Duration::ZERO).monotonic_ns() as i64
}

/// Kills each victim once it announces, and recovers its permits (recording the recovery as a
/// `release` by history process `parent`), until every victim is handled or `done` is set.
pub(super) fn kill_announced(
    sem: &HarnessSem,
    mut victims: Vec<Victim>,
    parent: u64,
    done: &AtomicBool,
) -> Kills {
    let mut out = Kills::default();
    let (Some(count), Some(mask)) = (sem.aux(aux::DOOMED_COUNT), sem.aux(aux::DOOMED_MASK)) else {
        out.errors
            .push("semaphore region has no spare words".into());
        return out;
    };
    // Relaxed: a stop request; the scope's join synchronises the results.
    while !victims.is_empty() && !done.load(Relaxed) {
        // Acquire: pairs with a victim's Release increment, so the mask read next shows its bit.
        let seen = count.load(Acquire);
        // Relaxed: ordered after the Acquire load above (see there).
        let announced = mask.load(Relaxed);
        let (ready, waiting): (Vec<Victim>, Vec<Victim>) = victims
            .into_iter()
            .partition(|v| announced & (1 << v.worker) != 0);
        victims = waiting;
        for v in ready {
            kill_and_recover(sem, v, parent, &mut out);
        }
        if victims.is_empty() {
            break;
        }
        // Sleep until a victim announces (the count changes), or briefly, to look at `done`.
        RealMemory::wait64_low(
            count,
            seen as u32,
            Some(Deadline::after(Duration::from_millis(50))),
        );
    }
    out
}

fn kill_and_recover(sem: &Semaphore, v: Victim, parent: u64, out: &mut Kills) {
    if !signal(&v.fd, libc::SIGKILL) {
        out.errors.push(format!(
            "cannot SIGKILL worker {} (gone already?)",
            v.worker
        ));
        return;
    }
    out.killed.push(v.worker);
    if !wait_exit(&v.fd, DEATH_TIMEOUT) {
        out.errors.push(format!(
            "worker {} still alive {DEATH_TIMEOUT:?} after SIGKILL",
            v.worker
        ));
        return;
    }
    let invoke_ns = now_ns();
    fence(SeqCst);
    let recovered = sem.recover();
    fence(SeqCst);
    let return_ns = now_ns();
    match recovered {
        Ok(0) => out.errors.push(format!(
            "recover() returned no permits after worker {} was killed holding every permit",
            v.worker
        )),
        Ok(n) => {
            out.recovered += u64::from(n);
            out.ops.push(Op::new(
                parent,
                OpKind::Release { n: u64::from(n) },
                invoke_ns,
                return_ns,
            ));
        }
        Err(e) => out.errors.push(format!(
            "recover() after killing worker {} failed: {e}",
            v.worker
        )),
    }
}
