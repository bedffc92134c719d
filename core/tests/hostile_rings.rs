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
            assert!(
                !msg.is_empty(),
                "{what}: a Corrupt error names what is wrong"
            );
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
            (Call::TrySend(_), Some(p), _) => {
                typed("try_push", &timed(false, "try_push", |_| p.try_push(next)))
            }
            (Call::Send(_), Some(p), _) => typed(
                "push_until",
                &timed(true, "push_until", |d| p.push_until(next, d)),
            ),
            (Call::SendSlice(n), Some(p), _) => {
                let r = timed(false, "push_slice", |_| p.push_slice(&values[..n as usize]));
                typed("push_slice", &r);
                assert!(r.unwrap_or(0) <= n as usize);
            }
            (Call::TryRecv, _, Some(c)) => {
                typed("try_pop", &timed(false, "try_pop", |_| c.try_pop()))
            }
            (Call::Recv, _, Some(c)) => {
                typed("pop_until", &timed(true, "pop_until", |d| c.pop_until(d)))
            }
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
                let r = timed(false, "try_reserve", |_| {
                    p.try_reserve(n as usize).map(|mut g| g.fill(7))
                });
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
    let fd = ring
        .region()
        .unwrap()
        .fd()
        .unwrap()
        .try_clone_to_owned()
        .unwrap();
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

/// Polls (no sleep, bounded) until a thread is parked on the eventcount `field` counts.
fn wait_parked(attacker: &Attacker, field: Field) {
    let start = Instant::now();
    while attacker.read32(field) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the waiter never parked"
        );
        std::thread::yield_now();
    }
}

/// The two attacks that lose a wakeup: zero the waiter count the notifier checks, or set the
/// `SPIN_ONLY` flag so the notifier skips the check (the ring starts with no flag set).
fn lost_wakeups(full: bool) -> [(Field, Value); 2] {
    [
        (Field::EventWaiters(full), Value::Abs(0)),
        (Field::Flags, Value::Abs(16)),
    ]
}

/// A consumer parked in `pop()` (no deadline) still returns a record pushed after its wakeup was
/// lost, within one `PEER_CHECK_INTERVAL` slice (100 ms) plus slack.
#[test]
fn hostile_lost_wakeup_bounds_a_parked_spsc_pop() {
    for (field, value) in lost_wakeups(false) {
        let ring = Spsc::<u64>::builder()
            .capacity(2)
            .wakeups(Wakeups::FutexFenced)
            .anonymous()
            .unwrap();
        let attacker = Attacker::new(ring.region().unwrap(), 16);
        let mut p = ring.producer().unwrap();
        let mut c = ring.consumer().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let t = std::thread::spawn(move || {
            let _ = tx.send(c.pop());
            c
        });
        wait_parked(&attacker, Field::EventWaiters(false));
        attacker.write(field, value);
        let pushed = Instant::now();
        p.push(42).unwrap();
        let got = rx.recv_timeout(Duration::from_secs(5));
        let took = pushed.elapsed();
        assert_eq!(got, Ok(Ok(42)), "after {field:?} = {value:?}");
        assert!(
            took < Duration::from_millis(100) + SLACK,
            "{field:?}: took {took:?}"
        );
        drop(t.join().unwrap());
    }
}

/// A producer parked in `send` on a full frames ring (no deadline) still returns once the
/// consumer makes room after its wakeup was lost, within one slice plus slack.
#[test]
fn hostile_lost_wakeup_bounds_a_parked_frames_send() {
    for (field, value) in lost_wakeups(true) {
        let ring = Frames::builder()
            .capacity(64)
            .wakeups(Wakeups::FutexFenced)
            .anonymous()
            .unwrap();
        let attacker = Attacker::new(ring.region().unwrap(), 64);
        let mut p = ring.producer().unwrap();
        let mut c = ring.consumer().unwrap();
        let msg = [5u8; 24];
        while p.try_send(&msg).is_ok() {}
        let (tx, rx) = std::sync::mpsc::channel();
        let t = std::thread::spawn(move || {
            let _ = tx.send(p.send(&msg, None));
            p
        });
        wait_parked(&attacker, Field::EventWaiters(true));
        attacker.write(field, value);
        let freed = Instant::now();
        assert_eq!(c.try_recv().unwrap(), msg);
        let got = rx.recv_timeout(Duration::from_secs(5));
        let took = freed.elapsed();
        assert_eq!(got, Ok(Ok(())), "after {field:?} = {value:?}");
        assert!(
            took < Duration::from_millis(100) + SLACK,
            "{field:?}: took {took:?}"
        );
        drop(t.join().unwrap());
    }
}

/// The bytes of a fresh region of each ring kind (header and body), to mutate.
fn valid_region_bytes(frames: bool) -> Vec<u8> {
    let ring_spsc;
    let ring_frames;
    let region = if frames {
        ring_frames = Frames::builder().capacity(64).anonymous().unwrap();
        ring_frames.region().unwrap()
    } else {
        ring_spsc = Spsc::<u64>::builder().capacity(8).anonymous().unwrap();
        ring_spsc.region().unwrap()
    };
    let mut bytes = vec![0u8; region.len()];
    nix::sys::uio::pread(region.fd().unwrap(), &mut bytes, 0).unwrap();
    bytes
}

