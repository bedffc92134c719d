//! Hostile peer against the semaphore (issue 9 item 7): a second mapping of a live semaphore
//! region (a memfd opened again through a duplicate of its fd) writes arbitrary 32- and 64-bit
//! values into every field of the region — the state word (count, priority/token bit, close bit,
//! waiter count), the token owner, the recoverer lock word, every ledger slot's owner and entry
//! (permits / busy / version) word, and the region header — between the calls a real handle makes
//! (`try_acquire`, `try_acquire_many`, `acquire_timeout` and `acquire_many_timeout` with 5 ms
//! deadlines, `release` of one and of many, `value`, `recover`, `close`), in plain and ledger
//! mode, and reopens the region after corrupting it (an open of a corrupt header or body must
//! give a typed error). Every call must return data or a typed [`SemError`], never panic, and
//! return within its deadline plus a bound.
//!
//! The control block's fields are `pub(super)` in `core/src/sem/state.rs` and not reachable from
//! here, so the named offsets below restate its `#[repr(C, align(128))]` layout (state at 0,
//! token owner at 8, recoverer at 16, ledger slots of 16 bytes — owner, entry — from 128; asserted
//! with `offset_of!` by `layout_offsets_match_the_hostile_peer_test` in `sem/tests.rs`); on top
//! of those, steps also write at every 4- and 8-byte-aligned offset of the body (chosen by
//! proptest), which covers every field whatever the layout.
//!
//! Case count: 256 cases (fixed seed) of up to 48 steps each, plain and ledger (1-4 slots), max
//! 1-8; plus 256 cases attacking the header before a second handle opens it.

mod hostile;

use hostile::{dead_key, edge_values, me_key, store, timed};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use std::time::Duration;
use synclab_core::shm::HEADER_LEN;
use synclab_core::{SemError, Semaphore};

/// How long a blocking call may wait (and return by `hostile::BOUND` after).
const WAIT: Duration = Duration::from_millis(5);

/// Byte offsets in the body (restating `SemCore` and `LedgerSlot`, see the module docs).
const STATE: usize = 0;
const TOKEN_OWNER: usize = 8;
const RECOVERER: usize = 16;
const SLOTS: usize = 128;
const SLOT_LEN: usize = 16;

/// A named field of the region.
#[derive(Clone, Copy, Debug)]
enum Field {
    /// The whole state word.
    State,
    /// The low half (count, PRIO, CLOSED: the futex word) or the high half (waiter count).
    StateLow,
    StateWaiters,
    TokenOwner,
    Recoverer,
    /// Ledger slot `k`'s owner word (false) or entry word (true).
    Slot(usize, bool),
    /// 64-bit word `k` of the region header.
    Header(usize),
    /// Any 8- or 4-byte-aligned word of the body (modulo its length).
    Any64(usize),
    Any32(usize),
}

#[derive(Clone, Debug)]
enum Step {
    Write(Field, u64),
    TryAcquire,
    TryAcquireMany(u32),
    AcquireTimeout,
    AcquireManyTimeout(u32),
    Release(u32),
    Value,
    Recover,
    Close,
    /// Open a second handle on the (possibly corrupt) region and use it once.
    Reopen,
}

/// Values that hit edges (`hostile::edge_values`), with the PRIO, CLOSED and waiter bits and
/// small (waiters, value) pairs.
fn value(dead: u64, me: u64) -> impl Strategy<Value = u64> {
    edge_values(
        dead,
        me,
        vec![
            Just(1u64 << 30).boxed(),
            Just(1u64 << 31).boxed(),
            Just((1u64 << 32) | (1 << 30)).boxed(),
            (0u64..4, 0u64..8).prop_map(|(w, v)| (w << 32) | v).boxed(),
        ],
    )
}

fn field() -> impl Strategy<Value = Field> {
    prop_oneof![
        3 => Just(Field::State),
        2 => Just(Field::StateLow),
        2 => Just(Field::StateWaiters),
        2 => Just(Field::TokenOwner),
        2 => Just(Field::Recoverer),
        4 => (0usize..4, any::<bool>()).prop_map(|(k, e)| Field::Slot(k, e)),
        1 => (0usize..HEADER_LEN / 8).prop_map(Field::Header),
        2 => (0usize..1024).prop_map(Field::Any64),
        2 => (0usize..2048).prop_map(Field::Any32),
    ]
}

/// Permit counts: mostly small valid ones, sometimes 0 or above the maximum (`InvalidArgument`).
fn counts() -> impl Strategy<Value = u32> {
    prop_oneof![3 => 1u32..4, 1 => 0u32..10]
}

fn steps(dead: u64, me: u64) -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        prop_oneof![
            6 => (field(), value(dead, me)).prop_map(|(f, v)| Step::Write(f, v)),
            3 => Just(Step::TryAcquire),
            2 => counts().prop_map(Step::TryAcquireMany),
            1 => Just(Step::AcquireTimeout),
            1 => counts().prop_map(Step::AcquireManyTimeout),
            3 => counts().prop_map(Step::Release),
            1 => Just(Step::Value),
            2 => Just(Step::Recover),
            1 => Just(Step::Close),
            1 => Just(Step::Reopen),
        ],
        0..48,
    )
}

/// A typed result: data, or an error with a message (every `SemError` variant is typed; the
/// point is that none of the calls panicked or hung, and `Corrupt` names what it found).
fn typed<T>(what: &str, r: &Result<T, SemError>) {
    if let Err(e) = r {
        assert!(!e.to_string().is_empty(), "{what}: empty message");
        if let SemError::Corrupt { what: field, .. } = e {
            assert!(!field.is_empty());
        }
    }
}

