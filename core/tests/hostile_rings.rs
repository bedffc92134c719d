//! Hostile-peer property tests for `spsc` and `frames` (issue 9, items 6 and 7).
//!
//! A test maps a live ring's region a second time (a named region for spsc, the same memfd for
//! frames) and, at random points of a random sequence of API calls made through the first
//! mapping, writes arbitrary values into every field a peer can reach: `tail`, `head`, both
//! eventcounts' `seq` and waiter words, the flags, both role owner words, buffer words (frame
//! length and tag words, spsc records) and the region header. Attacks also land before a side
//! attaches (handles attach lazily, at their first call). Every call must return valid data or
//! a typed `RingError`, never panic (debug builds check every overflow), and return within its
//! deadline plus [`hostile::SLACK`]. Cases: 128 spsc + 128 frames sequences of up to 48 steps,
//! 256 arbitrary region headers per ring kind, plus the parked-wait and truncation tests below;
//! fixed seeds. Runs in a few seconds in `cargo test -p synclab-core --test hostile_rings`.

mod hostile;

use hostile::{fields, values, Attacker, Field, Value, SLACK};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use std::time::{Duration, Instant};
use synclab_core::{Deadline, Frames, RingError, ShmName, Spsc, Wakeups};

/// The deadline every blocking call is given.
const DEADLINE: Duration = Duration::from_millis(2);

#[derive(Clone, Copy, Debug)]
enum Call {
    TrySend(u16),
    Send(u16),
    SendSlice(u8),
    TryRecv,
    Recv,
    RecvSlice(u8),
    RecvBlocking(u8),
    /// Reserve a frame and drop it uncommitted (frames), or nothing (spsc).
    Abandon(u16),
    /// Claim the producer (false) or consumer role again.
    Reclaim(bool),
}

#[derive(Clone, Debug)]
enum Step {
    Attack(Field, Value),
    Call(Call),
}

fn calls() -> impl Strategy<Value = Call> {
    prop_oneof![
        3 => (0u16..80).prop_map(Call::TrySend),
        2 => (0u16..80).prop_map(Call::Send),
        1 => (0u8..12).prop_map(Call::SendSlice),
        3 => Just(Call::TryRecv),
        2 => Just(Call::Recv),
        1 => (0u8..12).prop_map(Call::RecvSlice),
        1 => (0u8..12).prop_map(Call::RecvBlocking),
        1 => (0u16..80).prop_map(Call::Abandon),
        1 => any::<bool>().prop_map(Call::Reclaim),
    ]
}

fn steps(buffer_words: usize) -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        prop_oneof![
            2 => (fields(buffer_words), values()).prop_map(|(f, v)| Step::Attack(f, v)),
            3 => calls().prop_map(Step::Call),
        ],
        1..48,
    )
}

fn wakeups() -> impl Strategy<Value = Wakeups> {
    prop_oneof![
        Just(Wakeups::Futex),
        Just(Wakeups::FutexFenced),
        Just(Wakeups::Spin)
    ]
}

/// Runs `f` with a deadline `DEADLINE` from now (or none) and checks it returned in time.
fn timed<R>(blocking: bool, what: &str, f: impl FnOnce(Option<Deadline>) -> R) -> R {
    let start = Instant::now();
    let r = f(blocking.then(|| Deadline::after(DEADLINE)));
    let took = start.elapsed();
    let limit = if blocking { DEADLINE } else { Duration::ZERO } + SLACK;
    assert!(took <= limit, "{what} took {took:?}, more than {limit:?}");
    r
}

/// A result of the API under attack: data, or an error a hostile peer may cause.
fn typed<T>(what: &str, r: &Result<T, RingError>) {
    if let Err(e) = r {
        let allowed = matches!(
            e,
            RingError::Full
                | RingError::Empty
                | RingError::Closed
                | RingError::TimedOut
                | RingError::RoleTaken(_)
                | RingError::PeerGone { .. }
                | RingError::Corrupt(_)
                | RingError::Unsupported(_)
                | RingError::Oversize { .. }
        );
        assert!(allowed, "{what}: unexpected {e:?}");
        if let RingError::Corrupt(msg) = e {
            assert!(!msg.is_empty(), "{what}: a Corrupt error names what is wrong");
        }
    }
}

