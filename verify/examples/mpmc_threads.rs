//! A driver for profiling our mpmc queue: `K` producer and `K` consumer threads on one heap
//! queue (the same algorithm the bench runs between processes), blocking `push`/`pop`, every
//! record checked (per producer, strictly increasing; counts add up); or, for
//! `valgrind --tool=callgrind` instruction counts, one thread doing bursts of pushes then pops.
//!
//! ```text
//! cargo build --release -p synclab-verify --example mpmc_threads
//! perf record -g target/release/examples/mpmc_threads threads 2 20000000
//! valgrind --tool=callgrind target/release/examples/mpmc_threads single 1 1000000
//! ```
//! Modes: `threads` (K+K threads, blocking push/pop), `batch` (K+K threads, `push_slice` /
//! `pop_slice` of 64), `aq` (crossbeam's `ArrayQueue`, K+K threads yielding on full/empty, as
//! the bench runs it), `single` (one thread: 64 pushes then 64 pops, `N` records),
//! `single-batch` (the same with one `push_slice` and one `pop_slice` of 64), `aq-single`
//! (the same 64 + 64 on an `ArrayQueue`). Divide a
//! callgrind count by `N` after subtracting a run with `N = 0`.

use std::hint::black_box;
use std::time::Instant;
use synclab_core::Mpmc;
use synclab_verify::record::Record;

const BURST: usize = 64;

fn single(q: &Mpmc<Record>, n: u64) {
    let mut i = 0;
    while i < n {
        let m = (n - i).min(BURST as u64);
        for j in 0..m {
            q.push(Record::new(i + j)).expect("push");
        }
        for j in 0..m {
            let r = q.pop().expect("pop");
            assert!(r.seq == i + j && r.intact(), "bad record");
        }
        i += m;
    }
}

fn single_batch(q: &Mpmc<Record>, n: u64) {
    let mut buf = [Record::new(0); BURST];
    let mut i = 0;
    while i < n {
        let m = (n - i).min(BURST as u64) as usize;
        for (j, r) in buf[..m].iter_mut().enumerate() {
            *r = Record::new(i + j as u64);
        }
        assert_eq!(q.push_slice(&buf[..m]).expect("push_slice"), m);
        assert_eq!(q.pop_slice(&mut buf[..m]).expect("pop_slice"), m);
        for (j, r) in buf[..m].iter().enumerate() {
            assert!(r.seq == i + j as u64 && r.intact(), "bad record");
        }
        i += m as u64;
    }
}

fn aq_single(n: u64) {
    let q = crossbeam::queue::ArrayQueue::<Record>::new(4096);
    let mut i = 0;
    while i < n {
        let m = (n - i).min(BURST as u64);
        for j in 0..m {
            assert!(q.push(Record::new(i + j)).is_ok(), "push");
        }
        for j in 0..m {
            let r = q.pop().expect("pop");
            assert!(r.seq == i + j && r.intact(), "bad record");
        }
        i += m;
    }
}

fn threads(q: &Mpmc<Record>, k: u64, n: u64, batch: bool) -> u64 {
    std::thread::scope(|s| {
        let producers: Vec<_> = (0..k)
            .map(|id| {
                let q = q.clone();
                s.spawn(move || produce(&q, id, n, batch))
            })
            .collect();
        let consumers: Vec<_> = (0..k)
            .map(|_| {
                let q = q.clone();
                s.spawn(move || consume(&q, batch))
            })
            .collect();
        for p in producers {
            p.join().expect("producer");
        }
        q.close();
        consumers
            .into_iter()
            .map(|c| c.join().expect("consumer"))
            .sum()
    })
}

fn produce(q: &Mpmc<Record>, id: u64, n: u64, batch: bool) {
    if !batch {
        for i in 0..n {
            q.push(Record::new(id << 40 | i)).expect("push");
        }
        return;
    }
    let mut buf = [Record::new(0); BURST];
    let mut i = 0;
    while i < n {
        let m = (n - i).min(BURST as u64) as usize;
        for (j, r) in buf[..m].iter_mut().enumerate() {
            *r = Record::new(id << 40 | (i + j as u64));
        }
        let mut done = 0;
        while done < m {
            done += q.push_slice(&buf[done..m]).expect("push_slice");
        }
        i += m as u64;
    }
}

fn consume(q: &Mpmc<Record>, batch: bool) -> u64 {
    let mut last = [None::<u64>; 64];
    let mut count = 0u64;
    let mut see = |r: Record| {
        let id = (r.seq >> 40) as usize;
        let i = r.seq & ((1 << 40) - 1);
        assert!(r.intact() && last[id].is_none_or(|l| l < i), "bad record");
        last[id] = Some(i);
        count += 1;
    };
    let mut buf = [Record::new(0); BURST];
    loop {
        if batch {
            match q.pop_slice(&mut buf) {
                Ok(m) => buf[..m].iter().for_each(|&r| see(r)),
                Err(synclab_core::RingError::Closed) => break,
                Err(e) => panic!("pop_slice: {e}"),
            }
        } else {
            match q.pop() {
                Ok(r) => see(r),
                Err(synclab_core::RingError::Closed) => break,
                Err(e) => panic!("pop: {e}"),
            }
        }
    }
    count
}

fn arrayqueue(k: u64, n: u64) {
    let q = crossbeam::queue::ArrayQueue::<Record>::new(4096);
    let done = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|s| {
        for id in 0..k {
            let (q, done) = (&q, &done);
            s.spawn(move || {
                for i in 0..n {
                    let mut r = Record::new(id << 40 | i);
                    while let Err(back) = q.push(r) {
                        r = back;
                        std::thread::yield_now();
                    }
                }
                // Release: pairs with the consumers' Acquire.
                done.fetch_add(1, std::sync::atomic::Ordering::Release);
            });
        }
        let total: u64 = (0..k)
            .map(|_| {
                let (q, done) = (&q, &done);
                s.spawn(move || {
                    let mut got = 0u64;
                    loop {
                        if let Some(r) = q.pop() {
                            assert!(r.intact(), "bad record");
                            got += 1;
                            continue;
                        }
                        // Acquire: after every producer's Release, an empty queue stays empty.
                        if done.load(std::sync::atomic::Ordering::Acquire) == k && q.is_empty() {
                            return got;
                        }
                        std::thread::yield_now();
                    }
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().expect("consumer"))
            .sum();
        assert_eq!(total, k * n, "records lost");
    });
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map_or("threads", String::as_str).to_string();
    let k: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2);
    let n: u64 = args
        .get(3)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000);
    let q = Mpmc::<Record>::builder()
        .capacity(4096)
        .heap()
        .expect("queue");
    let start = Instant::now();
    let total = match mode.as_str() {
        "single" => {
            single(&q, n);
            n
        }
        "single-batch" => {
            single_batch(&q, n);
            n
        }
        "aq-single" => {
            aq_single(black_box(n));
            n
        }
        "aq" => {
            let per = n / k;
            arrayqueue(k, per);
            per * k
        }
        "threads" | "batch" => {
            let per = n / k;
            let got = threads(&q, k, per, mode == "batch");
            assert_eq!(got, per * k, "records lost");
            got
        }
        other => panic!("unknown mode {other}"),
    };
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{mode} {k}+{k} {total}: {:.1} M msgs/s",
        black_box(total) as f64 / secs / 1e6
    );
}
