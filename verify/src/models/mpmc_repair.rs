//! Loom model of the mpmc slot repair (`core/src/ring/mpmc/repair.rs`): a producer or consumer
//! process dies holding a slot, and survivors repair it (a tombstone for a dead producer's
//! position, a freed slot for a dead consumer's) while others push, pop and repair at once.
//!
//! Processes are loom threads with a [`LoomProcess`](super::loom_process::LoomProcess) each over
//! one [`PidTable`]; a process dies by stopping inside an operation at a [`CrashPoint`] (after
//! recording itself as the slot's claimer, or after writing/reading the record) and then having
//! its pid's entry cleared, so its death is observed after its last step. The one-instruction
//! window between winning a position and recording the claimer is not modelled: it is the
//! documented unrepaired case. Bounds: capacity 2, pids 1..=3, preemption bound 1.
//!
//! - `producer dies` (crash after recording itself, after writing, or none): after one lap,
//!   P1 pushes 10 and dies, while P2 pushes 20 and 21 (repairing when full; 21 lands in P1's
//!   slot) and consumer C pops once (repairing when empty); then a drain pops and repairs what
//!   is left. Checked: P2's records arrive exactly once, in order; 10 arrives iff P1 published
//!   it; nothing else arrives.
//! - `consumer dies` (crash after reading): the queue holds 1 and 2; C1 pops and dies while C2
//!   pops once (repairing when empty) and P pushes 3 (repairing when full); then a drain.
//!   Checked: exactly one of 1 and 2 (the one C1 claimed) is lost, nothing is duplicated, 3
//!   arrives iff pushed, and at most one slot was freed.
//!
//! Preemption bound 1: the interleavings that matter (a repairer preempted between judging the
//! slot and moving it on, while another holder works; a repairer running inside a live holder's
//! window) need one preemption each.

use super::harness::{explore, in_turn, Explored, ModelOptions, ModelSpec};
use super::loom_process::PidTable;
use crate::model_runners;
use loom::sync::Mutex;
use loom::thread;
use std::sync::Arc;
use synclab_core::model::{CrashPoint, Memory, Mpmc, Mutant, ProcessKey};
use synclab_core::RingError;

/// The repair model.
pub static REPAIR: ModelSpec = ModelSpec {
    name: "mpmc-repair",
    about: "mpmc slot repair: a producer dies holding a slot (after recording itself, after \
            writing, or not at all) while survivors push, pop and tombstone it; a consumer dies \
            holding a slot while survivors free it (capacity 2, pids 1..=3)",
    default_preemptions: Some(1),
    mutants: &[Mutant::MpmcRepairWithoutCas, Mutant::MpmcRepairLiveClaimer],
    run: |m, o| {
        in_turn(
            &[
                producer_dies_after_record,
                producer_dies_after_data,
                producer_completes,
                consumer_dies_after_data,
            ],
            m,
            o,
        )
    },
};

pub(crate) fn key(pid: u32) -> ProcessKey {
    ProcessKey { pid, start: 1 }
}

/// A capacity-2 queue as process 3 sees it.
pub(crate) fn queue<M: Memory>(table: &Arc<PidTable>) -> Mpmc<u32, M> {
    Mpmc::<u32, M>::builder()
        .capacity(2)
        .process_env(table.spawn(key(3)))
        .heap()
        .unwrap()
}

/// Pops once; on `Empty`, repairs instead. Appends what it popped to `got`.
pub(crate) fn pop_or_repair<M: Memory>(q: &Mpmc<u32, M>, got: &Mutex<Vec<u32>>) -> bool {
    match q.try_pop() {
        Ok(v) => {
            got.lock().unwrap().push(v);
            true
        }
        Err(RingError::Empty) => q.repair().unwrap() > 0,
        Err(e) => panic!("pop failed: {e}"),
    }
}

/// Pushes `v`, repairing once when full: whether it was pushed.
pub(crate) fn push_or_repair<M: Memory>(q: &Mpmc<u32, M>, v: u32) -> bool {
    for _ in 0..2 {
        match q.try_push(v) {
            Ok(()) => return true,
            Err(RingError::Full) => {
                q.repair().unwrap();
            }
            Err(e) => panic!("push failed: {e}"),
        }
    }
    false
}

/// After every process has stopped: pop and repair until nothing more comes.
pub(crate) fn drain<M: Memory>(
    q: Mpmc<u32, M>,
    got: Arc<Mutex<Vec<u32>>>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        for _ in 0..8 {
            if !pop_or_repair(&q, &got) {
                break;
            }
        }
        assert_eq!(q.try_pop(), Err(RingError::Empty), "drained");
    })
}

