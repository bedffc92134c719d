//! In-process tests of the rings on heap regions (the same layout and code as shared memory).
//! Tests named `miri_*` are small enough for Miri (`cargo +nightly miri test -p synclab-core
//! --lib -- miri_`), which checks the unsafe code for undefined behaviour.

use super::*;
use crate::mem::RealMemory;
use std::sync::atomic::Ordering;

fn heap_spsc(cap: usize) -> Spsc<u64> {
    Spsc::builder().capacity(cap).heap_region().unwrap()
}

#[test]
fn miri_spsc_fifo_wraps_and_reports_full_and_empty() {
    let ring = heap_spsc(4);
    let mut p = ring.producer().unwrap();
    let mut c = ring.consumer().unwrap();
    assert!(matches!(c.try_pop(), Err(RingError::Empty)));
    let mut next_in = 0u64;
    let mut next_out = 0u64;
    for round in 0..10 {
        while p.try_push(next_in).is_ok() {
            next_in += 1;
        }
        assert_eq!(next_in - next_out, 4, "round {round}: full at capacity");
        for _ in 0..3 {
            assert_eq!(c.try_pop().unwrap(), next_out);
            next_out += 1;
        }
    }
    let mut out = [0u64; 8];
    let n = c.pop_slice(&mut out).unwrap();
    assert_eq!(n as u64, next_in - next_out);
    assert_eq!(out[0], next_out);
}

#[test]
fn miri_spsc_batches_publish_in_order() {
    let ring = heap_spsc(8);
    let mut p = ring.producer().unwrap();
    let mut c = ring.consumer().unwrap();
    let items: Vec<u64> = (0..20).collect();
    assert_eq!(p.push_slice(&items).unwrap(), 8);
    let mut out = [0u64; 5];
    assert_eq!(c.pop_slice(&mut out).unwrap(), 5);
    assert_eq!(out, [0, 1, 2, 3, 4]);
    assert_eq!(p.push_slice(&items[8..]).unwrap(), 5);
    let mut rest = vec![0u64; 16];
    let n = c.pop_slice(&mut rest).unwrap();
    assert_eq!(&rest[..n], &(5..13).collect::<Vec<_>>()[..]);
}

#[test]
fn miri_spsc_threads_blocking() {
    // Under Miri `membarrier` is unavailable, so `Futex` rings take the fenced path there.
    for wakeups in [Wakeups::Futex, Wakeups::FutexFenced] {
        let ring = Spsc::<u64>::builder()
            .capacity(4)
            .wakeups(wakeups)
            .heap_region()
            .unwrap();
        let mut p = ring.producer().unwrap();
        let mut c = ring.consumer().unwrap();
        let n = if cfg!(miri) { 50 } else { 100_000 };
        let t = std::thread::spawn(move || {
            for i in 0..n {
                p.push(i).unwrap();
            }
        });
        for i in 0..n {
            assert_eq!(c.pop().unwrap(), i, "{wakeups:?}");
        }
        t.join().unwrap();
        assert!(matches!(c.pop(), Err(RingError::Closed)));
    }
}

#[test]
fn rings_record_how_they_wait() {
    use crate::mem::Memory;
    let futex = if RealMemory::join_asymmetric() {
        Wakeups::Futex
    } else {
        Wakeups::FutexFenced
    };
    for (asked, got) in [
        (Wakeups::Futex, futex),
        (Wakeups::FutexFenced, Wakeups::FutexFenced),
        (Wakeups::Spin, Wakeups::Spin),
    ] {
        let ring = Spsc::<u64>::builder()
            .capacity(4)
            .wakeups(asked)
            .heap_region()
            .unwrap();
        assert_eq!(ring.wakeups(), got);
        let frames = Frames::builder()
            .capacity(64)
            .wakeups(asked)
            .heap_region()
            .unwrap();
        assert_eq!(frames.wakeups(), got);
    }
}

