//! Tests of the spsc chunk API and of spsc's validation of what it reads from the region
//! (positions near `u64::MAX`, a hostile `tail` on attach, `head`/`tail` moved backwards or
//! too far). Named `miri_*` when small enough for Miri.

use super::Spsc;
use crate::ring::RingError;
use std::sync::atomic::Ordering::SeqCst;

fn heap(cap: usize) -> Spsc<u64> {
    Spsc::builder().capacity(cap).heap_region().unwrap()
}

fn corrupt_naming<T: std::fmt::Debug>(r: Result<T, RingError>, field: &str) {
    match r {
        Err(RingError::Corrupt(m)) => assert!(m.contains(field), "{m:?} should name {field}"),
        other => panic!("expected Corrupt naming {field}, got {other:?}"),
    }
}

#[test]
fn miri_chunks_wrap_into_two_slices_and_commit_partially() {
    let ring = heap(4);
    let mut p = ring.producer().unwrap();
    let mut c = ring.consumer().unwrap();
    assert_eq!(p.push_slice(&[100, 101, 102]).unwrap(), 3);
    let chunk = c.read_chunk(2).unwrap();
    assert_eq!(chunk.as_slices(), (&[100, 101][..], &[][..]));
    chunk.release_all();
    // Slot 3 is free, then slots 0 and 1: a grant of 3 wraps.
    let mut w = p.write_chunk(8).unwrap();
    assert_eq!(w.len(), 3);
    let (a, b) = w.as_mut_slices();
    assert_eq!((a.len(), b.len()), (1, 2));
    a[0] = 103;
    b[0] = 104;
    b[1] = 999; // not committed
    w.commit(2);
    let r = c.read_chunk(8).unwrap();
    assert_eq!(r.len(), 3);
    assert_eq!(r.as_slices(), (&[102, 103][..], &[104][..]));
    assert_eq!(r.get(2), 104);
    r.release(1);
    // Dropping a chunk releases (or publishes) nothing.
    drop(c.read_chunk(8).unwrap());
    drop(p.write_chunk(8).unwrap());
    let mut out = [0u64; 8];
    assert_eq!(c.pop_slice(&mut out).unwrap(), 2);
    assert_eq!(&out[..2], &[103, 104]);
    assert!(matches!(c.read_chunk(1), Err(RingError::Empty)));
    assert_eq!(c.read_chunk(0).unwrap().len(), 0);
}

#[test]
fn miri_write_chunk_reports_full_then_closed() {
    let ring = heap(2);
    let mut p = ring.producer().unwrap();
    let c = ring.consumer().unwrap();
    p.write_chunk(2).unwrap().commit_all();
    assert!(matches!(p.write_chunk(1), Err(RingError::Full)));
    assert_eq!(p.push_slice(&[1]).unwrap(), 0);
    drop(c);
    assert!(matches!(p.write_chunk(1), Err(RingError::Closed)));
}