/// A memfd holding exactly `bytes`.
fn memfd_with(bytes: &[u8]) -> std::os::fd::OwnedFd {
    let fd =
        nix::sys::memfd::memfd_create(c"hostile", nix::sys::memfd::MemFdCreateFlag::MFD_CLOEXEC)
            .unwrap();
    let mut file = std::fs::File::from(fd);
    std::io::Write::write_all(&mut file, bytes).unwrap();
    file.into()
}

/// An `open` result: a ring, or a typed error (any region error is fine) that says what is wrong.
fn opened<T>(what: &str, r: &Result<T, RingError>) {
    if let Err(e) = r {
        assert!(!e.to_string().is_empty(), "{what}: an empty error message");
    }
}

/// Opens `bytes` as both ring kinds and drives whatever opens: typed results only.
fn open_anything(bytes: &[u8]) {
    let fd = memfd_with(bytes);
    let spsc = Spsc::<u64>::builder().open_fd(fd.try_clone().unwrap());
    opened("open_fd as spsc", &spsc);
    if let Ok(ring) = spsc {
        let r = ring.consumer();
        typed("spsc consumer()", &r);
        if let Ok(mut c) = r {
            typed("try_pop", &c.try_pop());
        }
        let r = ring.producer();
        typed("spsc producer()", &r);
        if let Ok(mut p) = r {
            typed("try_push", &p.try_push(1));
        }
    }
    let frames = Frames::builder().open_fd(fd);
    opened("open_fd as frames", &frames);
    if let Ok(ring) = frames {
        let r = ring.consumer();
        typed("frames consumer()", &r);
        if let Ok(mut c) = r {
            typed("try_recv", &c.try_recv());
        }
        let r = ring.producer();
        typed("frames producer()", &r);
        if let Ok(mut p) = r {
            typed("try_send", &p.try_send(b"x"));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        rng_seed: RngSeed::Fixed(0x4ead_e4b1),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Arbitrary header bytes (and a body of arbitrary length) given to `open`: a typed answer,
    /// and whatever opens is driven without a panic.
    #[test]
    fn hostile_arbitrary_region_bytes_open_to_typed_results(
        bytes in prop::collection::vec(any::<u8>(), 0..2048)
    ) {
        open_anything(&bytes);
    }

    /// A valid region of either kind with a few header and body bytes changed: the same.
    #[test]
    fn hostile_mutated_region_opens_to_typed_results(
        frames in any::<bool>(),
        flips in prop::collection::vec((0usize..1024, any::<u8>()), 1..8),
        cut in prop::option::of(0usize..2048),
    ) {
        let mut bytes = valid_region_bytes(frames);
        for (at, b) in flips {
            // Mostly the header, sometimes the control block.
            let at = if at < 512 { at % 128 } else { 128 + at % 1024 };
            if at < bytes.len() {
                bytes[at] = b;
            }
        }
        if let Some(cut) = cut {
            bytes.truncate(cut);
        }
        open_anything(&bytes);
    }
}

/// An anonymous region is sealed: a peer holding its fd can neither shrink nor grow it (which
/// would make the other mappings fault), and the ring keeps working.
#[test]
fn hostile_memfd_region_cannot_be_resized_by_a_peer() {
    let ring = Frames::builder().capacity(64).anonymous().unwrap();
    let region = ring.region().unwrap();
    let fd = region.fd().unwrap();
    for len in [0, region.len() as i64 - 1, region.len() as i64 + 4096] {
        assert_eq!(
            nix::unistd::ftruncate(fd, len),
            Err(nix::errno::Errno::EPERM),
            "ftruncate to {len}"
        );
    }
    let mut p = ring.producer().unwrap();
    let mut c = ring.consumer().unwrap();
    p.try_send(b"still here").unwrap();
    assert_eq!(c.try_recv().unwrap(), b"still here");
}

const TRUNCATE_CHILD: &str = "SYNCLAB_HOSTILE_TRUNCATE_CHILD";

/// A named region cannot be sealed: measured here, a peer that truncates it kills a process
/// that then touches the ring with `SIGBUS` (README, "Trust model"). The test re-executes its own
/// binary, filtered to itself, with [`TRUNCATE_CHILD`] set: that copy is the victim.
#[test]
fn hostile_named_region_truncated_by_a_peer_is_sigbus() {
    use std::os::unix::process::ExitStatusExt;
    if std::env::var_os(TRUNCATE_CHILD).is_some() {
        truncation_victim();
    }
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "hostile_named_region_truncated_by_a_peer_is_sigbus",
            "--nocapture",
        ])
        .env(TRUNCATE_CHILD, "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.signal(), Some(libc::SIGBUS), "{status:?}");
}

/// The victim: creates a named ring, truncates it as a peer could, then pushes.
fn truncation_victim() -> ! {
    let name = ShmName::unique("hostile-trunc");
    let ring = Spsc::<u64>::builder().capacity(1024).create(&name).unwrap();
    let mut p = ring.producer().unwrap();
    // The "peer": anyone who can open the name for writing.
    let path = format!("/dev/shm{}", name.as_str());
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    // Unlink now: the SIGBUS below skips our destructors.
    nix::sys::mman::shm_unlink(name.as_str()).unwrap();
    file.set_len(0).unwrap();
    for i in 0..1024 {
        let _ = p.try_push(i);
    }
    unreachable!("the truncated mapping was written without a fault");
}
