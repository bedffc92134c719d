//! The shuttle scenarios: one test body per object at sizes loom cannot reach, shared by the
//! shuttle tests (`verify/tests/shuttle_rings.rs`, `shuttle_sem.rs`, which state their seeds,
//! iteration counts and planted bugs) and by the kill matrix's shuttle column
//! ([`super::column`]). Each body panics when an execution breaks the object's contract.
//!
//! - [`mpmc_4x4`]: 4 producers × 4 consumers, capacity 4, 100 items, history checked by
//!   `synclab-lin` as a bounded FIFO queue, per-producer order, no loss, no duplicate;
//! - [`spsc_many`]: 200 items through capacity 4, exact FIFO, linearizable history;
//! - [`frames_many`]: 100 frames of 0..=16 bytes through a 64-byte buffer, in order, intact;
//! - [`six_contenders`]: a semaphore of 2 permits, five single acquirers (3 rounds each) and
//!   one `acquire_many(2)` (2 rounds): occupancy never above 2, the count ends at 2 with no
//!   waiter, and the history is linearizable as a semaphore.

use super::record::Recorder;
use crate::models::harness::Held;
use ::shuttle::thread;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::Arc;
use synclab_core::model::{Frames, Memory, Mpmc, Semaphore, Spsc};
use synclab_lin::{Model, OpKind};

/// mpmc producers.
pub const PRODUCERS: u64 = 4;
/// mpmc consumers.
pub const CONSUMERS: u64 = 4;
/// mpmc capacity.
pub const MPMC_CAPACITY: usize = 4;
/// Values each mpmc producer pushes (and each consumer pops).
pub const PER_PRODUCER: u64 = 25;

/// 4 producers push 25 distinct values each, 4 consumers pop 25 each (blocking forms); the
/// history must be linearizable as a FIFO queue of capacity 4, and the popped values are the
/// pushed ones, each once, every producer's in its order.
pub fn mpmc_4x4<M: Memory>() {
    let q = Mpmc::<u64, M>::builder()
        .capacity(MPMC_CAPACITY)
        .heap()
        .unwrap();
    let rec = Arc::new(Recorder::new(Model::Queue {
        capacity: Some(MPMC_CAPACITY as u64),
    }));
    let mut producers = Vec::new();
    for p in 0..PRODUCERS {
        let (q, rec) = (q.clone(), Arc::clone(&rec));
        producers.push(thread::spawn(move || {
            for i in 0..PER_PRODUCER {
                let v = p * 1000 + i;
                rec.record(
                    p,
                    || q.push(v),
                    |r| (OpKind::Enqueue { value: v as i64 }, r.is_ok()),
                )
                .unwrap_or_else(|e| panic!("push {v}: {e}"));
            }
        }));
    }
    let mut consumers = Vec::new();
    for c in 0..CONSUMERS {
        let (q, rec) = (q.clone(), Arc::clone(&rec));
        consumers.push(thread::spawn(move || {
            (0..PER_PRODUCER)
                .map(|_| {
                    rec.record(
                        PRODUCERS + c,
                        || q.pop(),
                        |r| {
                            let value = r.as_ref().ok().map(|v| *v as i64);
                            (OpKind::Dequeue { value }, r.is_ok())
                        },
                    )
                    .unwrap_or_else(|e| panic!("pop: {e}"))
                })
                .collect::<Vec<u64>>()
        }));
    }
    for p in producers {
        p.join().unwrap();
    }
    let got: Vec<Vec<u64>> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
    for (c, mine) in got.iter().enumerate() {
        for p in 0..PRODUCERS {
            let from_p: Vec<u64> = mine.iter().copied().filter(|v| v / 1000 == p).collect();
            assert!(
                from_p.windows(2).all(|w| w[0] < w[1]),
                "consumer {c} got producer {p}'s values out of order: {from_p:?}"
            );
        }
    }
    let mut all: Vec<u64> = got.concat();
    all.sort_unstable();
    let want: Vec<u64> = (0..PRODUCERS)
        .flat_map(|p| (0..PER_PRODUCER).map(move |i| p * 1000 + i))
        .collect();
    assert_eq!(all, want, "no loss, no duplicate");
    if let Err(e) = rec.check() {
        panic!("{e}");
    }
}

/// Records through the spsc ring.
pub const SPSC_ITEMS: u64 = 200;

