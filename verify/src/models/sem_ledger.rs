//! Loom models of the semaphore's holder ledger and `recover()` (`synclab_core::sem`, ledger
//! mode), run on the shipped code through `LoomMemory` and a model-controlled process table
//! (`loom_process`): a "process" is a key with its own handles; a "dead" process is one that
//! acquired, recorded and then stopped without releasing, after which the model marks its pid
//! gone (or reused).
//!
//! Scenarios (actors in spawned loom threads; main spawns, joins and checks the end state):
//! - **recover-race** (the first half of recovery: one return): max 2, 2 permits, 2 slots.
//!   Process D (pid 1) took a permit and died, its pid reused at once by process L (a later
//!   start time), before the actors start. Threads R1 and R2 (pids 2 and 3) call `recover()`
//!   at once: at most one of them returns D's permit; with a final `recover()` after the joins,
//!   exactly one permit was returned in all and the count ends at 2.
//! - **recover-live** (the second half: a live entry is never recovered): the same start, but
//!   L starts (takes D's pid) in its own thread, then takes a permit and releases it while R
//!   (pid 2) calls `recover()`: L's release succeeds (its entry was never recovered), D's
//!   permit is returned exactly once and the count ends at 2.
//! - **reuse**: max 2, 1 permit, **1 slot**, so the slot must be recovered and reused. Process D
//!   (pid 1) takes the permit and dies before the others start. Process N starts (with D's pid,
//!   reused, and a later start time) and needs the slot: `try_acquire_many(2)` claims it
//!   (recovering D's entry itself if it gets there first) and takes nothing, so `held_by_me()`
//!   must be 0 (a reused slot starts empty); then it
//!   acquires and releases one permit. Process R (pid 2) calls `recover()` meanwhile: a
//!   recoverer that judged D's entry dead before N reclaimed the slot must not touch N's entry.
//!   N may find the slot busy (`LedgerFull`) while R empties it. The count ends at 1.
//! - **process**: max 2, 2 permits, 2 slots. Process P (pid 1, whose `/proc` entry cannot be
//!   read) has two handles; two threads each acquire a permit through one handle (first use
//!   included, so both may try to claim P's slot) and release it through the other, while
//!   process R (pid 2) calls `recover()`. Both handles see P's permits (one slot per process,
//!   not one per handle), every release succeeds, R returns nothing (a process it cannot judge
//!   counts as alive), and P ends holding 0 with the count back at 2.
//!
//! Bounds: since recovery takes a consistent cut (two reads of every slot around the count, a
//! lock, liveness verdicts) the state space grew sharply: process at preemption bound 1 took
//! 319,595 interleavings / 69 s (release build, loaded 2-core VM) before the loom retry was cut
//! to one attempt; reuse at bound 1: 1,710 / 0.6 s. Defaults now: reuse bound 2, process and
//! the combined `semaphore-ledger` bound 1 (lower than before: 3/unbounded/3). The recover
//! scenario was one of 3 threads (L acting while 2 recoverers raced) until it took 1,149,034
//! interleavings / 83 s at bound 1; its two halves, of 2 threads each, take 183 (unbounded) and
//! 13,822 (bound 3), and still catch each of its mutants. Recoverers that run while others act
//! may answer `InFlight` (a live process inside an operation's window), which counts as
//! returning nothing. Deaths *inside* acquire/release are modelled in `sem_crash.rs`;
//! `tests/tests/sem_kill_recover.rs` and `sem_random_kill.rs` kill real processes.

use super::harness::{explore, in_turn, Explored, ModelOptions, ModelSpec};
use super::loom_process::PidTable;
use crate::model_runners;
use loom::thread;
use std::sync::Arc;
use synclab_core::model::{Memory, Mutant};
use synclab_core::model::{ProcessKey, Semaphore};
use synclab_core::SemError;

