//! The rings' shipped code under shuttle (`verify/src/shuttle/`) at sizes loom cannot reach:
//! mpmc with 4 producers × 4 consumers, capacity 4, 100 items; spsc with 200 items through
//! capacity 4; frames with 100 variable-length frames through a 64-byte buffer. Each runs under
//! the random and the PCT scheduler with fixed seeds and the iteration counts below, and every
//! execution's history is checked by `synclab-lin` (queues) or by content checks (frames).
//! A planted bug (`MpmcClaimWithoutCas`) must be found, and the schedule shuttle prints for it
//! must replay the same failure.
//!
//! Shuttle's executions are sequentially consistent: ordering mutants (`*RelaxedPublish`) are
//! out of its reach (loom's job); see `verify/src/shuttle/mod.rs`.

use ::shuttle::thread;
use std::sync::Arc;
use std::time::Instant;
use synclab_core::model::{Frames, Memory, Mpmc, Mutant, Spsc};
use synclab_lin::{Model, OpKind};
use synclab_verify::models::harness::Held;
use synclab_verify::shuttle::record::Recorder;
use synclab_verify::shuttle::run::{explore, replay, Failure, Plan, Scheduler};
use synclab_verify::shuttle::ShuttleMemory;

type Correct = ShuttleMemory<0>;
type ClaimWithoutCas = ShuttleMemory<{ Mutant::MpmcClaimWithoutCas as u32 }>;

const PRODUCERS: u64 = 4;
const CONSUMERS: u64 = 4;
const MPMC_CAPACITY: usize = 4;
const PER_PRODUCER: u64 = 25;

/// The two plans every configuration runs: random and PCT (depth 3), fixed seeds.
fn plans(iterations: usize) -> [Plan; 2] {
    [
        Plan {
            scheduler: Scheduler::Random,
            seed: 0x5EED_0001,
            iterations,
        },
        Plan {
            scheduler: Scheduler::Pct { depth: 3 },
            seed: 0x5EED_0002,
            iterations,
        },
    ]
}

fn must_pass<F: Fn() + Send + Sync + Copy + 'static>(what: &str, iterations: usize, body: F) {
    for plan in plans(iterations) {
        let start = Instant::now();
        let ran = explore(&plan, body).unwrap_or_else(|f| panic!("{what}: {}", f.message));
        eprintln!(
            "{what}: {plan:?}: {ran} executions passed in {:.2} s",
            start.elapsed().as_secs_f64()
        );
        assert_eq!(ran, iterations, "{what}: every execution ran");
    }
}

/// 4 producers push 25 distinct values each, 4 consumers pop 25 each (blocking forms); the
/// history must be linearizable as a FIFO queue of capacity 4, and the popped values are the
/// pushed ones, each once, every producer's in its order.
fn mpmc_4x4<M: Memory>() {
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

const SPSC_ITEMS: u64 = 200;

/// One producer pushes 200 values through capacity 4, one consumer pops them: exact FIFO, and a
/// linearizable history.
fn spsc_many<M: Memory>() {
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

const FRAMES: usize = 100;

fn frame(i: usize) -> Vec<u8> {
    (0..(i * 7) % 17).map(|k| (i * 31 + k) as u8).collect()
}

/// 100 frames of 0..=16 bytes through a 64-byte buffer (many wraps and padding markers): each
/// arrives in order and intact.
fn frames_many<M: Memory>() {
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

#[test]
fn shuttle_mpmc_4_producers_4_consumers_capacity_4_100_items() {
    must_pass("mpmc 4x4 cap 4, 100 items", 500, mpmc_4x4::<Correct>);
}

#[test]
fn shuttle_spsc_200_items() {
    must_pass("spsc cap 4, 200 items", 500, spsc_many::<Correct>);
}

#[test]
fn shuttle_frames_100_frames() {
    must_pass("frames 64 B, 100 frames", 1000, frames_many::<Correct>);
}

/// Finds the planted bug under `plan`, then replays the printed schedule: the replay must fail
/// with the same panic.
fn found_and_replayed(plan: &Plan) -> Failure {
    let start = Instant::now();
    let failure = match explore(plan, mpmc_4x4::<ClaimWithoutCas>) {
        Ok(n) => panic!("{plan:?}: MpmcClaimWithoutCas survived {n} executions"),
        Err(f) => f,
    };
    eprintln!(
        "{plan:?}: found in {:.2} s: {}",
        start.elapsed().as_secs_f64(),
        failure.message.lines().last().unwrap_or_default()
    );
    let schedule = failure
        .schedule
        .clone()
        .unwrap_or_else(|| panic!("no replayable schedule in: {}", failure.message));
    let again = replay(&schedule, mpmc_4x4::<ClaimWithoutCas>)
        .expect_err("the printed schedule must replay the failure");
    assert_eq!(
        cause(&again.message),
        cause(&failure.message),
        "the replay fails the same way"
    );
    failure
}

/// What failed, without shuttle's replay instructions.
fn cause(message: &str) -> String {
    match message.split("original panic: ").nth(1) {
        Some(original) => original.to_string(),
        None => message.lines().next().unwrap_or_default().to_string(),
    }
}

#[test]
fn shuttle_finds_mpmc_claim_without_cas_and_replays_it() {
    for plan in plans(200) {
        found_and_replayed(&plan);
    }
}
