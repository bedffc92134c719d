//! Loom model of role takeover in the single-producer single-consumer rings (`ring/pair.rs`):
//! a role whose owner process died is taken over by exactly one new process, a live owner's role
//! is never taken, and the new owner resumes after the last record the dead one released.
//!
//! Processes are played by loom threads with a [`LoomProcess`](super::loom_process::LoomProcess) each, over one [`PidTable`]; a
//! process dies by having its pid's entry cleared after its last step, so a crash can fall
//! between any two of its ring calls. Bounds: capacity 2, 2 records, pids 1..=3.
//!
//! - `crash`: consumer C1 claims the role, pops once and dies, while C2 tries to claim the role
//!   once and, if it wins, pops what is left. Checked: never two live owners at once (a shared
//!   count of live owners is at most 1), and every record is popped exactly once when C2 wins.
//! - `race`: the consumer died holding the role; two new processes race to take it over.
//!   Checked: exactly one wins, and it resumes at the record after the last one released.

use super::harness::{explore, in_turn, Explored, ModelOptions, ModelSpec};
use super::loom_process::PidTable;
use crate::model_runners;
use loom::sync::atomic::AtomicU32;
use loom::sync::Mutex;
use loom::thread;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use synclab_core::model::{Memory, Mutant, ProcessKey, Spsc};
use synclab_core::RingError;

/// The role-takeover model.
pub static TAKEOVER: ModelSpec = ModelSpec {
    name: "spsc-takeover",
    about: "spsc role takeover: a consumer dies (any point between its calls) while another \
            process claims its role; two processes race for a dead owner's role (capacity 2, \
            2 records, pids 1..=3)",
    default_preemptions: Some(2),
    mutants: &[
        Mutant::RoleTakeoverWithoutCas,
        Mutant::RoleTakeoverOfLiveOwner,
    ],
    run: |m, o| in_turn(&[run_crash, run_race], m, o),
};

fn key(pid: u32) -> ProcessKey {
    ProcessKey { pid, start: 1 }
}

/// A ring holding records 0 and 1, produced by process 3 (which stays alive).
fn filled<M: Memory>(table: &Arc<PidTable>) -> Spsc<u32, M> {
    let ring = Spsc::<u32, M>::builder()
        .capacity(2)
        .process_env(table.spawn(key(3)))
        .heap()
        .unwrap();
    let mut producer = ring.producer().unwrap();
    producer.try_push(0).unwrap();
    producer.try_push(1).unwrap();
    std::mem::forget(producer); // stays open: the stream has not ended
    ring
}

/// Counts a new live owner; panics if another one is live.
fn became_owner(live: &AtomicU32) {
    let before = live.fetch_add(1, SeqCst);
    assert_eq!(before, 0, "two live processes own the consumer role");
}

fn crash<M: Memory>(o: &ModelOptions) -> Explored {
    explore(o, || {
        let table = PidTable::new();
        let ring = filled::<M>(&table);
        let live = Arc::new(AtomicU32::new(0));
        let popped = Arc::new(Mutex::new(Vec::new()));
        let c1 = ring.handle_as(table.spawn(key(1)));
        let c2 = ring.handle_as(table.spawn(key(2)));
        let (t, l, p) = (Arc::clone(&table), Arc::clone(&live), Arc::clone(&popped));
        let first = thread::spawn(move || {
            if let Ok(mut c) = c1.consumer() {
                became_owner(&l);
                if let Ok(v) = c.try_pop() {
                    p.lock().unwrap().push(v);
                }
                l.fetch_sub(1, SeqCst);
                std::mem::forget(c); // a crash: no close
            }
            t.kill(1);
        });
        let (l, p) = (Arc::clone(&live), Arc::clone(&popped));
        let second = thread::spawn(move || match c2.consumer() {
            Ok(mut c) => {
                became_owner(&l);
                while let Ok(v) = c.try_pop() {
                    p.lock().unwrap().push(v);
                }
                std::mem::forget(c);
                true
            }
            Err(RingError::RoleTaken(_)) => false,
            Err(e) => panic!("claim failed: {e}"),
        });
        first.join().unwrap();
        let took_over = second.join().unwrap();
        let got = popped.lock().unwrap().clone();
        if took_over {
            assert_eq!(got, [0, 1], "every record exactly once, in order");
        } else {
            assert!(got.len() <= 1 && got.iter().all(|&v| v == 0), "{got:?}");
        }
    })
}

fn race<M: Memory>(o: &ModelOptions) -> Explored {
    explore(o, || {
        let table = PidTable::new();
        let ring = filled::<M>(&table);
        let dead = ring.handle_as(table.spawn(key(1)));
        let mut c = dead.consumer().unwrap();
        assert_eq!(c.try_pop().unwrap(), 0);
        std::mem::forget(c);
        table.kill(1);
        let live = Arc::new(AtomicU32::new(0));
        // The takers: process 2, and a new process that reuses the dead one's pid 1 (another
        // start time), which must not be mistaken for the dead owner.
        let takers: Vec<_> = [key(2), ProcessKey { pid: 1, start: 2 }]
            .into_iter()
            .map(|k| {
                let h = ring.handle_as(table.spawn(k));
                let l = Arc::clone(&live);
                thread::spawn(move || match h.consumer() {
                    Ok(mut c) => {
                        became_owner(&l);
                        let v = c.try_pop().expect("the record after the last released");
                        std::mem::forget(c);
                        Some(v)
                    }
                    Err(RingError::RoleTaken(_)) => None,
                    Err(e) => panic!("claim failed: {e}"),
                })
            })
            .collect();
        let won: Vec<u32> = takers
            .into_iter()
            .filter_map(|t| t.join().unwrap())
            .collect();
        assert_eq!(won, [1], "exactly one taker resumes at record 1");
    })
}

model_runners!(
    mutants = [RoleTakeoverWithoutCas, RoleTakeoverOfLiveOwner],
    run_crash => crash,
    run_race => race,
);