/// Every ledger mutant.
pub const LEDGER_MUTANTS: &[Mutant] = &[
    Mutant::SemLedgerClaimWithoutCas,
    Mutant::SemLedgerPidOnly,
    Mutant::SemLedgerRelaxedFree,
    Mutant::SemLedgerReleaseWithoutCas,
    Mutant::SemLedgerClaimUnlocked,
    Mutant::SemLedgerUnknownIsDead,
    Mutant::SemLedgerRelaxedOwnerLoad,
];

/// A `recover()` that runs while other processes act: finding one inside an operation's window
/// (`InFlight`) is a correct answer that returns nothing.
fn concurrent_recover<M: Memory>(sem: &Semaphore<M>) -> u32 {
    match sem.recover() {
        Ok(n) => n,
        Err(SemError::InFlight { .. }) => 0,
        Err(e) => panic!("recover: {e}"),
    }
}

fn key(pid: u32, start: u32) -> ProcessKey {
    ProcessKey { pid, start }
}

/// What the recover scenarios start from: the semaphore (max 2, 2 permits, 2 slots; the handle
/// of process `me`) and the pid table, after process D (pid 1) took a permit and stopped, in a
/// thread joined before the scenario's actors start. With `reuse`, D's pid goes at once to a
/// new process L (a later start time): D is dead; otherwise the scenario does that.
fn holder_died<M: Memory>(me: ProcessKey, reuse: bool) -> (Arc<Semaphore<M>>, Arc<PidTable>) {
    let table = PidTable::new();
    let d = table.spawn(key(1, 1));
    let sem = Arc::new(
        Semaphore::<M>::builder()
            .permits(2)
            .max(2)
            .ledger(2)
            .process_env(table.spawn(me))
            .heap()
            .unwrap(),
    );
    let d_sem = sem.handle_as(d).unwrap();
    let t = Arc::clone(&table);
    thread::spawn(move || {
        d_sem.acquire().unwrap().forget();
        if reuse {
            t.start(key(1, 2));
        }
    })
    .join()
    .unwrap();
    (sem, table)
}

/// After the scenario's recoverers returned `returned` in all: a last `recover()` returns the
/// rest of D's one permit (exactly one return in all) and the count is back at 2.
fn d_returned_once<M: Memory>(sem: &Semaphore<M>, returned: u32) {
    assert!(returned <= 1, "D's 1 permit returned {returned} times");
    let last = sem.recover().unwrap();
    assert_eq!(
        returned + last,
        1,
        "D's permit must be returned exactly once"
    );
    assert_eq!(sem.value().unwrap(), 2, "count must be exact");
}

/// Recover, first half: two recoverers race over dead D's entry (its pid already reused by L,
/// which does nothing).
fn recover_race_model<M: Memory>(opts: &ModelOptions) -> Explored {
    explore(opts, || {
        let (sem, table) = holder_died::<M>(key(2, 1), true);
        let s1 = Arc::clone(&sem);
        let rec1 = thread::spawn(move || concurrent_recover(&s1));
        let s2 = sem.handle_as(table.spawn(key(3, 1))).unwrap();
        let rec2 = thread::spawn(move || concurrent_recover(&s2));
        let (a, b) = (rec1.join().unwrap(), rec2.join().unwrap());
        assert!(a <= 1 && b <= 1, "D's 1 permit returned {a} + {b} times");
        d_returned_once(&sem, a + b);
    })
}

/// Recover, second half: L starts with dead D's pid (in its own thread), takes a permit and
/// releases it while one recoverer runs.
fn recover_live_model<M: Memory>(opts: &ModelOptions) -> Explored {
    explore(opts, || {
        let (sem, table) = holder_died::<M>(key(2, 1), false);
        let (s, t) = (Arc::clone(&sem), Arc::clone(&table));
        let live = thread::spawn(move || {
            // D's pid goes to L, a new process (later start time).
            let l_sem = s.handle_as(t.spawn(key(1, 2))).unwrap();
            l_sem.acquire().unwrap().forget();
            assert_eq!(l_sem.held_by_me().unwrap(), 1, "L holds its permit");
            l_sem
                .release(1)
                .expect("L's entry must never be recovered: it is alive");
            assert_eq!(l_sem.held_by_me().unwrap(), 0);
        });
        let s1 = Arc::clone(&sem);
        let rec = thread::spawn(move || concurrent_recover(&s1));
        live.join().unwrap();
        d_returned_once(&sem, rec.join().unwrap());
    })
}