/// The second mapping: where the hostile peer writes.
struct Peer {
    header: *mut u8,
    body: *mut u8,
    body_len: usize,
}

impl Peer {
    fn offset(&self, f: Field) -> (usize, bool) {
        let slots = self.body_len.saturating_sub(SLOTS) / SLOT_LEN;
        match f {
            Field::State => (STATE, true),
            Field::StateLow => (STATE, false),
            Field::StateWaiters => (STATE + 4, false),
            Field::TokenOwner => (TOKEN_OWNER, true),
            Field::Recoverer => (RECOVERER, true),
            Field::Slot(k, entry) if slots > 0 => {
                (SLOTS + (k % slots) * SLOT_LEN + 8 * entry as usize, true)
            }
            Field::Slot(..) => (STATE, true),
            Field::Header(_) => unreachable!("handled in write"),
            Field::Any64(k) => (8 * (k % (self.body_len / 8)), true),
            Field::Any32(k) => (4 * (k % (self.body_len / 4)), false),
        }
    }

    fn write(&self, f: Field, v: u64) {
        let (base, len, off, wide) = match f {
            // The header is the HEADER_LEN bytes right before the body, in the same mapping.
            Field::Header(k) => (self.header, HEADER_LEN, 8 * k, true),
            _ => {
                let (off, wide) = self.offset(f);
                (self.body, self.body_len, off, wide)
            }
        };
        // SAFETY: the peer's mapping outlives this call; every offset above is 8-aligned for
        // wide writes and 4-aligned otherwise, from a page-aligned header and a 128-aligned body.
        unsafe { store(base, len, off, v, wide) }
    }
}

fn reopen(sem: &Semaphore) -> Result<Semaphore, SemError> {
    let fd = sem.fd().unwrap().try_clone_to_owned().unwrap();
    Semaphore::builder().open_fd(fd)
}

/// Drives one handle through `steps`, with `peer` writing between calls. Permits taken are
/// forgotten (so a later `Release` step can hand them back, or fail typed).
fn drive(sem: &Semaphore, peer: &Peer, steps: Vec<Step>) {
    let ok = |r: Result<synclab_core::Permit<'_>, SemError>, what| {
        typed(what, &r);
        if let Ok(p) = r {
            p.forget();
        }
    };
    for step in steps {
        match step {
            Step::Write(f, v) => peer.write(f, v),
            Step::TryAcquire => ok(timed("try_acquire", None, || sem.try_acquire()), "try"),
            Step::TryAcquireMany(n) => ok(
                timed("try_acquire_many", None, || sem.try_acquire_many(n)),
                "try_many",
            ),
            Step::AcquireTimeout => ok(
                timed("acquire_timeout", Some(WAIT), || sem.acquire_timeout(WAIT)),
                "acquire_timeout",
            ),
            Step::AcquireManyTimeout(n) => ok(
                timed("acquire_many_timeout", Some(WAIT), || {
                    sem.acquire_many_timeout(n, WAIT)
                }),
                "acquire_many_timeout",
            ),
            Step::Release(n) => typed("release", &timed("release", None, || sem.release(n))),
            Step::Value => {
                let v = timed("value", None, || sem.value());
                typed("value", &v);
                if let Ok(v) = v {
                    assert!(v <= sem.max(), "value {v} above max {}", sem.max());
                }
            }
            Step::Recover => typed("recover", &timed("recover", None, || sem.recover())),
            Step::Close => timed("close", None, || sem.close()),
            Step::Reopen => {
                let other = timed("open", None, || reopen(sem));
                typed("open", &other);
                if let Ok(other) = other {
                    ok(timed("try_acquire", None, || other.try_acquire()), "try2");
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        rng_seed: RngSeed::Fixed(0x05e3_0e9a),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn prop_sem_hostile_peer_gets_typed_errors_in_time(
        max in 1u32..8,
        ledger in prop_oneof![Just(0u32), 1u32..5],
        steps in steps(dead_key(), me_key()),
    ) {
        let sem = Semaphore::builder().max(max).ledger(ledger).anonymous().unwrap();
        // The hostile peer: a second mapping of the same memfd.
        let other = reopen(&sem).unwrap();
        let region = other.region().unwrap();
        let body = region.body().as_ptr();
        let peer = Peer {
            // SAFETY: the header is the HEADER_LEN bytes right before the body, same mapping.
            header: unsafe { body.sub(HEADER_LEN) },
            body,
            body_len: region.body_len(),
        };
        drive(&sem, &peer, steps);
    }

    /// Corrupts the header (and maybe the body) of a fresh region before a second handle opens
    /// it: the open gives a typed error, or a handle whose calls do.
    #[test]
    fn prop_sem_open_of_corrupt_region_is_typed(
        ledger in prop_oneof![Just(0u32), 1u32..5],
        writes in prop::collection::vec(
            (prop_oneof![
                3 => (0usize..HEADER_LEN / 8).prop_map(Field::Header),
                1 => field(),
            ], value(0, 0)),
            1..6,
        ),
    ) {
        let sem = Semaphore::builder().max(4).ledger(ledger).anonymous().unwrap();
        let region = sem.region().unwrap();
        let body = region.body().as_ptr();
        let peer = Peer {
            // SAFETY: as above.
            header: unsafe { body.sub(HEADER_LEN) },
            body,
            body_len: region.body_len(),
        };
        for (f, v) in writes {
            peer.write(f, v);
        }
        let opened = timed("open", None, || reopen(&sem));
        typed("open", &opened);
        if let Ok(h) = opened {
            drive(&h, &peer, vec![
                Step::TryAcquire,
                Step::AcquireManyTimeout(2),
                Step::Release(1),
                Step::Value,
                Step::Recover,
            ]);
        }
    }
}