/// One producer pushes 200 values through capacity 4, one consumer pops them: exact FIFO, and a
/// linearizable history.
pub fn spsc_many<M: Memory>() {
    let ring = Spsc::<u64, M>::builder().capacity(4).heap().unwrap();
    let rec = Arc::new(Recorder::new(Model::Queue { capacity: Some(4) }));
    let mut producer = Held::new(ring.producer().unwrap());
    let mut consumer = Held::new(ring.consumer().unwrap());
    let rp = Arc::clone(&rec);
    let p = thread::spawn(move || {
        for v in 0..SPSC_ITEMS {
            rp.record(
                0,
                || producer.push(v),
                |r| (OpKind::Enqueue { value: v as i64 }, r.is_ok()),
            )
            .unwrap_or_else(|e| panic!("push {v}: {e}"));
        }
    });
    let rc = Arc::clone(&rec);
    let c = thread::spawn(move || {
        for want in 0..SPSC_ITEMS {
            let got = rc
                .record(
                    1,
                    || consumer.pop(),
                    |r| {
                        let value = r.as_ref().ok().map(|v| *v as i64);
                        (OpKind::Dequeue { value }, r.is_ok())
                    },
                )
                .unwrap_or_else(|e| panic!("pop: {e}"));
            assert_eq!(got, want, "FIFO, no loss, no duplicate");
        }
    });
    p.join().unwrap();
    c.join().unwrap();
    if let Err(e) = rec.check() {
        panic!("{e}");
    }
}

/// Frames through the frames ring.
pub const FRAMES: usize = 100;

/// Frame `i`'s bytes (0..=16 of them).
pub fn frame(i: usize) -> Vec<u8> {
    (0..(i * 7) % 17).map(|k| (i * 31 + k) as u8).collect()
}

/// 100 frames of 0..=16 bytes through a 64-byte buffer (many wraps and padding markers): each
/// arrives in order and intact.
pub fn frames_many<M: Memory>() {
    let ring = Frames::<M>::builder().capacity(64).heap().unwrap();
    let mut producer = Held::new(ring.producer().unwrap());
    let mut consumer = Held::new(ring.consumer().unwrap());
    let p = thread::spawn(move || {
        for i in 0..FRAMES {
            producer
                .send(&frame(i), None)
                .unwrap_or_else(|e| panic!("send {i}: {e}"));
        }
    });
    let c = thread::spawn(move || {
        for i in 0..FRAMES {
            let got = consumer
                .read(None, |b| b.to_vec())
                .unwrap_or_else(|e| panic!("read {i}: {e}"));
            assert_eq!(got, frame(i), "frame {i} in order and intact");
        }
    });
    p.join().unwrap();
    c.join().unwrap();
}

/// The semaphore's permits (and maximum).
pub const PERMITS: u32 = 2;
/// Single-permit contenders (plus one `acquire_many(2)` contender).
pub const SINGLES: u64 = 5;
/// Rounds of each single-permit contender.
pub const ROUNDS: u32 = 3;

/// Takes `n` permits as process `id`, holds them (occupancy checked), gives them back; each
/// call recorded.
fn hold<M: Memory>(id: u64, n: u32, sem: &Semaphore<M>, rec: &Recorder, occupied: &AtomicU32) {
    rec.record(
        id,
        || {
            if n == 1 {
                sem.acquire()
            } else {
                sem.acquire_many(n)
            }
        },
        |r| (OpKind::Acquire { n: n as u64 }, r.is_ok()),
    )
    .unwrap_or_else(|e| panic!("acquire {n}: {e}"))
    .forget();
    // SeqCst, a std atomic: no scheduling point of its own; the count is only checked here.
    let now = occupied.fetch_add(n, SeqCst) + n;
    assert!(now <= PERMITS, "{now} permits held of {PERMITS}");
    occupied.fetch_sub(n, SeqCst);
    rec.record(
        id,
        || sem.release(n),
        |r| (OpKind::Release { n: n as u64 }, r.is_ok()),
    )
    .unwrap_or_else(|e| panic!("release {n}: {e}"));
}

/// Six contenders on a semaphore of 2 permits (module docs).
pub fn six_contenders<M: Memory>() {
    let sem = Arc::new(
        Semaphore::<M>::builder()
            .permits(PERMITS)
            .max(PERMITS)
            .heap()
            .unwrap(),
    );
    let rec = Arc::new(Recorder::new(Model::Semaphore {
        permits: PERMITS as u64,
    }));
    let occupied = Arc::new(AtomicU32::new(0));
    let mut hs = Vec::new();
    for id in 0..=SINGLES {
        let (sem, rec, occupied) = (Arc::clone(&sem), Arc::clone(&rec), Arc::clone(&occupied));
        hs.push(thread::spawn(move || {
            let (n, rounds) = if id == SINGLES { (2, 2) } else { (1, ROUNDS) };
            for _ in 0..rounds {
                hold(id, n, &sem, &rec, &occupied);
            }
        }));
    }
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(sem.value().unwrap(), PERMITS, "count must end at {PERMITS}");
    assert_eq!(sem.waiters(), 0, "no waiter may stay registered");
    if let Err(e) = rec.check() {
        panic!("{e}");
    }
}
