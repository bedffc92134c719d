//! Loom models of the `spsc` ring.
//!
//! Bounds: capacity 2, 3 records, one producer thread and one consumer thread (main only spawns
//! and joins). Checked in every interleaving: FIFO order, no loss, no duplicate (the consumer
//! asserts it pops exactly 0, 1, 2), no data race on payload cells (loom tracks each cell), no
//! lost wakeup (a parked side that is never woken is a loom deadlock).

use super::harness::{explore, Explored, Held, ModelOptions, ModelSpec};
use crate::mutant_dispatch;
use loom::thread;
use synclab_core::model::{Consumer, Memory, Mutant, Producer, Spsc};
use synclab_core::Wakeups;

/// Records each spsc model moves.
pub(super) const ITEMS: u32 = 3;

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

/// What the spsc models share: `produce` runs with `ring`'s producer and `consume` with its
/// consumer, each in a spawned thread (main only spawns and joins); `consume` returns the records
/// it got, which must be exactly `0..ITEMS` (FIFO, no loss, no duplicate). The handles are
/// [`Held`]: not dropped while loom unwinds a failure.
pub(super) fn one_to_one<M: Memory>(
    ring: Spsc<u32, M>,
    produce: impl FnOnce(&mut Producer<u32, M>) + Send + 'static,
    consume: impl FnOnce(&mut Consumer<u32, M>) -> Vec<u32> + Send + 'static,
) {
    let mut producer = Held::new(ring.producer().unwrap());
    let mut consumer = Held::new(ring.consumer().unwrap());
    let p = thread::spawn(move || produce(&mut producer));
    let c = thread::spawn(move || {
        let got = consume(&mut consumer);
        assert_eq!(
            got,
            (0..ITEMS).collect::<Vec<_>>(),
            "FIFO, no loss, no duplicate"
        );
    });
    p.join().unwrap();
    c.join().unwrap();
}

/// Pushes `0..ITEMS` with `push_slice`, yielding while full; `end(sent)` is where the slice of
/// each attempt ends.
pub(super) fn push_all<M: Memory>(producer: &mut Producer<u32, M>, end: impl Fn(usize) -> usize) {
    let items: Vec<u32> = (0..ITEMS).collect();
    let mut sent = 0;
    while sent < items.len() {
        let n = producer.push_slice(&items[sent..end(sent)]).unwrap();
        sent += n;
        if n == 0 {
            thread::yield_now();
        }
    }
}

/// Blocking `push`/`pop` of `ITEMS` records through a capacity-2 ring made with `wakeups`.
fn blocking_with<M: Memory>(o: &ModelOptions, wakeups: Wakeups) -> Explored {
    explore(o, move || {
        let ring = Spsc::<u32, M>::builder()
            .capacity(2)
            .wakeups(wakeups)
            .heap()
            .unwrap();
        one_to_one(
            ring,
            |producer| {
                for i in 0..ITEMS {
                    producer.push(i).unwrap();
                }
            },
            |consumer| {
                (0..ITEMS)
                    .map(|i| {
                        let got = consumer.pop().unwrap();
                        assert_eq!(got, i, "FIFO, no loss, no duplicate");
                        got
                    })
                    .collect()
            },
        );
    })
}

fn batch<M: Memory>(o: &ModelOptions) -> Explored {
    explore(o, || {
        let ring = Spsc::<u32, M>::builder().capacity(2).heap().unwrap();
        one_to_one(
            ring,
            |producer| push_all(producer, |_| ITEMS as usize),
            |consumer| {
                let mut got = Vec::new();
                let mut buf = [0u32; 3];
                while got.len() < ITEMS as usize {
                    let n = consumer.pop_slice(&mut buf).unwrap();
                    got.extend_from_slice(&buf[..n]);
                    if n == 0 {
                        thread::yield_now();
                    }
                }
                got
            },
        );
    })
}
