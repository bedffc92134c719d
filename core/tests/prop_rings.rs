//! Property tests: each ring driven by random operation sequences against a sequential model
//! (`VecDeque`), and regions/indices corrupted at random must give typed errors, never a panic
//! or an out-of-bounds access.

use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use std::collections::VecDeque;
use std::os::fd::AsFd;
use synclab_core::shm::HEADER_LEN;
use synclab_core::{Frames, Mpmc, RingError, Spsc};

#[derive(Clone, Debug)]
enum Op {
    Push(u32),
    Pop,
    PushSlice(Vec<u32>),
    PopSlice(usize),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        prop_oneof![
            3 => any::<u32>().prop_map(Op::Push),
            3 => Just(Op::Pop),
            1 => prop::collection::vec(any::<u32>(), 0..6).prop_map(Op::PushSlice),
            1 => (0usize..6).prop_map(Op::PopSlice),
        ],
        0..200,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, rng_seed: RngSeed::Fixed(0x5eed_0003), ..ProptestConfig::default() })]

    /// spsc: every push/pop/batch result equals the bounded-FIFO model's.
    #[test]
    fn prop_spsc_ops_match_vecdeque(cap_log in 0u32..4, ops in ops()) {
        let cap = 1usize << cap_log;
        let ring = Spsc::<u32>::builder().capacity(cap).heap_region().unwrap();
        let mut p = ring.producer().unwrap();
        let mut c = ring.consumer().unwrap();
        let mut model = VecDeque::new();
        for op in ops {
            match op {
                Op::Push(v) => {
                    let r = p.try_push(v);
                    if model.len() < cap {
                        prop_assert!(r.is_ok());
                        model.push_back(v);
                    } else {
                        prop_assert!(matches!(r, Err(RingError::Full)));
                    }
                }
                Op::Pop => match model.pop_front() {
                    Some(v) => prop_assert_eq!(c.try_pop().unwrap(), v),
                    None => prop_assert!(matches!(c.try_pop(), Err(RingError::Empty))),
                },
                Op::PushSlice(vs) => {
                    let n = p.push_slice(&vs).unwrap();
                    prop_assert_eq!(n, vs.len().min(cap - model.len()));
                    model.extend(&vs[..n]);
                }
                Op::PopSlice(k) => {
                    let mut out = vec![0u32; k];
                    let n = c.pop_slice(&mut out).unwrap();
                    let want: Vec<u32> = (0..k.min(model.len())).map(|_| model.pop_front().unwrap()).collect();
                    prop_assert_eq!(&out[..n], &want[..]);
                }
            }
        }
    }

    /// mpmc (one thread): every push/pop/close result equals the bounded-FIFO model's.
    #[test]
    fn prop_mpmc_ops_match_vecdeque(cap_log in 1u32..4, ops in ops(), close_at in 0usize..250) {
        let cap = 1usize << cap_log;
        let q = Mpmc::<u32>::builder().capacity(cap).heap_region().unwrap();
        let mut model = VecDeque::new();
        let mut closed = false;
        for (i, op) in ops.into_iter().enumerate() {
            if i == close_at {
                q.close();
                closed = true;
            }
            let pushes: Vec<u32> = match &op {
                Op::Push(v) => vec![*v],
                Op::PushSlice(vs) => vs.clone(),
                _ => vec![],
            };
            for v in pushes {
                let r = q.try_push(v);
                if closed {
                    prop_assert!(matches!(r, Err(RingError::Closed)));
                } else if model.len() < cap {
                    prop_assert!(r.is_ok());
                    model.push_back(v);
                } else {
                    prop_assert!(matches!(r, Err(RingError::Full)));
                }
            }
            let pops = match op { Op::Pop => 1, Op::PopSlice(k) => k, _ => 0 };
            for _ in 0..pops {
                match (model.pop_front(), q.try_pop()) {
                    (Some(v), Ok(got)) => prop_assert_eq!(got, v),
                    (None, Err(RingError::Empty)) => prop_assert!(!closed),
                    (None, Err(RingError::Closed)) => prop_assert!(closed),
                    (want, got) => prop_assert!(false, "model {:?}, queue {:?}", want, got),
                }
            }
            prop_assert_eq!(q.len(), model.len());
        }
    }

    /// frames: send/recv/abandoned reservations match a model that accounts bytes exactly as the
    /// format specifies (8-byte header, payload padded to 8, padding marker to the end of the
    /// buffer when a frame does not fit before it).
    #[test]
    fn prop_frames_ops_match_model(
        cap_log in 6u32..9,
        ops in prop::collection::vec((0u8..4, 0usize..140), 0..200),
    ) {
        let cap = 1usize << cap_log;
        let ring = Frames::builder().capacity(cap).heap_region().unwrap();
        let mut p = ring.producer().unwrap();
        let mut c = ring.consumer().unwrap();
        let max = cap / 2 - 8;
        let mut model: VecDeque<(Vec<u8>, usize)> = VecDeque::new();
        let (mut tail, mut used) = (0usize, 0usize);
        for (n, (kind, len)) in ops.into_iter().enumerate() {
            match kind {
                0 | 1 => {
                    let msg: Vec<u8> = (0..len).map(|k| (n + k) as u8).collect();
                    let r = p.try_send(&msg);
                    if len > max {
                        prop_assert!(matches!(r, Err(RingError::Oversize { .. })), "{:?}", r);
                        continue;
                    }
                    let padded = 8 + len.div_ceil(8) * 8;
                    let off = tail % cap;
                    let need = if cap - off >= padded { padded } else { cap - off + padded };
                    if used + need <= cap {
                        prop_assert!(r.is_ok(), "{:?}", r);
                        tail += need;
                        used += need;
                        model.push_back((msg, need));
                    } else {
                        prop_assert!(matches!(r, Err(RingError::Full)), "{:?}", r);
                    }
                }
                2 => match model.pop_front() {
                    Some((msg, need)) => {
                        prop_assert_eq!(c.try_recv().unwrap(), msg);
                        used -= need;
                    }
                    None => prop_assert!(matches!(c.try_recv(), Err(RingError::Empty))),
                },
                _ => {
                    // A reservation dropped without commit publishes nothing.
                    if let Ok(mut g) = p.try_reserve(len.min(max)) {
                        g.fill(0xee);
                    }
                }
            }
        }
    }

    /// A region whose header was damaged is refused with a typed error naming the problem, unless
    /// only an unchecked byte (creator, reserved, type name) changed; it never panics.
    #[test]
    fn prop_corrupt_region_header_is_a_typed_error(offset in 0usize..HEADER_LEN, byte in any::<u8>()) {
        let ring = Spsc::<u64>::builder().capacity(8).anonymous().unwrap();
        let fd = ring.region().unwrap().fd().unwrap();
        let mut old = [0u8; 1];
        nix::sys::uio::pread(fd, &mut old, offset as i64).unwrap();
        nix::sys::uio::pwrite(fd, &[byte], offset as i64).unwrap();
        let reopened = Spsc::<u64>::builder().open_fd(fd.try_clone_to_owned().unwrap());
        // Bytes 72..76 are the creator pid, 80..88 its start time and a reserved word, 96..128
        // the record type's name: informational only. 76..80 is the ready state, 88..96 the
        // record type's hash.
        let checked = offset < 72 || (76..80).contains(&offset) || (88..96).contains(&offset);
        if checked && old[0] != byte {
            prop_assert!(reopened.is_err(), "offset {} changed {:#x} -> {:#x} yet opened", offset, old[0], byte);
            let msg = reopened.err().unwrap().to_string();
            prop_assert!(!msg.is_empty());
        } else {
            prop_assert!(reopened.is_ok(), "{:?}", reopened.err());
        }
    }

    /// Indices overwritten with garbage (a hostile peer) make operations fail with `Corrupt`
    /// (or succeed where the garbage happens to be consistent), never read outside the ring.
    #[test]
    fn prop_corrupt_indices_are_errors_not_accesses(tail in any::<u64>(), head in any::<u64>(), frames in any::<bool>()) {
        let fd_of = |r: Option<&synclab_core::shm::Region>| r.unwrap().fd().unwrap().try_clone_to_owned().unwrap();
        // PairControl: `tail` at body offset 0, `head` at 128 (each on its own 128-byte line).
        let poke = |fd: &std::os::fd::OwnedFd| {
            nix::sys::uio::pwrite(fd.as_fd(), &tail.to_le_bytes(), HEADER_LEN as i64).unwrap();
            nix::sys::uio::pwrite(fd.as_fd(), &head.to_le_bytes(), HEADER_LEN as i64 + 128).unwrap();
        };
        if frames {
            let ring = Frames::builder().capacity(64).anonymous().unwrap();
            let mut p = ring.producer().unwrap();
            let mut c = ring.consumer().unwrap();
            poke(&fd_of(ring.region()));
            for _ in 0..4 {
                let _ = c.try_recv();
                let _ = p.try_send(b"0123456789");
            }
        } else {
            let ring = Spsc::<u64>::builder().capacity(4).anonymous().unwrap();
            let mut p = ring.producer().unwrap();
            let mut c = ring.consumer().unwrap();
            poke(&fd_of(ring.region()));
            for _ in 0..4 {
                let _ = c.try_pop();
                let _ = p.try_push(7);
                let mut out = [0u64; 3];
                let _ = c.pop_slice(&mut out);
            }
        }
    }
}