#[test]
fn miri_chunk_copies_and_generic_access_agree() {
    let ring = heap(8);
    let mut p = ring.producer().unwrap();
    let mut c = ring.consumer().unwrap();
    let mut w = p.write_chunk(5).unwrap();
    assert_eq!(w.copy_from(&[1, 2, 3]), 3);
    w.set(3, 4);
    w.commit(4);
    let r = c.read_chunk(8).unwrap();
    let mut out = [0u64; 2];
    assert_eq!(r.copy_to(&mut out), 2);
    assert_eq!(out, [1, 2]);
    assert_eq!(
        (0..r.len()).map(|i| r.get(i)).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    r.release_all();
}

#[test]
fn miri_positions_wrap_past_u64_max() {
    let ring = heap(4);
    let start = u64::MAX - 5;
    ring.storage.ctrl().tail.store(start, SeqCst);
    ring.storage.ctrl().head.store(start, SeqCst);
    let mut p = ring.producer().unwrap();
    let mut c = ring.consumer().unwrap();
    for i in 0..20u64 {
        p.try_push(i).unwrap();
        if i % 2 == 1 {
            assert_eq!(p.push_slice(&[100 + i]).unwrap(), 1);
            assert_eq!(c.try_pop().unwrap(), i - 1);
            assert_eq!(c.try_pop().unwrap(), i);
            assert_eq!(c.try_pop().unwrap(), 100 + i);
        }
    }
    assert!(matches!(c.try_pop(), Err(RingError::Empty)));
}

#[test]
fn attaching_producer_refuses_a_tail_too_far_ahead() {
    for (tail, head) in [(1 << 40, 0), (5, 0), (0, 1), (u64::MAX, 4)] {
        let ring = heap(4);
        ring.storage.ctrl().tail.store(tail, SeqCst);
        ring.storage.ctrl().head.store(head, SeqCst);
        assert!(
            matches!(ring.producer(), Err(RingError::Corrupt(_))),
            "tail {tail}, head {head}"
        );
    }
    // Exactly full is fine.
    let ring = heap(4);
    ring.storage.ctrl().tail.store(6, SeqCst);
    ring.storage.ctrl().head.store(2, SeqCst);
    let mut p = ring.producer().unwrap();
    assert!(matches!(p.try_push(1), Err(RingError::Full)));
}

#[test]
fn hostile_head_is_reported_on_reload() {
    let ring = heap(4);
    let mut p = ring.producer().unwrap();
    let _c = ring.consumer().unwrap();
    assert_eq!(p.push_slice(&[1, 2, 3, 4]).unwrap(), 4);
    // Past `tail`.
    ring.storage.ctrl().head.store(9, SeqCst);
    corrupt_naming(p.try_push(5), "head");
    corrupt_naming(p.write_chunk(1), "head");
    // Backwards (wrapping: far ahead) of what we saw.
    ring.storage.ctrl().head.store(u64::MAX, SeqCst);
    corrupt_naming(p.push_slice(&[5]), "head");
}

#[test]
fn hostile_tail_is_reported_on_reload() {
    let ring = heap(4);
    let mut p = ring.producer().unwrap();
    let mut c = ring.consumer().unwrap();
    p.try_push(1).unwrap();
    p.try_push(2).unwrap();
    let r = c.read_chunk(1).unwrap();
    r.release_all();
    // More than `capacity` past head.
    ring.storage.ctrl().tail.store(7, SeqCst);
    corrupt_naming(c.read_chunk(9), "tail");
    // Behind what we already saw.
    ring.storage.ctrl().tail.store(0, SeqCst);
    corrupt_naming(c.read_chunk(4), "tail");
    ring.storage.ctrl().tail.store(u64::MAX, SeqCst);
    let mut out = [0u64; 4];
    corrupt_naming(c.pop_slice(&mut out), "tail");
}

#[test]
fn miri_chunks_between_threads_in_place() {
    // Small enough for Miri, which checks the in-place slices for undefined behaviour while the
    // other side runs (capacity 4, so most chunks are short and many wrap).
    let ring = heap(4);
    let mut p = ring.producer().unwrap();
    let mut c = ring.consumer().unwrap();
    const N: u64 = 60;
    let t = std::thread::spawn(move || {
        let mut next = 0;
        while next < N {
            let want = ((N - next) as usize).min(3);
            let mut chunk = p.write_chunk_until(want, None).unwrap();
            let (a, b) = chunk.as_mut_slices();
            for (i, slot) in a.iter_mut().chain(b).enumerate() {
                *slot = next + i as u64;
            }
            next += chunk.len() as u64;
            chunk.commit_all();
        }
    });
    let mut expect = 0;
    while expect < N {
        let chunk = c.read_chunk_until(3, None).unwrap();
        let (a, b) = chunk.as_slices();
        for v in a.iter().chain(b) {
            assert_eq!(*v, expect);
            expect += 1;
        }
        chunk.release_all();
    }
    t.join().unwrap();
    assert!(matches!(
        c.read_chunk_until(1, None),
        Err(RingError::Closed)
    ));
}

/// A producer blocked on a full ring, whose consumer frees one slot and then stops, still
/// pushes: the gather of a few lines' worth of room before writing is bounded, not a wait for
/// room the consumer may never free.
#[test]
fn blocked_push_goes_on_with_one_free_slot() {
    let ring = heap(64);
    let mut p = ring.producer().unwrap();
    let mut c = ring.consumer().unwrap();
    for i in 0..64 {
        p.push(i).unwrap();
    }
    assert_eq!(p.try_push(64), Err(RingError::Full));
    let popper = std::thread::spawn(move || {
        let first = c.pop().unwrap();
        (first, c)
    });
    let deadline = crate::mem::Deadline::after(std::time::Duration::from_secs(10));
    p.push_until(64, Some(deadline)).unwrap();
    let (first, mut c) = popper.join().unwrap();
    assert_eq!(first, 0);
    assert_eq!(p.try_push(65), Err(RingError::Full));
    let mut rest = vec![0; 64];
    assert_eq!(c.pop_slice(&mut rest).unwrap(), 64);
    assert_eq!(rest, (1..=64).collect::<Vec<u64>>());
}
