//! Loom model of the semaphore's crash recovery (`synclab_core::sem`, ledger mode): a holder
//! that stops between *any* two of its atomic steps leaks nothing once `recover()` has run.
//!
//! A crash is a handle made by `Semaphore::handle_crashing(env, k)`: at its `k`-th step boundary
//! (after the ledger slot claim, after opening a window, after the count CAS, after un-recording
//! a release, after the release CAS: the points `ledger.rs` argues about) it panics with
//! `Crashed`; the model's thread catches the unwind and marks its pid dead in the [`PidTable`],
//! so the process stops exactly there. `k = 0` is a holder that does not crash.
//!
//! Scenario (max 2, 2 permits, 2 ledger slots), once per crash point `k` in `0..=STEPS`:
//! - process H (pid 1) acquires one permit and releases it, crashing at step `k`;
//! - process L (pid 2) acquires one permit, calls `recover()` while holding it (concurrently
//!   with H: it may find H inside a window, `InFlight`, which is fine), checks that it still
//!   holds its permit, and releases it (which must succeed: no permits were created);
//! - after both joined, process R (pid 3) calls `recover()` and the count must be exactly 2:
//!   value + permits held by live processes (none now) == permits.
//!
//! Every crash point runs twice: H on a shared handle, then H on a `LocalSemaphore` (its own
//! slot, single-writer `Release` stores instead of read-modify-writes; its destructor does not
//! run when it is killed).
//!
//! Mutants: `sem-crash-local-relaxed-record` (the local handle's entry stores `Relaxed`: L's cut
//! pairs H's record with the count before H's CAS and finds more permits than exist, or hands
//! H's permit out again), `sem-crash-no-intent` (no window around the count change: L's recovery hands out
//! live H's permit, so L's release overflows) and `sem-crash-trusts-dead-entry` (recovery
//! returns what dead entries recorded: H killed after its CAS, before its record, leaks a
//! permit). Bound: preemption bound 2 per crash point (debug build, this VM: about 1 s each).

use super::harness::{explore, in_turn, Explored, ModelOptions, ModelSpec};
use super::loom_process::PidTable;
use crate::mutant_dispatch;
use loom::thread;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Once};
use synclab_core::model::{Crashed, Memory, Mutant, ProcessKey, Semaphore};
use synclab_core::SemError;

/// The crash-recovery mutants.
pub const CRASH_MUTANTS: &[Mutant] = &[
    Mutant::SemCrashNoIntent,
    Mutant::SemCrashTrustsDeadEntry,
    Mutant::SemCrashLocalRelaxedRecord,
];

/// Step boundaries in H's acquire + release (slot claim, window, CAS; un-record, CAS).
pub const STEPS: u32 = 5;

fn key(pid: u32) -> ProcessKey {
    ProcessKey { pid, start: 1 }
}

/// Keeps the default panic hook quiet about modelled crashes (and only about them).
pub(crate) fn quiet_crashes() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<Crashed>().is_none() {
                previous(info);
            }
        }));
    });
}

fn crash_model<M: Memory>(opts: &ModelOptions, k: u32, local: bool) -> Explored {
    quiet_crashes();
    explore(opts, move || {
        let table = PidTable::new();
        let (h, l, r) = (
            table.spawn(key(1)),
            table.spawn(key(2)),
            table.spawn(key(3)),
        );
        let sem = Semaphore::<M>::builder()
            .permits(2)
            .max(2)
            .ledger(2)
            .process_env(r)
            .heap()
            .unwrap();
        let h_sem = sem.handle_crashing(h, k).unwrap();
        let t = Arc::clone(&table);
        let holder = thread::spawn(move || {
            let run = if local {
                // A LocalSemaphore: its own slot, single-writer stores.
                let h_local = h_sem.local().unwrap();
                let run = catch_unwind(AssertUnwindSafe(|| {
                    h_local.acquire_raw(1, None, true).unwrap();
                    h_local.release(1).unwrap();
                }));
                if run.is_err() {
                    // Killed: no destructor runs (a dropped local handle frees its slot).
                    std::mem::forget(h_local);
                }
                run
            } else {
                catch_unwind(AssertUnwindSafe(|| {
                    h_sem.acquire_raw(1, None, true).unwrap();
                    h_sem.release(1).unwrap();
                }))
            };
            if let Err(payload) = run {
                assert!(payload.downcast_ref::<Crashed>().is_some(), "H failed");
                t.kill(1); // H stopped at step k: it is dead from now on
            }
        });
        let l_sem = sem.handle_as(l).unwrap();
        let live = thread::spawn(move || {
            let p = l_sem.acquire().unwrap();
            match l_sem.recover() {
                Ok(_) | Err(SemError::InFlight { .. }) => {}
                Err(e) => panic!("L's recover: {e}"),
            }
            assert_eq!(
                l_sem.held_by_me().unwrap(),
                1,
                "L's entry must be untouched"
            );
            p.forget();
            l_sem
                .release(1)
                .expect("L's release must fit: recovery created no permits");
        });
        holder.join().unwrap();
        live.join().unwrap();
        sem.recover().expect("nobody is inside a window now");
        assert_eq!(
            sem.value().unwrap(),
            2,
            "crash at step {k}: value + held by live processes must equal the permits"
        );
    })
}

macro_rules! crash_at {
    ($($name:ident = $k:expr, $local:expr);*) => {
        $(
            fn $name<M: Memory>(opts: &ModelOptions) -> Explored {
                crash_model::<M>(opts, $k, $local)
            }
        )*
    };
}
crash_at!(at0 = 0, false; at1 = 1, false; at2 = 2, false; at3 = 3, false; at4 = 4, false;
    at5 = 5, false);
crash_at!(local0 = 0, true; local1 = 1, true; local2 = 2, true; local3 = 3, true;
    local4 = 4, true; local5 = 5, true);

macro_rules! dispatch {
    ($($name:ident),*) => {
        &[$(|m, o| mutant_dispatch!(
            m,
            o,
            $name,
            [SemCrashNoIntent, SemCrashTrustsDeadEntry, SemCrashLocalRelaxedRecord]
        )),*]
    };
}

fn run_all(m: Mutant, opts: &ModelOptions) -> Explored {
    in_turn(
        dispatch!(at0, at1, at2, at3, at4, at5, local0, local1, local2, local3, local4, local5),
        m,
        opts,
    )
}

/// Crash recovery: a holder stopped between any two of its steps, then `recover()`.
pub static SEMAPHORE_CRASH: ModelSpec = ModelSpec {
    name: "semaphore-crash",
    about: "max 2, 2 slots: holder H (a shared handle, then a LocalSemaphore) acquires + \
            releases and stops at each of its 5 step boundaries in turn (or not at all) while \
            live L holds a permit and recovers; then recover(): value + held by live == \
            permits, L's release fits; 2 threads, preemption bound 2 per crash point",
    default_preemptions: Some(2),
    mutants: CRASH_MUTANTS,
    run: run_all,
};
