//! Hostile peer against `mpmc` (issue 9 item 6/7): a second mapping of a live queue writes
//! arbitrary values into every word of the region body — both positions, every slot's sequence
//! number, claimer word and record, the close/fence flags, both eventcounts' words and the repair
//! counters — between the calls another handle makes (`try_push`, `try_pop`, `try_push_slice`,
//! `try_pop_slice`, `push_until`,
//! `pop_until`, `repair`, `len`). Every call must return data or a typed error: never a panic,
//! never an access outside the ring, and never a wait past its deadline plus a bound.
//!
//! Case count: 256 cases (fixed seed) of up to 48 steps each, on capacities 2, 4 and 8.

use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};
use synclab_core::model::Deadline;
use synclab_core::shm::ShmName;
use synclab_core::{Mpmc, RingError};

/// How long a blocking call may wait.
const WAIT: Duration = Duration::from_millis(5);
/// How far past its deadline (or, for a non-blocking call, past its start) a call may return:
/// the retry budget's worst case on a loaded 2-core machine, with room.
const BOUND: Duration = Duration::from_secs(2);

#[derive(Clone, Debug)]
enum Step {
    /// Write `value` into 64-bit word `word` of the body (modulo the body's length).
    Write64 {
        word: usize,
        value: u64,
    },
    /// Write `value` into 32-bit word `word` (the eventcounts and flags are 32-bit).
    Write32 {
        word: usize,
        value: u32,
    },
    TryPush(u64),
    TryPop,
    /// `try_push_slice` of this many records.
    TryPushSlice(usize),
    /// `try_pop_slice` into a buffer of this many records.
    TryPopSlice(usize),
    PushUntil(u64),
    PopUntil,
    Repair,
    Len,
}

/// Values that hit edges: 0, all ones, the sign bit, small numbers (positions, phases, flags),
/// "just below zero", a dead process's key, this process's key, and anything.
fn value(dead: u64, me: u64) -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(u64::MAX),
        Just(1u64 << 63),
        0u64..20,
        (0u64..20).prop_map(|d| u64::MAX - d),
        Just(dead),
        Just(me),
        any::<u64>(),
    ]
}

fn steps(dead: u64, me: u64) -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        prop_oneof![
            4 => (0usize..4096, value(dead, me)).prop_map(|(word, value)| Step::Write64 { word, value }),
            1 => (0usize..8192, any::<u32>()).prop_map(|(word, value)| Step::Write32 { word, value }),
            3 => any::<u64>().prop_map(Step::TryPush),
            3 => Just(Step::TryPop),
            2 => (0usize..12).prop_map(Step::TryPushSlice),
            2 => (0usize..12).prop_map(Step::TryPopSlice),
            1 => any::<u64>().prop_map(Step::PushUntil),
            1 => Just(Step::PopUntil),
            1 => Just(Step::Repair),
            1 => Just(Step::Len),
        ],
        0..48,
    )
}

/// The packed key of a process that has exited (pid and start time, as the claimer word holds
/// them): a claimer a repairer judges dead.
fn dead_key() -> u64 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    (1u64 << 32) | u64::from(pid)
}

fn me_key() -> u64 {
    let k = synclab_core::ProcessKey::current().unwrap();
    (u64::from(k.start) << 32) | u64::from(k.pid)
}

/// Runs `f` and checks it came back in time: by `BOUND` after `deadline` if it has one, else by
/// `BOUND` after it started.
fn timed<R>(what: &str, wait: Option<Duration>, f: impl FnOnce() -> R) -> R {
    let start = Instant::now();
    let r = f();
    let took = start.elapsed();
    let limit = wait.unwrap_or(Duration::ZERO) + BOUND;
    assert!(took <= limit, "{what} took {took:?}, more than {limit:?}");
    r
}

/// A typed result: data, or one of the errors the operations document.
fn typed<T>(r: &Result<T, RingError>) {
    if let Err(e) = r {
        assert!(
            matches!(
                e,
                RingError::Full
                    | RingError::Empty
                    | RingError::Closed
                    | RingError::TimedOut
                    | RingError::Corrupt(_)
            ),
            "unexpected error {e:?}"
        );
        if let RingError::Corrupt(m) = e {
            assert!(!m.is_empty());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        rng_seed: RngSeed::Fixed(0x05ee_d0e9),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn prop_mpmc_hostile_peer_gets_typed_errors_in_time(
        cap_log in 1u32..4,
        steps in steps(dead_key(), me_key()),
    ) {
        let name = ShmName::unique("hostile-mpmc");
        let q = Mpmc::<u64>::builder().capacity(1 << cap_log).create(&name).unwrap();
        // The hostile peer: a second mapping of the same region.
        let peer = Mpmc::<u64>::builder().open(&name).unwrap();
        let region = peer.region().unwrap();
        let body = region.body().as_ptr();
        let words64 = region.body_len() / 8;
        for step in steps {
            match step {
                Step::Write64 { word, value } => {
                    // SAFETY: in bounds (modulo the body's length in words), 8-aligned (the body
                    // is 128-aligned), and mapped for as long as `peer` lives; written atomically
                    // as a peer process would.
                    let w = unsafe { AtomicU64::from_ptr(body.cast::<u64>().add(word % words64)) };
                    w.store(value, Relaxed);
                }
                Step::Write32 { word, value } => {
                    // SAFETY: as above, for 4-byte words.
                    let w = unsafe { AtomicU32::from_ptr(body.cast::<u32>().add(word % (2 * words64))) };
                    w.store(value, Relaxed);
                }
                Step::TryPush(v) => typed(&timed("try_push", None, || q.try_push(v))),
                Step::TryPop => typed(&timed("try_pop", None, || q.try_pop())),
                Step::TryPushSlice(n) => {
                    let values: Vec<u64> = (0..n as u64).collect();
                    let r = timed("try_push_slice", None, || q.try_push_slice(&values));
                    typed(&r);
                    prop_assert!(r.map_or(true, |k| k <= n), "pushed more than given");
                }
                Step::TryPopSlice(n) => {
                    let mut out = vec![0u64; n];
                    let r = timed("try_pop_slice", None, || q.try_pop_slice(&mut out));
                    typed(&r);
                    prop_assert!(r.map_or(true, |k| k <= n), "popped more than asked");
                }
                Step::PushUntil(v) => typed(&timed("push_until", Some(WAIT), || {
                    q.push_until(v, Some(Deadline::after(WAIT)))
                })),
                Step::PopUntil => typed(&timed("pop_until", Some(WAIT), || {
                    q.pop_until(Some(Deadline::after(WAIT)))
                })),
                Step::Repair => typed(&timed("repair", None, || q.repair())),
                Step::Len => prop_assert!(timed("len", None, || q.len()) <= q.capacity()),
            }
        }
    }
}
