//! Loom model of the semaphore's priority-token recovery (`recover_token` in
//! `core/src/sem/recover.rs`, ledger mode): a multi-permit waiter that dies while it owns the
//! priority token must not keep single acquirers out forever, and its waiter registration must
//! be dropped exactly once.
//!
//! Scenario (max 2, 1 permit, 3 ledger slots, so nobody needs D's slot), once per crash point
//! `k` in `2..=3`:
//! - process D (pid 1) calls `acquire_many(2)`, which cannot complete (1 permit): D claims its
//!   ledger slot (step 1), the token's owner word (step 2), then sets the token bit and
//!   registers as a waiter in one CAS (step 3), and stops right after step `k` (a crashing
//!   handle, as in `sem_crash.rs`). Its pid goes at once to a new process L (same pid, later
//!   start time): a recoverer that judges by pid alone calls D alive;
//! - the thread that saw D stop spawns process R (pid 2), which calls `recover()`, while L
//!   calls `acquire()` (one permit), which waits behind D's token until R clears it and wakes
//!   it, then releases;
//! - after the joins, process F (pid 3) calls `recover()`; the token must be free, no waiter
//!   registered, the count 1, and a single `try_acquire` must succeed.
//!
//! `k = 2` reaches the path where the owner word is set but the bit never was (the owner CAS,
//! then "died before setting it"); `k = 3` the full path (the owner CAS, clearing the bit with
//! the registration, the wake L needs). Mutant: `sem-ledger-pid-only` (D's reused pid makes it
//! look alive: its token is never recovered and L waits forever, a loom deadlock). Preemption
//! bound 3 per crash point (1,631 executions for both, 0.25 s in a release build; unbounded:
//! 13,780 in 1.4 s).
//!
//! **The race with D's death** (scenario `with-death`, [`concurrent_recover_at_token_bit`]):
//! R runs concurrently with D (not only after its death), D stopping right after the CAS that
//! sets the token bit (`k = 3`). This found a real bug: `register` (`core/src/sem/wait.rs`) set
//! the token bit with a `Relaxed` CAS, so the `Release` of the owner-word CAS before it did not
//! reach a recoverer that reads the bit with its `Acquire` state load: R could see the bit and a
//! stale owner word 0, take the "bit without owner" path and clear the bit without dropping D's
//! registration (the waiter count stayed 1 for good: every later release paid a wake). That CAS
//! is `Release` on success now, and the scenario is part of the model.

use super::harness::{explore, in_turn, Explored, ModelOptions, ModelSpec};
use super::loom_process::PidTable;
use crate::mutant_dispatch;
use loom::thread;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use synclab_core::model::{Crashed, Memory, Mutant, ProcessKey, Semaphore};
use synclab_core::SemError;

fn key(pid: u32, start: u32) -> ProcessKey {
    ProcessKey { pid, start }
}

/// How the recoverer R runs against D's death.
#[derive(Clone, Copy, PartialEq)]
enum Race {
    /// R starts after D's death (spawned by the thread that saw D stop), while L acquires: the
    /// registered model.
    AfterDeath,
    /// R runs from the start, concurrently with D (and L does nothing): the scenario of the open
    /// core finding (module docs).
    WithDeath,
}