fn reuse_model<M: Memory>(opts: &ModelOptions) -> Explored {
    explore(opts, || {
        let table = PidTable::new();
        let d = table.spawn(key(1, 1));
        let r = table.spawn(key(2, 1));
        let sem = Arc::new(
            Semaphore::<M>::builder()
                .permits(1)
                .max(2)
                .ledger(1)
                .process_env(d)
                .heap()
                .unwrap(),
        );
        let s = Arc::clone(&sem);
        let t = Arc::clone(&table);
        thread::spawn(move || {
            s.acquire().unwrap().forget();
            t.kill(1);
        })
        .join()
        .unwrap();
        let (s, t) = (Arc::clone(&sem), Arc::clone(&table));
        let newcomer = thread::spawn(move || {
            // N starts with D's pid (reused) and a later start time.
            let n_sem = s.handle_as(t.spawn(key(1, 2))).unwrap();
            match n_sem.try_acquire_many(2) {
                Err(SemError::WouldBlock | SemError::LedgerFull { .. }) => {}
                other => panic!("only 1 permit exists: {:?}", other.map(|p| p.forget())),
            }
            assert_eq!(
                n_sem.held_by_me().unwrap(),
                0,
                "a reused slot must start empty"
            );
            match n_sem.acquire() {
                Ok(p) => {
                    p.forget();
                    assert_eq!(n_sem.held_by_me().unwrap(), 1);
                    n_sem
                        .release(1)
                        .expect("N's entry must not be touched: N is alive");
                    assert_eq!(n_sem.held_by_me().unwrap(), 0);
                }
                // The one slot is being emptied by R (a live recoverer).
                Err(SemError::LedgerFull { .. }) => {}
                Err(e) => panic!("{e}"),
            };
        });
        let r_sem = sem.handle_as(r).unwrap();
        let recoverer = thread::spawn(move || concurrent_recover(&r_sem));
        newcomer.join().unwrap();
        let got = recoverer.join().unwrap();
        assert!(got <= 1, "R returned {got} permits; D held 1");
        sem.recover().unwrap();
        assert_eq!(sem.value().unwrap(), 1, "count must be exact");
    })
}

fn process_model<M: Memory>(opts: &ModelOptions) -> Explored {
    explore(opts, || {
        let table = PidTable::new();
        let p = table.spawn(key(1, 1));
        let r = table.spawn(key(2, 1));
        table.hide(1);
        let h1 = Arc::new(
            Semaphore::<M>::builder()
                .permits(2)
                .max(2)
                .ledger(2)
                .process_env(p.clone())
                .heap()
                .unwrap(),
        );
        let h2 = Arc::new(h1.handle_as(p).unwrap());
        // Each thread acquires through its own handle (its first use: it may claim the slot)
        // and releases through the other one.
        let thread_of_p = |mine: &Arc<Semaphore<M>>, other: &Arc<Semaphore<M>>| {
            let (mine, other) = (Arc::clone(mine), Arc::clone(other));
            thread::spawn(move || {
                mine.acquire().unwrap().forget();
                let held = other.held_by_me().unwrap();
                assert!(held >= 1, "both handles must see P's one slot: {held}");
                other
                    .release(1)
                    .expect("P holds this permit and its entry must stay");
            })
        };
        let t1 = thread_of_p(&h1, &h2);
        let t2 = thread_of_p(&h2, &h1);
        let r_sem = h1.handle_as(r).unwrap();
        let recoverer = thread::spawn(move || concurrent_recover(&r_sem));
        t1.join().unwrap();
        t2.join().unwrap();
        assert_eq!(recoverer.join().unwrap(), 0, "P is alive (unjudgeable)");
        assert_eq!(h1.held_by_me().unwrap(), 0, "every un-record must land");
        assert_eq!(h2.held_by_me().unwrap(), 0, "every un-record must land");
        assert_eq!(h1.value().unwrap(), 2, "count must be exact");
    })
}