/// Drives an spsc ring through `steps`, attacking it from a second mapping.
fn spsc_under_attack(cap: usize, wakeups: Wakeups, steps: &[Step]) {
    let name = ShmName::unique("hostile-spsc");
    let ring = Spsc::<u64>::builder()
        .capacity(cap)
        .wakeups(wakeups)
        .create(&name)
        .unwrap();
    let attacker = Attacker::new(ring.region().unwrap(), cap * 8);
    let (mut p, mut c) = (None, None);
    let mut next = 0u64;
    let mut out = [0u64; 12];
    for step in steps {
        let call = match step {
            Step::Attack(f, v) => {
                attacker.write(*f, *v);
                continue;
            }
            Step::Call(call) => *call,
        };
        let producing = matches!(call, Call::TrySend(_) | Call::Send(_) | Call::SendSlice(_));
        if producing && p.is_none() {
            let r = timed(false, "producer()", |_| ring.producer());
            typed("producer()", &r);
            p = r.ok();
        }
        let consuming = matches!(
            call,
            Call::TryRecv | Call::Recv | Call::RecvSlice(_) | Call::RecvBlocking(_)
        );
        if consuming && c.is_none() {
            let r = timed(false, "consumer()", |_| ring.consumer());
            typed("consumer()", &r);
            c = r.ok();
        }
        next += 1;
        let values: Vec<u64> = (next..next + 12).collect();
        match (call, p.as_mut(), c.as_mut()) {
            (Call::TrySend(_), Some(p), _) => typed("try_push", &timed(false, "try_push", |_| p.try_push(next))),
            (Call::Send(_), Some(p), _) => typed("push_until", &timed(true, "push_until", |d| p.push_until(next, d))),
            (Call::SendSlice(n), Some(p), _) => {
                let r = timed(false, "push_slice", |_| p.push_slice(&values[..n as usize]));
                typed("push_slice", &r);
                assert!(r.unwrap_or(0) <= n as usize);
            }
            (Call::TryRecv, _, Some(c)) => typed("try_pop", &timed(false, "try_pop", |_| c.try_pop())),
            (Call::Recv, _, Some(c)) => typed("pop_until", &timed(true, "pop_until", |d| c.pop_until(d))),
            (Call::RecvSlice(n), _, Some(c)) => {
                let r = timed(false, "pop_slice", |_| c.pop_slice(&mut out[..n as usize]));
                typed("pop_slice", &r);
                assert!(r.unwrap_or(0) <= n as usize);
            }
            (Call::RecvBlocking(n), _, Some(c)) => {
                let r = timed(true, "pop_slice_blocking", |d| {
                    c.pop_slice_blocking(&mut out[..n as usize], d)
                });
                typed("pop_slice_blocking", &r);
                assert!(r.unwrap_or(0) <= n as usize);
            }
            (Call::Reclaim(false), _, _) => {
                let r = timed(false, "producer()", |_| ring.producer());
                typed("producer() again", &r);
                if let Ok(h) = r {
                    p = Some(h);
                }
            }
            (Call::Reclaim(true), _, _) => {
                let r = timed(false, "consumer()", |_| ring.consumer());
                typed("consumer() again", &r);
                if let Ok(h) = r {
                    c = Some(h);
                }
            }
            _ => {}
        }
    }
    // Whatever the header now says, opening the region again is a typed answer.
    let reopened = Spsc::<u64>::builder().open(&name);
    if let Ok(r) = &reopened {
        typed("consumer() after reopen", &r.consumer().map(|_| ()));
    }
}