#[test]
fn miri_spin_only_rings_block_without_parking() {
    let ring = Spsc::<u64>::builder()
        .capacity(4)
        .wakeups(Wakeups::Spin)
        .heap_region()
        .unwrap();
    let mut p = ring.producer().unwrap();
    let mut c = ring.consumer().unwrap();
    let n = if cfg!(miri) { 30 } else { 100_000 };
    let t = std::thread::spawn(move || {
        for i in 0..n {
            p.push(i).unwrap();
        }
    });
    for i in 0..n {
        assert_eq!(c.pop().unwrap(), i);
    }
    t.join().unwrap();
    assert!(matches!(c.pop(), Err(RingError::Closed)));
    let frames = Frames::builder()
        .capacity(64)
        .wakeups(Wakeups::Spin)
        .heap_region()
        .unwrap();
    let mut fp = frames.producer().unwrap();
    let mut fc = frames.consumer().unwrap();
    let t = std::thread::spawn(move || {
        for i in 0..n {
            fp.send(&i.to_le_bytes(), None).unwrap();
        }
    });
    for i in 0..n {
        assert_eq!(fc.read(None, |b| b.to_vec()).unwrap(), i.to_le_bytes());
    }
    t.join().unwrap();
}

#[test]
fn spsc_roles_are_claimed_once_and_close_propagates() {
    let ring = heap_spsc(2);
    let p = ring.producer().unwrap();
    assert!(matches!(
        ring.producer(),
        Err(RingError::RoleTaken("producer"))
    ));
    let mut c = ring.consumer().unwrap();
    assert!(matches!(
        ring.consumer(),
        Err(RingError::RoleTaken("consumer"))
    ));
    drop(p);
    assert!(matches!(c.try_pop(), Err(RingError::Closed)));
}

#[test]
fn spsc_corrupt_tail_is_an_error_not_a_read() {
    let ring = heap_spsc(4);
    let mut c = ring.consumer().unwrap();
    ring.storage.ctrl().tail.store(1 << 40, Ordering::SeqCst);
    assert!(matches!(c.try_pop(), Err(RingError::Corrupt(_))));
}

#[test]
fn miri_mpmc_fifo_single_thread() {
    let q: Mpmc<u32> = Mpmc::builder().capacity(4).heap_region().unwrap();
    for lap in 0..5u32 {
        for i in 0..4 {
            q.try_push(lap * 10 + i).unwrap();
        }
        assert!(matches!(q.try_push(99), Err(RingError::Full)));
        for i in 0..4 {
            assert_eq!(q.try_pop().unwrap(), lap * 10 + i);
        }
        assert!(matches!(q.try_pop(), Err(RingError::Empty)));
    }
    q.close();
    assert!(matches!(q.try_pop(), Err(RingError::Closed)));
    assert!(matches!(q.try_push(1), Err(RingError::Closed)));
}