model_runners!(
    mutants = [
        SemLedgerClaimWithoutCas,
        SemLedgerPidOnly,
        SemLedgerRelaxedFree,
        SemLedgerReleaseWithoutCas,
        SemLedgerClaimUnlocked,
        SemLedgerUnknownIsDead,
        SemLedgerRelaxedOwnerLoad
    ],
    run_recover_race => recover_race_model,
    run_recover_live => recover_live_model,
    run_reuse => reuse_model,
    run_process => process_model,
);

fn run_all(m: Mutant, opts: &ModelOptions) -> Explored {
    in_turn(
        &[run_reuse, run_recover_race, run_recover_live, run_process],
        m,
        opts,
    )
}

/// All ledger scenarios in turn (cheapest first); every ledger mutant.
pub static SEMAPHORE_LEDGER: ModelSpec = ModelSpec {
    name: "semaphore-ledger",
    about: "holder ledger + recover(): every ledger scenario below in turn (reuse, \
            recover-race, recover-live, process), all at preemption bound 1",
    default_preemptions: Some(1),
    mutants: LEDGER_MUTANTS,
    run: run_all,
};

/// Two recoverers race over a dead holder's entry (the first half of recovery: one return).
pub static SEMAPHORE_LEDGER_RECOVER_RACE: ModelSpec = ModelSpec {
    name: "semaphore-ledger-recover-race",
    about: "max 2, 2 slots: D took a permit and died, its pid reused by L; 2 recoverers race: \
            D's permit returned exactly once, count ends 2; 2 threads, unbounded",
    default_preemptions: None,
    mutants: &[Mutant::SemLedgerClaimWithoutCas, Mutant::SemLedgerPidOnly],
    run: run_recover_race,
};

/// A live holder with a dead holder's reused pid acts while a recoverer runs (the second half:
/// a live entry is never recovered).
pub static SEMAPHORE_LEDGER_RECOVER_LIVE: ModelSpec = ModelSpec {
    name: "semaphore-ledger-recover-live",
    about: "max 2, 2 slots: D took a permit and died; L starts with D's pid (acquire + \
            release) while a recoverer runs: L's entry never recovered, D's permit returned \
            exactly once, count ends 2; 2 threads, preemption bound 3",
    default_preemptions: Some(3),
    mutants: &[Mutant::SemLedgerPidOnly, Mutant::SemLedgerRelaxedOwnerLoad],
    run: run_recover_live,
};

/// Slot reuse against a stale recoverer.
pub static SEMAPHORE_LEDGER_REUSE: ModelSpec = ModelSpec {
    name: "semaphore-ledger-reuse",
    about: "max 2, 1 slot: dead D's entry; newcomer N with D's reused pid (recovers, reclaims \
            the slot, checks it starts empty, acquire + release) races recoverer R: one return, \
            N's entry never touched, count ends 1; 2 threads, preemption bound 2",
    default_preemptions: Some(2),
    mutants: &[
        Mutant::SemLedgerClaimWithoutCas,
        Mutant::SemLedgerPidOnly,
        Mutant::SemLedgerRelaxedFree,
    ],
    run: run_reuse,
};

/// One process, two threads and handles, and a recoverer that cannot judge it.
pub static SEMAPHORE_LEDGER_PROCESS: ModelSpec = ModelSpec {
    name: "semaphore-ledger-process",
    about: "max 2, 2 slots: one process whose /proc entry is unreadable, 2 threads each \
            acquiring through one handle (first use) and releasing through the other, while a \
            recoverer runs: one slot, every un-record lands, nothing recovered, count ends 2; \
            3 threads, preemption bound 1",
    default_preemptions: Some(1),
    mutants: &[
        Mutant::SemLedgerClaimUnlocked,
        Mutant::SemLedgerReleaseWithoutCas,
        Mutant::SemLedgerUnknownIsDead,
    ],
    run: run_process,
};