/// Drives a frames ring through `steps`, attacking it from a second mapping of its memfd.
fn frames_under_attack(cap: usize, wakeups: Wakeups, steps: &[Step]) {
    let ring = Frames::builder()
        .capacity(cap)
        .wakeups(wakeups)
        .anonymous()
        .unwrap();
    let attacker = Attacker::new(ring.region().unwrap(), cap);
    let max = ring.max_message();
    let (mut p, mut c) = (None, None);
    let mut buf = Vec::new();
    for step in steps {
        let call = match step {
            Step::Attack(f, v) => {
                attacker.write(*f, *v);
                continue;
            }
            Step::Call(call) => *call,
        };
        let producing = matches!(
            call,
            Call::TrySend(_) | Call::Send(_) | Call::SendSlice(_) | Call::Abandon(_)
        );
        if producing && p.is_none() {
            let r = timed(false, "producer()", |_| ring.producer());
            typed("producer()", &r);
            p = r.ok();
        }
        let consuming = matches!(
            call,
            Call::TryRecv | Call::Recv | Call::RecvSlice(_) | Call::RecvBlocking(_)
        );
        if consuming && c.is_none() {
            let r = timed(false, "consumer()", |_| ring.consumer());
            typed("consumer()", &r);
            c = r.ok();
        }
        let msg = |len: u16| vec![len as u8; len as usize];
        match (call, p.as_mut(), c.as_mut()) {
            (Call::TrySend(n), Some(p), _) => {
                let r = timed(false, "try_send", |_| p.try_send(&msg(n)));
                typed("try_send", &r);
                if n as usize > max {
                    assert!(matches!(r, Err(RingError::Oversize { .. })), "{r:?}");
                }
            }
            (Call::Send(n), Some(p), _) => {
                typed("send", &timed(true, "send", |d| p.send(&msg(n), d)));
            }
            (Call::SendSlice(n), Some(p), _) => {
                typed("send", &timed(true, "send", |d| p.send(&msg(n as u16), d)));
            }
            (Call::Abandon(n), Some(p), _) => {
                let r = timed(false, "try_reserve", |_| p.try_reserve(n as usize).map(|mut g| g.fill(7)));
                typed("try_reserve", &r);
            }
            (Call::TryRecv, _, Some(c)) => {
                let r = timed(false, "try_recv", |_| c.try_recv());
                typed("try_recv", &r);
                assert!(r.map_or(0, |v| v.len()) <= max);
            }
            (Call::Recv | Call::RecvBlocking(_), _, Some(c)) => {
                let r = timed(true, "recv_into", |d| c.recv_into(&mut buf, d));
                typed("recv_into", &r);
                if let Ok(n) = r {
                    assert!(n <= max && n == buf.len());
                }
            }
            (Call::RecvSlice(_), _, Some(c)) => {
                let r = timed(true, "read", |d| c.read(d, |b| b.len()));
                typed("read", &r);
                assert!(r.unwrap_or(0) <= max);
            }
            (Call::Reclaim(false), _, _) => {
                let r = timed(false, "producer()", |_| ring.producer());
                typed("producer() again", &r);
                if let Ok(h) = r {
                    p = Some(h);
                }
            }
            (Call::Reclaim(true), _, _) => {
                let r = timed(false, "consumer()", |_| ring.consumer());
                typed("consumer() again", &r);
                if let Ok(h) = r {
                    c = Some(h);
                }
            }
            _ => {}
        }
    }
    let fd = ring.region().unwrap().fd().unwrap().try_clone_to_owned().unwrap();
    let reopened = Frames::builder().open_fd(fd);
    if let Ok(r) = &reopened {
        typed("consumer() after reopen", &r.consumer().map(|_| ()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        rng_seed: RngSeed::Fixed(0x4057_11e0),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// spsc under a hostile second mapping: typed results, in time, no panic.
    #[test]
    fn hostile_spsc_peer_gets_typed_errors_in_time(
        cap_log in 0u32..4, wakeups in wakeups(), steps in steps(8)
    ) {
        spsc_under_attack(1 << cap_log, wakeups, &steps);
    }

    /// frames under a hostile second mapping: typed results, in time, no panic.
    #[test]
    fn hostile_frames_peer_gets_typed_errors_in_time(
        cap_log in 5u32..8, wakeups in wakeups(), steps in steps(16)
    ) {
        frames_under_attack(1 << cap_log, wakeups, &steps);
    }
}
