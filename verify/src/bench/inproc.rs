//! In-process throughput: one producer thread, one consumer thread, `n` 16-byte records.

use crate::workers::Record;
use std::time::Instant;
use synclab_core::ring::{Placement, Spsc, Wakeups};

/// Our spsc ring on the heap between two threads, `batch` records per call.
pub fn spsc_threads(n: u64, batch: usize) -> f64 {
    spsc_threads_with(n, batch, Wakeups::Futex)
}

/// As [`spsc_threads`] on a ring whose blocking forms wait as `wakeups` says.
pub fn spsc_threads_with(n: u64, batch: usize, wakeups: Wakeups) -> f64 {
    let ring = Spsc::<Record>::create_in_with(Placement::Heap, 4096, wakeups).expect("heap ring");
    let mut p = ring.producer().expect("producer");
    let mut c = ring.consumer().expect("consumer");
    let start = Instant::now();
    let t = std::thread::spawn(move || {
        let mut buf = vec![Record::new(0); batch];
        let mut seq = 0;
        while seq < n {
            let k = (n - seq).min(batch as u64) as usize;
            for (i, r) in buf[..k].iter_mut().enumerate() {
                *r = Record::new(seq + i as u64);
            }
            p.push_all(&buf[..k]).expect("push");
            seq += k as u64;
        }
    });
    let mut buf = vec![Record::new(0); batch];
    let mut got = 0;
    while got < n {
        got += c.pop_slice_blocking(&mut buf, None).expect("pop") as u64;
    }
    t.join().expect("producer thread");
    n as f64 / start.elapsed().as_secs_f64()
}

/// `rtrb` (a well-known wait-free SPSC ring) between two threads, single push/pop, spinning.
pub fn rtrb_threads(n: u64) -> f64 {
    let (mut p, mut c) = rtrb::RingBuffer::<Record>::new(4096);
    let start = Instant::now();
    let t = std::thread::spawn(move || {
        for i in 0..n {
            let mut r = Record::new(i);
            while let Err(rtrb::PushError::Full(back)) = p.push(r) {
                r = back;
                std::hint::spin_loop();
            }
        }
    });
    let mut got = 0;
    while got < n {
        match c.pop() {
            Ok(_) => got += 1,
            Err(_) => std::hint::spin_loop(),
        }
    }
    t.join().expect("producer thread");
    n as f64 / start.elapsed().as_secs_f64()
}

/// crossbeam's bounded MPMC `ArrayQueue` between two threads, spinning.
pub fn crossbeam_threads(n: u64) -> f64 {
    let q = std::sync::Arc::new(crossbeam::queue::ArrayQueue::<Record>::new(4096));
    let qp = std::sync::Arc::clone(&q);
    let start = Instant::now();
    let t = std::thread::spawn(move || {
        for i in 0..n {
            let mut r = Record::new(i);
            while let Err(back) = qp.push(r) {
                r = back;
                std::hint::spin_loop();
            }
        }
    });
    let mut got = 0;
    while got < n {
        match q.pop() {
            Some(_) => got += 1,
            None => std::hint::spin_loop(),
        }
    }
    t.join().expect("producer thread");
    n as f64 / start.elapsed().as_secs_f64()
}

/// Our spsc ring between two threads with the non-blocking `try_push`/`try_pop`, spinning.
pub fn spsc_threads_try(n: u64) -> f64 {
    let ring = Spsc::<Record>::create_in(Placement::Heap, 4096).expect("heap ring");
    let mut p = ring.producer().expect("producer");
    let mut c = ring.consumer().expect("consumer");
    let start = Instant::now();
    let t = std::thread::spawn(move || {
        for i in 0..n {
            while p.try_push(Record::new(i)).is_err() {
                std::hint::spin_loop();
            }
        }
    });
    let mut got = 0;
    while got < n {
        match c.try_pop() {
            Ok(_) => got += 1,
            Err(_) => std::hint::spin_loop(),
        }
    }
    t.join().expect("producer thread");
    n as f64 / start.elapsed().as_secs_f64()
}
