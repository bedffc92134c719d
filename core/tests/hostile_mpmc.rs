//! Hostile peer against `mpmc` (issue 9 item 6/7): a second mapping of a live queue writes
//! arbitrary values into every word of the region body — both positions, every slot's sequence
//! number, claimer word and record, the close/fence flags, both eventcounts' words and the repair
//! counters — between the calls another handle makes (`try_push`, `try_pop`, `try_push_slice`,
//! `try_pop_slice`, `push_until`,
//! `pop_until`, `repair`, `len`). Every call must return data or a typed error: never a panic,
//! never an access outside the ring, and never a wait past its deadline plus a bound.
//!
//! Case count: 256 cases (fixed seed) of up to 48 steps each, on capacities 2, 4 and 8.

mod hostile;

use hostile::{dead_key, edge_values, me_key, store, timed};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use std::time::Duration;
use synclab_core::model::Deadline;
use synclab_core::shm::ShmName;
use synclab_core::{Mpmc, RingError};

/// How long a blocking call may wait (and return by `hostile::BOUND` after).
const WAIT: Duration = Duration::from_millis(5);

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

/// Values that hit edges (`hostile::edge_values`: positions, phases, flags, keys).
fn value(dead: u64, me: u64) -> impl Strategy<Value = u64> {
    edge_values(dead, me, Vec::new())
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
        let (body, len) = (region.body().as_ptr(), region.body_len());
        for step in steps {
            match step {
                // SAFETY (both): the body is mapped for as long as `peer` lives and 128-aligned,
                // and each offset is a whole word's (modulo the body's length in words).
                Step::Write64 { word, value } => unsafe {
                    store(body, len, 8 * (word % (len / 8)), value, true)
                },
                Step::Write32 { word, value } => unsafe {
                    store(body, len, 4 * (word % (len / 4)), u64::from(value), false)
                },
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