#[test]
fn miri_mpmc_threads_no_loss_no_duplicate() {
    let q: Mpmc<u64> = Mpmc::builder().capacity(4).heap_region().unwrap();
    let per = if cfg!(miri) { 20 } else { 20_000 };
    let producers: Vec<_> = (0..2u64)
        .map(|id| {
            let q = q.clone();
            std::thread::spawn(move || {
                for i in 0..per {
                    q.push(id << 32 | i).unwrap();
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let q = q.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                while let Ok(v) = q.pop() {
                    got.push(v);
                }
                got
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    q.close();
    let mut all: Vec<Vec<u64>> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
    for got in &all {
        for id in 0..2u64 {
            let mine: Vec<u64> = got.iter().copied().filter(|v| v >> 32 == id).collect();
            assert!(
                mine.windows(2).all(|w| w[0] < w[1]),
                "per-producer FIFO per consumer"
            );
        }
    }
    let mut flat: Vec<u64> = all.drain(..).flatten().collect();
    flat.sort_unstable();
    let mut want: Vec<u64> = (0..2u64)
        .flat_map(|id| (0..per).map(move |i| id << 32 | i))
        .collect();
    want.sort_unstable();
    assert_eq!(flat, want);
}

#[test]
fn miri_frames_roundtrip_with_wrap_and_oversize() {
    let ring: Frames = Frames::builder().capacity(64).heap_region().unwrap();
    let mut p = ring.producer().unwrap();
    let mut c = ring.consumer().unwrap();
    assert_eq!(p.max_message(), 24);
    assert!(matches!(
        p.try_send(&[0; 25]),
        Err(RingError::Oversize { len: 25, max: 24 })
    ));
    for i in 0..40u8 {
        let len = (i as usize * 7) % 25;
        let msg: Vec<u8> = (0..len as u8).map(|b| b.wrapping_add(i)).collect();
        p.try_send(&msg).unwrap();
        assert_eq!(c.try_recv().unwrap(), msg);
    }
    assert!(matches!(c.try_recv(), Err(RingError::Empty)));
    {
        let mut g = p.try_reserve(3).unwrap();
        g.copy_from_slice(b"abc");
    } // dropped without commit: nothing is published
    assert!(matches!(c.try_recv(), Err(RingError::Empty)));
    let mut g = p.try_reserve(3).unwrap();
    g.copy_from_slice(b"xyz");
    g.commit();
    assert_eq!(c.try_read(|b| b.to_vec()).unwrap(), b"xyz");
    p.try_send(b"in place").unwrap();
    // SAFETY: the producer is this test's own handle, which follows the protocol.
    let got = unsafe { c.try_read_trusted(|b| b.to_vec()) };
    assert_eq!(got.unwrap(), b"in place");
    let mut buf = vec![1, 2, 3];
    p.try_send(b"into").unwrap();
    assert_eq!(c.try_recv_into(&mut buf), Ok(4));
    assert_eq!(buf, b"into");
}

#[test]
fn miri_frames_threads_blocking() {
    for wakeups in [Wakeups::Futex, Wakeups::FutexFenced] {
        frames_threads_blocking(wakeups);
    }
}

fn frames_threads_blocking(wakeups: Wakeups) {
    let ring: Frames = Frames::builder()
        .capacity(128)
        .wakeups(wakeups)
        .heap_region()
        .unwrap();
    let mut p = ring.producer().unwrap();
    let mut c = ring.consumer().unwrap();
    let n = if cfg!(miri) { 30 } else { 50_000u32 };
    let t = std::thread::spawn(move || {
        for i in 0..n {
            let len = (i % 57) as usize;
            let mut g = p.reserve(len, None).unwrap();
            if i % 2 == 0 {
                let bytes: Vec<u8> = (0..len).map(|k| (i as usize + k) as u8).collect();
                g.copy_from_slice(&bytes);
            } else {
                // SAFETY: the consumer is this test's own thread, which follows the protocol.
                for (k, b) in unsafe { g.as_mut_trusted() }.iter_mut().enumerate() {
                    *b = (i as usize + k) as u8;
                }
            }
            g.commit();
        }
    });
    for i in 0..n {
        let ok = c
            .read(None, |b| {
                b.len() == (i % 57) as usize
                    && b.iter()
                        .enumerate()
                        .all(|(k, x)| *x == (i as usize + k) as u8)
            })
            .unwrap();
        assert!(ok, "frame {i} intact");
    }
    t.join().unwrap();
    assert!(matches!(c.try_recv(), Err(RingError::Closed)));
}

#[test]
fn frames_corrupt_header_is_an_error() {
    let ring: Frames = Frames::builder().capacity(64).heap_region().unwrap();
    let mut p = ring.producer().unwrap();
    let mut c = ring.consumer().unwrap();
    p.try_send(b"hello").unwrap();
    // Overwrite the published header's length with garbage, as a hostile producer could.
    for cell in &ring.cells()[0..4] {
        // SAFETY: test only; no concurrent access.
        unsafe { crate::mem::SlotCell::write(cell, 0xff) };
    }
    assert!(matches!(c.try_recv(), Err(RingError::Corrupt(_))));
}

#[test]
fn bad_capacities_are_refused() {
    assert!(matches!(
        Spsc::<u64>::builder().capacity(3).heap_region(),
        Err(RingError::BadCapacity { capacity: 3, .. })
    ));
    assert!(Mpmc::<u64>::builder().capacity(1).heap_region().is_err());
    assert!(Frames::builder().capacity(16).heap_region().is_err());
}
