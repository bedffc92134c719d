//! Loom models of the `mpmc` ring (Vyukov's bounded queue).
//!
//! - `mpmc`: capacity 2, producer threads pushing 2 and 1 records (blocking), one consumer popping
//!   3; preemption bound 2 (each extra preemption costs ~8×; see DESIGN.md).
//! - `mpmc-consumers`: capacity 2, one producer pushing 2 records then closing, two consumers
//!   popping until `Closed`; preemption bound 1.
//! - `mpmc-batch`: capacity 2, two producers each `push_slice`-ing 2 records (blocking, until
//!   all are in), one consumer `pop_slice`-ing into a buffer of 2 until it has all 4; preemption
//!   bound 1. Catches `mpmc-batch-unchecked` (a run claimed past a slot not free / not
//!   published).
//!
//! Checked: per-producer FIFO as seen by each consumer, no loss, no duplicate, no data race on
//! payload cells, no lost wakeup (blocking forms terminate).

use super::harness::{explore, Explored, ModelOptions, ModelSpec};
use crate::mutant_dispatch;
use loom::thread;
use synclab_core::model::Mpmc;
use synclab_core::model::{Memory, Mutant};

/// Two producers, one consumer.
pub static PRODUCERS: ModelSpec = ModelSpec {
    name: "mpmc",
    about: "mpmc ring, blocking: capacity 2, 2 producers (2 + 1 records), 1 consumer",
    default_preemptions: Some(2),
    mutants: &[Mutant::MpmcRelaxedPublish, Mutant::MpmcClaimWithoutCas],
    run: |m, o| mutant_dispatch!(m, o, producers, [MpmcRelaxedPublish, MpmcClaimWithoutCas]),
};

/// One producer, two consumers, close.
pub static CONSUMERS: ModelSpec = ModelSpec {
    name: "mpmc-consumers",
    about: "mpmc ring, blocking + close: capacity 2, 1 producer x 2 records, 2 consumers",
    default_preemptions: Some(1),
    mutants: &[Mutant::MpmcRelaxedPublish],
    run: |m, o| mutant_dispatch!(m, o, consumers, [MpmcRelaxedPublish]),
};

/// Two batch producers, one batch consumer.
pub static BATCH: ModelSpec = ModelSpec {
    name: "mpmc-batch",
    about: "mpmc ring, push_slice/pop_slice: capacity 2, 2 producers x 2 records, 1 consumer",
    default_preemptions: Some(1),
    mutants: &[Mutant::MpmcBatchUnchecked],
    run: |m, o| mutant_dispatch!(m, o, batch, [MpmcBatchUnchecked]),
};

fn batch<M: Memory>(o: &ModelOptions) -> Explored {
    explore(o, || {
        let q = Mpmc::<u32, M>::builder().capacity(2).heap().unwrap();
        let spawn_producer = |id: u32| {
            let q = q.clone();
            thread::spawn(move || {
                let values = [id * 10, id * 10 + 1];
                let mut done = 0;
                while done < values.len() {
                    done += q.push_slice(&values[done..]).unwrap();
                }
            })
        };
        let p0 = spawn_producer(0);
        let p1 = spawn_producer(1);
        let qc = q.clone();
        let c = thread::spawn(move || {
            let mut got = Vec::new();
            let mut buf = [0u32; 2];
            while got.len() < 4 {
                let k = qc.pop_slice(&mut buf).unwrap();
                assert!((1..=2).contains(&k), "a run of 1 or 2 records");
                got.extend_from_slice(&buf[..k]);
            }
            got
        });
        p0.join().unwrap();
        p1.join().unwrap();
        let got = c.join().unwrap();
        for id in 0..2 {
            let mine: Vec<u32> = got.iter().copied().filter(|v| v / 10 == id).collect();
            assert_eq!(
                mine,
                [id * 10, id * 10 + 1],
                "per-producer FIFO, no loss, no duplicate"
            );
        }
    })
}

fn producers<M: Memory>(o: &ModelOptions) -> Explored {
    explore(o, || {
        let q = Mpmc::<u32, M>::builder().capacity(2).heap().unwrap();
        let spawn_producer = |id: u32| {
            let q = q.clone();
            thread::spawn(move || {
                for i in 0..2 - id {
                    q.push(id * 10 + i).unwrap();
                }
            })
        };
        let p0 = spawn_producer(0);
        let p1 = spawn_producer(1);
        let qc = q.clone();
        let c = thread::spawn(move || (0..3).map(|_| qc.pop().unwrap()).collect::<Vec<u32>>());
        p0.join().unwrap();
        p1.join().unwrap();
        let got = c.join().unwrap();
        for id in 0..2 {
            let mine: Vec<u32> = got.iter().copied().filter(|v| v / 10 == id).collect();
            let want: Vec<u32> = (0..2 - id).map(|i| id * 10 + i).collect();
            assert_eq!(mine, want, "per-producer FIFO, no loss, no duplicate");
        }
    })
}

fn consumers<M: Memory>(o: &ModelOptions) -> Explored {
    explore(o, || {
        let q = Mpmc::<u32, M>::builder().capacity(2).heap().unwrap();
        let qp = q.clone();
        let p = thread::spawn(move || {
            for i in 0..2 {
                qp.push(i).unwrap();
            }
            qp.close();
        });
        let spawn_consumer = || {
            let q = q.clone();
            thread::spawn(move || {
                let mut got = Vec::new();
                while let Ok(v) = q.pop() {
                    got.push(v);
                }
                got
            })
        };
        let c0 = spawn_consumer();
        let c1 = spawn_consumer();
        p.join().unwrap();
        let a = c0.join().unwrap();
        let b = c1.join().unwrap();
        assert!(a.windows(2).all(|w| w[0] < w[1]), "FIFO per consumer");
        assert!(b.windows(2).all(|w| w[0] < w[1]), "FIFO per consumer");
        let mut all: Vec<u32> = a.into_iter().chain(b).collect();
        all.sort_unstable();
        assert_eq!(all, vec![0, 1], "no loss, no duplicate");
    })
}
