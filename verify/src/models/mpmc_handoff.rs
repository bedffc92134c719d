//! Loom model of a repaired slot handed on to a third process (`core/src/ring/mpmc/repair.rs`):
//! a consumer dies after reading its record, a *second consumer* frees the dead one's slot
//! (finding the queue empty, it repairs), and a *producer* (a third process) then writes the
//! freed slot. In `mpmc-repair` the process that frees a slot is always the one that then
//! writes it (a producer repairing when full) or the drain after every thread joined, so the
//! hand-over from repairer to writer is never tested there.
//!
//! What carries the hand-over: the dead consumer's read happens-before its death; the
//! repairer's observation of the death (`is_alive`, an `Acquire` of the pid table here, the
//! kernel on Linux) happens-before its `Release` CAS of `seq`; the producer's `Acquire` load of
//! `seq` happens-after that, so its write of the cell happens-after the dead consumer's read.
//!
//! Bounds: capacity 2, pids 1..=3, preemption bound 1 (as `mpmc-repair`). The queue holds 1 and
//! 2; C1 pops and dies after reading; C2 pops twice, repairing when it finds the queue empty;
//! P pushes 3 (repairing once when full). Checked: exactly the record C1 died holding is lost (none
//! if it found the queue empty), nothing is duplicated or invented, at most one slot was freed,
//! and no data race on a cell.

use super::harness::{explore, Explored, ModelOptions, ModelSpec};
use super::loom_process::PidTable;
use super::mpmc_repair::{drain, key, pop_or_repair, push_or_repair, queue};
use crate::mutant_dispatch;
use loom::sync::Mutex;
use loom::thread;
use std::sync::Arc;
use synclab_core::model::{CrashPoint, Memory, Mutant};
use synclab_core::RingError;

/// The hand-over model.
pub static HANDOFF: ModelSpec = ModelSpec {
    name: "mpmc-repair-handoff",
    about: "mpmc repair handed on: a consumer dies after reading, a second consumer frees its \
            slot, a producer (a third process) writes it (capacity 2, pids 1..=3)",
    default_preemptions: Some(1),
    mutants: &[Mutant::MpmcRepairWithoutCas, Mutant::MpmcRepairLiveClaimer],
    run: |m, o| mutant_dispatch!(m, o, handoff, [MpmcRepairWithoutCas, MpmcRepairLiveClaimer]),
};

fn handoff<M: Memory>(o: &ModelOptions) -> Explored {
    explore(o, || {
        let table = PidTable::new();
        let q = queue::<M>(&table);
        q.try_push(1).unwrap();
        q.try_push(2).unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let (c1, t) = (q.handle_as(table.spawn(key(1))), Arc::clone(&table));
        let dying = thread::spawn(move || {
            // C2 may have popped both first: then C1 finds the queue empty and holds nothing.
            let held = match c1.try_pop_crashing(CrashPoint::AfterData) {
                Ok(None) => true,
                Err(RingError::Empty) => false,
                other => panic!("a pop that stops after reading returned {other:?}"),
            };
            t.kill(1);
            held
        });
        let (c2, g) = (q.handle_as(table.spawn(key(2))), Arc::clone(&got));
        let consumer = thread::spawn(move || {
            for _ in 0..2 {
                pop_or_repair(&c2, &g);
            }
        });
        let p = q.clone();
        let producer = thread::spawn(move || push_or_repair(&p, 3));
        let held = dying.join().unwrap();
        consumer.join().unwrap();
        let pushed_3 = producer.join().unwrap();
        let repairs = q.clone();
        drain(q, Arc::clone(&got)).join().unwrap();
        let mut got = got.lock().unwrap().clone();
        got.sort_unstable();
        assert!(got.windows(2).all(|w| w[0] < w[1]), "no duplicate: {got:?}");
        let pushed: Vec<u32> = [(true, 1), (true, 2), (pushed_3, 3)]
            .iter()
            .filter_map(|&(p, v)| p.then_some(v))
            .collect();
        assert!(
            got.iter().all(|v| pushed.contains(v)),
            "only pushed records: {got:?}"
        );
        let lost = pushed.iter().filter(|v| !got.contains(v)).count();
        assert_eq!(
            lost,
            usize::from(held),
            "exactly the dead consumer's record is lost: {got:?}"
        );
        let r = repairs.repairs();
        assert!(
            r.tombstones == 0 && r.dropped <= 1,
            "one slot freed at most: {r:?}"
        );
    })
}
