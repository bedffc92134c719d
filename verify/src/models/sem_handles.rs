//! Loom model of a process's second handle reading the ledger slot its first handle claimed
//! after a recoverer emptied it (`core/src/sem/ledger.rs`, `find_owned` / `held_by_me`).
//!
//! Process D (pid 1) takes both permits and dies (a joined thread, before the actors). The
//! ledger has **one slot**, so process N (pid 3) must reuse D's: its handle N1 acquires one
//! permit (its first use: the slot is full of a dead owner, so `acquire` recovers D's entry,
//! zeroes it, frees the slot and claims it) while process R (pid 2) recovers too (then N1
//! may find the slot busy, `LedgerFull`, or claim the slot R freed), and N's second handle N2,
//! in another thread, asks `held_by_me()`. N2 never claims: it finds the slot N1 claimed (`find_owned`, outside
//! the process's claim lock) and reads its entry. What orders the recoverer's zeroing before
//! that read is N2's `Acquire` load of the owner word, pairing with N1's claim CAS (which
//! acquired the zeroing): without it N2 may read D's count, 2 permits N never took.
//!
//! Bounds: max 2, 2 permits, 1 slot, pids 1..=3, preemption bound 2. Checked: N2 sees at most
//! the 1 permit N holds; after the joins N holds exactly what N1 took and the count is exact.

use super::harness::{explore, Explored, ModelOptions, ModelSpec};
use super::loom_process::PidTable;
use crate::mutant_dispatch;
use loom::thread;
use std::sync::Arc;
use synclab_core::model::{Memory, Mutant, ProcessKey, Semaphore};
use synclab_core::SemError;

/// The second-handle model.
pub static SEMAPHORE_LEDGER_HANDLES: ModelSpec = ModelSpec {
    name: "semaphore-ledger-handles",
    about: "semaphore ledger, a second handle of the same process: one handle reuses a dead \
            process's slot (recovering it) while the other reads the slot's entry (max 2, 1 \
            slot, pids 1..=3)",
    default_preemptions: Some(2),
    mutants: &[Mutant::SemLedgerRelaxedFree],
    run: |m, o| mutant_dispatch!(m, o, handles, [SemLedgerRelaxedFree]),
};

fn key(pid: u32) -> ProcessKey {
    ProcessKey { pid, start: 1 }
}

fn handles<M: Memory>(o: &ModelOptions) -> Explored {
    explore(o, || {
        let table = PidTable::new();
        let d = table.spawn(key(1));
        let r = table.spawn(key(2));
        let n = table.spawn(key(3));
        let sem = Semaphore::<M>::builder()
            .permits(2)
            .max(2)
            .ledger(1)
            .process_env(d)
            .heap()
            .unwrap();
        let n1 = Arc::new(sem.handle_as(n.clone()).unwrap());
        let n2 = sem.handle_as(n).unwrap();
        let t = Arc::clone(&table);
        thread::spawn(move || {
            sem.try_acquire_many(2).unwrap().forget();
            t.kill(1);
        })
        .join()
        .unwrap();
        let r_sem = n1.handle_as(r).unwrap();
        let recoverer = thread::spawn(move || match r_sem.recover() {
            Ok(n) => n,
            Err(SemError::InFlight { .. }) => 0,
            Err(e) => panic!("recover: {e}"),
        });
        let first = Arc::clone(&n1);
        let a = thread::spawn(move || match first.acquire() {
            Ok(p) => {
                p.forget();
                true
            }
            // The one slot is being emptied by R (a live recoverer).
            Err(SemError::LedgerFull { .. }) => false,
            Err(e) => panic!("N's first handle: {e}"),
        });
        let b = thread::spawn(move || {
            let held = n2.held_by_me().unwrap();
            assert!(
                held <= 1,
                "N's second handle sees {held} permits in a slot a recoverer emptied"
            );
        });
        let took = a.join().unwrap();
        b.join().unwrap();
        let returned = recoverer.join().unwrap();
        assert!(returned <= 2, "R returned {returned} permits; D held 2");
        n1.recover().unwrap();
        assert_eq!(n1.held_by_me().unwrap(), u64::from(took), "N's record");
        match n1.value() {
            Ok(v) => assert_eq!(v, 2 - u32::from(took), "count must be exact"),
            Err(SemError::Corrupt { .. }) => panic!("corrupt"),
            Err(e) => panic!("{e}"),
        }
    })
}
