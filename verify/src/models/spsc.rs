//! Loom models of the `spsc` ring.
//!
//! Bounds: capacity 2, 3 records, one producer thread and one consumer thread (main only spawns
//! and joins). Checked in every interleaving: FIFO order, no loss, no duplicate (the consumer
//! asserts it pops exactly 0, 1, 2), no data race on payload cells (loom tracks each cell), no
//! lost wakeup (a parked side that is never woken is a loom deadlock).

use super::harness::{explore, Explored, Held, ModelOptions, ModelSpec};
use crate::mutant_dispatch;
use loom::thread;
use synclab_core::model::Spsc;
use synclab_core::model::{Memory, Mutant};
use synclab_core::Wakeups;

const ITEMS: u32 = 3;

/// Blocking `push`/`pop` (spin, then park on the eventcount).
pub static BLOCKING: ModelSpec = ModelSpec {
    name: "spsc",
    about: "spsc ring, blocking push/pop: capacity 2, 3 records, 1 producer / 1 consumer",
    default_preemptions: Some(2),
    mutants: &[Mutant::SpscRelaxedPublish, Mutant::SpscFullOffByOne],
    run: |m, o| mutant_dispatch!(m, o, blocking, [SpscRelaxedPublish, SpscFullOffByOne]),
};

/// Blocking forms on a `Wakeups::Spin` ring: no parking, no notify fence.
pub static SPIN: ModelSpec = ModelSpec {
    name: "spsc-spin",
    about: "spsc ring created with Wakeups::Spin (never parks): capacity 2, 3 records, 1P/1C",
    default_preemptions: Some(2),
    mutants: &[Mutant::SpscRelaxedPublish, Mutant::SpscFullOffByOne],
    run: |m, o| mutant_dispatch!(m, o, spin, [SpscRelaxedPublish, SpscFullOffByOne]),
};

/// Blocking forms on a `Wakeups::FutexFenced` ring: the eventcounts' `Fences::Symmetric`
/// handshake (a `SeqCst` fence on both sides), which the other models never run (under loom
/// every thread has joined the asymmetric barriers, so `Wakeups::Futex` takes the other path).
pub static FENCED: ModelSpec = ModelSpec {
    name: "spsc-fenced",
    about: "spsc ring created with Wakeups::FutexFenced (SeqCst fences on both sides of the \
            park handshake): capacity 2, 3 records, 1P/1C",
    default_preemptions: Some(2),
    mutants: &[
        Mutant::SpscRelaxedPublish,
        Mutant::EventcountNoFence,
        Mutant::EventcountNoHeavyFence,
    ],
    run: |m, o| {
        mutant_dispatch!(
            m,
            o,
            fenced,
            [
                SpscRelaxedPublish,
                EventcountNoFence,
                EventcountNoHeavyFence
            ]
        )
    },
};

/// Non-blocking batch `push_slice`/`pop_slice` with yields.
pub static BATCH: ModelSpec = ModelSpec {
    name: "spsc-batch",
    about: "spsc ring, batch push_slice/pop_slice: capacity 2, 3 records, 1 producer / 1 consumer",
    default_preemptions: Some(2),
    mutants: &[Mutant::SpscRelaxedPublish, Mutant::SpscFullOffByOne],
    run: |m, o| mutant_dispatch!(m, o, batch, [SpscRelaxedPublish, SpscFullOffByOne]),
};

fn blocking<M: Memory>(o: &ModelOptions) -> Explored {
    blocking_with::<M>(o, Wakeups::Futex)
}

fn fenced<M: Memory>(o: &ModelOptions) -> Explored {
    blocking_with::<M>(o, Wakeups::FutexFenced)
}

fn spin<M: Memory>(o: &ModelOptions) -> Explored {
    blocking_with::<M>(o, Wakeups::Spin)
}

/// Blocking `push`/`pop` of `ITEMS` records through a capacity-2 ring made with `wakeups`.
fn blocking_with<M: Memory>(o: &ModelOptions, wakeups: Wakeups) -> Explored {
    explore(o, move || {
        let ring = Spsc::<u32, M>::builder()
            .capacity(2)
            .wakeups(wakeups)
            .heap()
            .unwrap();
        let mut producer = Held::new(ring.producer().unwrap());
        let mut consumer = Held::new(ring.consumer().unwrap());
        let p = thread::spawn(move || {
            for i in 0..ITEMS {
                producer.push(i).unwrap();
            }
        });
        let c = thread::spawn(move || {
            for i in 0..ITEMS {
                assert_eq!(consumer.pop().unwrap(), i, "FIFO, no loss, no duplicate");
            }
        });
        p.join().unwrap();
        c.join().unwrap();
    })
}

fn batch<M: Memory>(o: &ModelOptions) -> Explored {
    explore(o, || {
        let ring = Spsc::<u32, M>::builder().capacity(2).heap().unwrap();
        let mut producer = Held::new(ring.producer().unwrap());
        let mut consumer = Held::new(ring.consumer().unwrap());
        let p = thread::spawn(move || {
            let items: Vec<u32> = (0..ITEMS).collect();
            let mut sent = 0;
            while sent < items.len() {
                let n = producer.push_slice(&items[sent..]).unwrap();
                sent += n;
                if n == 0 {
                    thread::yield_now();
                }
            }
        });
        let c = thread::spawn(move || {
            let mut got = Vec::new();
            let mut buf = [0u32; 3];
            while got.len() < ITEMS as usize {
                let n = consumer.pop_slice(&mut buf).unwrap();
                got.extend_from_slice(&buf[..n]);
                if n == 0 {
                    thread::yield_now();
                }
            }
            assert_eq!(
                got,
                (0..ITEMS).collect::<Vec<_>>(),
                "FIFO, no loss, no duplicate"
            );
        });
        p.join().unwrap();
        c.join().unwrap();
    })
}