fn producer_dies<M: Memory>(o: &ModelOptions, crash: CrashPoint) -> Explored {
    explore(o, move || {
        let table = PidTable::new();
        let q = queue::<M>(&table);
        // One lap done: P1's position (1) is in slot 1, which P2's second push (3) reaches.
        q.try_push(0).unwrap();
        assert_eq!(q.try_pop(), Ok(0));
        let got = Arc::new(Mutex::new(Vec::new()));
        let (p1, t) = (q.handle_as(table.spawn(key(1))), Arc::clone(&table));
        let dying = thread::spawn(move || {
            let claimed = match p1.try_push_crashing(10, crash) {
                Ok(()) => true,
                Err(RingError::Full) => false,
                Err(e) => panic!("push failed: {e}"),
            };
            t.kill(1);
            claimed
        });
        let p2 = q.handle_as(table.spawn(key(2)));
        let survivor = thread::spawn(move || {
            let pushed_20 = push_or_repair(&p2, 20);
            (pushed_20, pushed_20 && push_or_repair(&p2, 21))
        });
        let (c, g) = (q.clone(), Arc::clone(&got));
        let consumer = thread::spawn(move || {
            pop_or_repair(&c, &g);
        });
        let claimed = dying.join().unwrap();
        let (pushed_20, pushed_21) = survivor.join().unwrap();
        consumer.join().unwrap();
        drain(q, Arc::clone(&got)).join().unwrap();
        let got = got.lock().unwrap().clone();
        let mine: Vec<u32> = got.iter().copied().filter(|&v| v != 10).collect();
        let want: Vec<u32> = [(pushed_20, 20), (pushed_21, 21)]
            .iter()
            .filter_map(|&(pushed, v)| pushed.then_some(v))
            .collect();
        assert_eq!(
            mine, want,
            "the survivor's records, once each, in order: {got:?}"
        );
        let tens = got.iter().filter(|&&v| v == 10).count();
        let published = claimed && crash == CrashPoint::Never;
        assert_eq!(
            tens,
            usize::from(published),
            "10 arrives iff published: {got:?}"
        );
    })
}

fn consumer_dies<M: Memory>(o: &ModelOptions, crash: CrashPoint) -> Explored {
    explore(o, move || {
        let table = PidTable::new();
        let q = queue::<M>(&table);
        q.try_push(1).unwrap();
        q.try_push(2).unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let (c1, t) = (q.handle_as(table.spawn(key(1))), Arc::clone(&table));
        let dying = thread::spawn(move || {
            assert_eq!(c1.try_pop_crashing(crash).unwrap(), None);
            t.kill(1);
        });
        let (c2, g) = (q.handle_as(table.spawn(key(2))), Arc::clone(&got));
        let consumer = thread::spawn(move || {
            pop_or_repair(&c2, &g);
        });
        let p = q.clone();
        let producer = thread::spawn(move || push_or_repair(&p, 3));
        dying.join().unwrap();
        consumer.join().unwrap();
        let pushed_3 = producer.join().unwrap();
        let repairs = q.clone();
        drain(q, Arc::clone(&got)).join().unwrap();
        let mut got = got.lock().unwrap().clone();
        assert!(got.windows(2).all(|w| w[0] < w[1]), "FIFO: {got:?}");
        got.sort_unstable();
        let lost = [1, 2].iter().filter(|v| !got.contains(v)).count();
        assert_eq!(
            lost, 1,
            "exactly the dead consumer's record is lost: {got:?}"
        );
        assert_eq!(got.contains(&3), pushed_3, "3 arrives iff pushed: {got:?}");
        assert_eq!(
            got.len(),
            1 + usize::from(pushed_3),
            "no duplicate: {got:?}"
        );
        let r = repairs.repairs();
        // The dead consumer's slot is freed only once someone waits on it: at most once.
        assert!(
            r.tombstones == 0 && r.dropped <= 1,
            "one slot freed at most: {r:?}"
        );
    })
}

fn after_record<M: Memory>(o: &ModelOptions) -> Explored {
    producer_dies::<M>(o, CrashPoint::AfterRecord)
}
fn after_data<M: Memory>(o: &ModelOptions) -> Explored {
    producer_dies::<M>(o, CrashPoint::AfterData)
}
fn completes<M: Memory>(o: &ModelOptions) -> Explored {
    producer_dies::<M>(o, CrashPoint::Never)
}
fn c_after_data<M: Memory>(o: &ModelOptions) -> Explored {
    consumer_dies::<M>(o, CrashPoint::AfterData)
}

model_runners!(
    mutants = [MpmcRepairWithoutCas, MpmcRepairLiveClaimer],
    producer_dies_after_record => after_record,
    producer_dies_after_data => after_data,
    producer_completes => completes,
    consumer_dies_after_data => c_after_data,
);
