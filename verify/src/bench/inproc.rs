//! In-process throughput: one producer thread, one consumer thread, `n` 16-byte records.
//!
//! Every consumer here checks each record it pops (sequence and payload, [`SequenceCheck`]),
//! as the cross-process consumers do, and a figure is refused if anything was lost, repeated,
//! reordered or torn. This is what makes the figures comparable: a consumer that drops what it
//! pops (`Ok(_) => got += 1`) lets the compiler delete the read of the slot wherever the pop is
//! inlined and the read is an ordinary load (rtrb's `pop`), so that consumer never touches the
//! records' cache lines and the producer writes lines nobody reads. Measured on this machine
//! with the same two-thread single push/pop loop: rtrb 206-227 M msgs/s discarding,
//! 17.5-18.1 M msgs/s reading each record, our `try_pop` 17.6-18.1 either way (its read is
//! volatile: the slot is shared memory a peer may change, so it is never elided). With
//! single-record operations and a consumer that keeps up, every record's line moves between
//! the two cores; that transfer, not the ring, is what such a figure measures.

use crate::record::{Record, SequenceCheck};
use std::time::Instant;
use synclab_core::{Spsc, Wakeups};

/// The rate of `n` records moved since `start`, if `check` saw all of them in order, intact.
fn checked(what: &str, n: u64, check: &SequenceCheck, start: Instant) -> Result<f64, String> {
    let rate = n as f64 / start.elapsed().as_secs_f64();
    if check.ok(n) {
        Ok(rate)
    } else {
        Err(format!("{what}: the consumer saw {}", check.json(n)))
    }
}

/// Our spsc ring on the heap between two threads, `batch` records per call.
pub fn spsc_threads(n: u64, batch: usize) -> Result<f64, String> {
    spsc_threads_with(n, batch, Wakeups::Futex)
}

/// As [`spsc_threads`] on a ring whose blocking forms wait as `wakeups` says: `batch == 1` is
/// single blocking `push`/`pop`; larger batches are write chunks filled in place and read
/// chunks checked in place (like rtrb's `write_chunk_uninit`/`read_chunk` below).
pub fn spsc_threads_with(n: u64, batch: usize, wakeups: Wakeups) -> Result<f64, String> {
    let ring = Spsc::<Record>::builder()
        .capacity(4096)
        .wakeups(wakeups)
        .heap()
        .expect("heap ring");
    let mut p = ring.producer().expect("producer");
    let mut c = ring.consumer().expect("consumer");
    let start = Instant::now();
    let t = std::thread::spawn(move || {
        let mut seq = 0;
        while seq < n {
            if batch <= 1 {
                p.push(Record::new(seq)).expect("push");
                seq += 1;
                continue;
            }
            let want = (n - seq).min(batch as u64) as usize;
            let mut chunk = p.write_chunk_until(want, None).expect("write chunk");
            let k = chunk.fill_from_iter((seq..).map(Record::new));
            chunk.commit(k);
            seq += k as u64;
        }
    });
    let mut check = SequenceCheck::default();
    let mut got = 0;
    while got < n {
        if batch <= 1 {
            let r = c.pop().expect("pop");
            check.see(r.seq, r.intact());
            got += 1;
            continue;
        }
        let chunk = c.read_chunk_until(batch, None).expect("read chunk");
        let (a, b) = chunk.as_slices();
        for r in a.iter().chain(b) {
            check.see(r.seq, r.intact());
        }
        got += chunk.len() as u64;
        chunk.release_all();
    }
    t.join().expect("producer thread");
    checked("synclab spsc", n, &check, start)
}

/// `rtrb` (a well-known wait-free SPSC ring) between two threads, single push/pop, spinning.
pub fn rtrb_threads(n: u64) -> Result<f64, String> {
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
    let mut check = SequenceCheck::default();
    let mut got = 0;
    while got < n {
        match c.pop() {
            Ok(r) => {
                check.see(r.seq, r.intact());
                got += 1;
            }
            Err(_) => std::hint::spin_loop(),
        }
    }
    t.join().expect("producer thread");
    checked("rtrb", n, &check, start)
}

/// crossbeam's bounded MPMC `ArrayQueue` between two threads, spinning.
pub fn crossbeam_threads(n: u64) -> Result<f64, String> {
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
    let mut check = SequenceCheck::default();
    let mut got = 0;
    while got < n {
        match q.pop() {
            Some(r) => {
                check.see(r.seq, r.intact());
                got += 1;
            }
            None => std::hint::spin_loop(),
        }
    }
    t.join().expect("producer thread");
    checked("crossbeam ArrayQueue", n, &check, start)
}

/// Our spsc ring between two threads with the non-blocking `try_push`/`try_pop`, spinning.
pub fn spsc_threads_try(n: u64) -> Result<f64, String> {
    let ring = Spsc::<Record>::builder()
        .capacity(4096)
        .heap()
        .expect("heap ring");
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
    let mut check = SequenceCheck::default();
    let mut got = 0;
    while got < n {
        match c.try_pop() {
            Ok(r) => {
                check.see(r.seq, r.intact());
                got += 1;
            }
            Err(_) => std::hint::spin_loop(),
        }
    }
    t.join().expect("producer thread");
    checked("synclab spsc try_pop", n, &check, start)
}

/// `rtrb` between two threads with its chunk API, up to `batch` records per chunk, spinning:
/// the producer fills `write_chunk_uninit` chunks in place, the consumer reads and checks every
/// record of `read_chunk` chunks in place (like with like beside our `push_slice`/`pop_slice`).
pub fn rtrb_chunk_threads(n: u64, batch: usize) -> Result<f64, String> {
    let (mut p, mut c) = rtrb::RingBuffer::<Record>::new(4096);
    let start = Instant::now();
    let t = std::thread::spawn(move || {
        let mut seq = 0;
        while seq < n {
            let want = (n - seq).min(batch as u64) as usize;
            // The fast path asks for a full chunk (rtrb's cached indices); only when fewer slots
            // are free does it ask how many (a fresh load) and take those.
            if let Ok(chunk) = p.write_chunk_uninit(want) {
                seq += chunk.fill_from_iter((seq..).map(Record::new)) as u64;
                continue;
            }
            let k = p.slots().min(want);
            if k == 0 {
                std::hint::spin_loop();
                continue;
            }
            let chunk = p.write_chunk_uninit(k).expect("k slots are free");
            seq += chunk.fill_from_iter((seq..).map(Record::new)) as u64;
        }
    });
    let mut check = SequenceCheck::default();
    let mut got = 0;
    while got < n {
        let want = (n - got).min(batch as u64) as usize;
        let chunk = match c.read_chunk(want) {
            Ok(chunk) => chunk,
            Err(_) => {
                let k = c.slots().min(want);
                if k == 0 {
                    std::hint::spin_loop();
                    continue;
                }
                c.read_chunk(k).expect("k slots are filled")
            }
        };
        let (a, b) = chunk.as_slices();
        for r in a.iter().chain(b) {
            check.see(r.seq, r.intact());
        }
        got += chunk.len() as u64;
        chunk.commit_all();
    }
    t.join().expect("producer thread");
    checked("rtrb chunks", n, &check, start)
}