fn token_model<M: Memory>(opts: &ModelOptions, k: u32, race: Race) -> Explored {
    super::sem_crash::quiet_crashes();
    explore(opts, move || {
        let table = PidTable::new();
        let (d, r, f) = (
            table.spawn(key(1, 1)),
            table.spawn(key(2, 1)),
            table.spawn(key(3, 1)),
        );
        let sem = Semaphore::<M>::builder()
            .permits(1)
            .max(2)
            .ledger(3)
            .process_env(f)
            .heap()
            .unwrap();
        let d_sem = sem.handle_crashing(d, k).unwrap();
        let r_sem = sem.handle_as(r).unwrap();
        let recover = move || match r_sem.recover() {
            Ok(0) | Err(SemError::InFlight { .. }) => {}
            other => panic!("R's recover returned {other:?}: no permit is held"),
        };
        let t = Arc::clone(&table);
        let (recover_now, recover_later) = match race {
            Race::WithDeath => (Some(recover), None),
            Race::AfterDeath => (None, Some(recover)),
        };
        let dying = thread::spawn(move || {
            let run = catch_unwind(AssertUnwindSafe(|| {
                d_sem.acquire_many(2).map(|p| p.forget())
            }));
            match run {
                Err(payload) => assert!(payload.downcast_ref::<Crashed>().is_some(), "D failed"),
                Ok(r) => panic!("D's acquire_many(2) of 1 permit returned {r:?}"),
            }
            // D stopped after step k; its pid goes at once to a new process L.
            t.kill(1);
            let l = t.spawn(key(1, 2));
            if let Some(recover) = recover_later {
                let recoverer = thread::spawn(recover);
                // L's single acquire waits behind D's token until R recovers it.
                let l_sem = d_sem.handle_as(l).unwrap();
                l_sem.acquire().expect("L gets the permit").forget();
                l_sem.release(1).expect("L's release fits");
                recoverer.join().unwrap();
            }
        });
        let recoverer = recover_now.map(thread::spawn);
        dying.join().unwrap();
        if let Some(r) = recoverer {
            r.join().unwrap();
        }
        assert_eq!(
            sem.recover().unwrap(),
            0,
            "no permit is held by a dead process"
        );
        assert!(
            !sem.priority_held(),
            "crash at step {k}: the dead owner's token must be recovered"
        );
        assert_eq!(
            sem.waiters(),
            0,
            "crash at step {k}: the dead waiter's registration must be dropped exactly once"
        );
        assert_eq!(sem.value().unwrap(), 1, "the count is back to 1");
        sem.try_acquire()
            .expect("a single acquirer must get the free permit")
            .forget();
    })
}

fn at2<M: Memory>(opts: &ModelOptions) -> Explored {
    token_model::<M>(opts, 2, Race::AfterDeath)
}

fn at3<M: Memory>(opts: &ModelOptions) -> Explored {
    token_model::<M>(opts, 3, Race::AfterDeath)
}

fn with_death<M: Memory>(opts: &ModelOptions) -> Explored {
    token_model::<M>(opts, 3, Race::WithDeath)
}

fn run_all(m: Mutant, opts: &ModelOptions) -> Explored {
    in_turn(
        &[
            |m, o| mutant_dispatch!(m, o, at2, [SemLedgerPidOnly]),
            |m, o| mutant_dispatch!(m, o, at3, [SemLedgerPidOnly]),
            |m, o| mutant_dispatch!(m, o, with_death, [SemLedgerPidOnly]),
        ],
        m,
        opts,
    )
}

/// Token recovery: a multi-permit waiter dies owning the priority token.
pub static SEMAPHORE_TOKEN_RECOVER: ModelSpec = ModelSpec {
    name: "semaphore-token-recover",
    about: "max 2, 1 permit, 3 slots: D's acquire_many(2) stops after claiming the token owner \
            (k=2) or after setting the token bit (k=3), its pid reused by L; R recovers while L \
            waits for a permit behind the token (after D's death, and for k=3 also racing it); \
            then token free, no waiter, count 1; 3 threads, preemption bound 3 per scenario",
    default_preemptions: Some(3),
    mutants: &[Mutant::SemLedgerPidOnly],
    run: run_all,
};

/// The race with D's death alone (module docs), on correct code: R recovers concurrently with
/// D's `acquire_many(2)`, which stops right after the CAS that sets the token bit (k = 3).
pub fn concurrent_recover_at_token_bit(opts: &ModelOptions) -> Explored {
    token_model::<super::loom_memory::LoomMemory<0>>(opts, 3, Race::WithDeath)
}
