//! `push_slice` / `pop_slice` on one thread: runs stop at the first slot not free (or not
//! published), wrap around the ring, fall back to the single operations for runs of one, and
//! keep FIFO order with the single operations.

use crate::{Mpmc, RingError};

#[test]
fn a_batch_fills_what_is_free_and_pops_in_order() {
    let q = Mpmc::<u64>::builder().capacity(4).heap().unwrap();
    assert_eq!(q.try_push_slice(&[]), Ok(0));
    assert_eq!(q.try_push_slice(&[1, 2, 3, 4, 5, 6]), Ok(4), "capacity 4");
    assert_eq!(q.try_push_slice(&[5, 6]), Err(RingError::Full));
    let mut out = [0u64; 3];
    assert_eq!(q.try_pop_slice(&mut out), Ok(3));
    assert_eq!(out, [1, 2, 3]);
    // Three slots free, wrapping: a run of 3.
    assert_eq!(q.try_push_slice(&[5, 6, 7, 8]), Ok(3));
    let mut out = [0u64; 8];
    assert_eq!(q.try_pop_slice(&mut out), Ok(4));
    assert_eq!(out[..4], [4, 5, 6, 7]);
    assert_eq!(q.try_pop_slice(&mut out), Err(RingError::Empty));
    assert_eq!(q.try_pop_slice(&mut []), Ok(0));
}

#[test]
fn runs_stop_at_the_first_slot_in_the_wrong_state() {
    let q = Mpmc::<u64>::builder().capacity(4).heap().unwrap();
    q.try_push_slice(&[1, 2, 3, 4]).unwrap();
    // Slots 0 and 1 freed; slot 2 still holds record 3: a run of exactly 2, although 3 were
    // offered.
    assert_eq!(q.try_pop(), Ok(1));
    assert_eq!(q.try_pop(), Ok(2));
    assert_eq!(q.try_push_slice(&[5, 6, 7]), Ok(2));
    let mut out = [0u64; 1];
    assert_eq!(
        q.try_pop_slice(&mut out),
        Ok(1),
        "a buffer of one: the single pop"
    );
    assert_eq!(out, [3]);
    let mut out = [0u64; 4];
    assert_eq!(q.pop_slice(&mut out), Ok(3));
    assert_eq!(out[..3], [4, 5, 6]);
}

#[test]
fn a_closed_queue_refuses_batches_and_drains_them() {
    let q = Mpmc::<u64>::builder().capacity(8).heap().unwrap();
    q.push_slice(&[1, 2, 3]).unwrap();
    q.close();
    assert_eq!(q.try_push_slice(&[4, 5]), Err(RingError::Closed));
    let mut out = [0u64; 8];
    assert_eq!(q.pop_slice(&mut out), Ok(3));
    assert_eq!(q.pop_slice(&mut out), Err(RingError::Closed));
}

#[test]
fn batches_between_threads_lose_nothing() {
    let q = Mpmc::<u64>::builder().capacity(16).heap().unwrap();
    let n = 20_000u64;
    let producers: Vec<_> = (0..2u64)
        .map(|id| {
            let q = q.clone();
            std::thread::spawn(move || {
                let values: Vec<u64> = (0..n).map(|i| id << 32 | i).collect();
                let mut done = 0;
                while done < values.len() {
                    let end = (done + 7).min(values.len());
                    done += q.push_slice(&values[done..end]).unwrap();
                }
            })
        })
        .collect();
    let consumer = {
        let q = q.clone();
        std::thread::spawn(move || {
            let mut last = [None::<u64>; 2];
            let mut got = 0u64;
            let mut out = [0u64; 5];
            while let Ok(k) = q.pop_slice(&mut out) {
                for &v in &out[..k] {
                    let (id, i) = ((v >> 32) as usize, v & 0xffff_ffff);
                    assert!(last[id].is_none_or(|l| l < i), "per-producer FIFO");
                    last[id] = Some(i);
                    got += 1;
                }
            }
            got
        })
    };
    for p in producers {
        p.join().unwrap();
    }
    q.close();
    assert_eq!(consumer.join().unwrap(), 2 * n);
}
