//! A small single-threaded driver for instruction counts under `valgrind --tool=callgrind`
//! (repeatable on a shared machine, unlike wall-clock time): moves `N` 16-byte records through
//! our spsc ring or rtrb 0.4 in bursts, so the cached-index fast path and the reload path are
//! both exercised, and checks every record so no read is optimised away.
//!
//! ```text
//! cargo build --release -p synclab-verify --example spsc_callgrind
//! valgrind --tool=callgrind target/release/examples/spsc_callgrind ours-single 1000000
//! ```
//! Modes: `ours-single` (a `Wakeups::Futex` ring), `ours-single-spin` (`Wakeups::Spin`: no
//! notify check), `rtrb-single` (bursts of 64 single push then 64 single pop),
//! `ours-chunk` (`push_slice`/`pop_slice`, copying), `ours-zc` (`write_chunk`/`read_chunk` in
//! place), `rtrb-chunk` (`write_chunk_uninit`/`read_chunk` in place), chunks of 256. Divide the instruction count of the run by `N`,
//! after subtracting a run with `N = 0` (start-up).

use std::hint::black_box;
use synclab_core::{Spsc, Wakeups};
use synclab_verify::record::Record;

const BURST: usize = 64;
const CHUNK: usize = 256;

/// Moves records `0..n` in bursts of at most `burst`: `burst_of(seq, k)` moves records
/// `seq..seq + k` through the ring and returns how many it read back wrong.
fn in_bursts(n: u64, burst: usize, mut burst_of: impl FnMut(u64, usize) -> u64) -> u64 {
    let (mut seq, mut bad) = (0, 0);
    while seq < n {
        let k = (burst as u64).min(n - seq);
        bad += burst_of(seq, k as usize);
        seq += k;
    }
    bad
}

/// How many of `records` are not the intact records `seq, seq + 1, …` in order.
fn wrong(seq: u64, records: impl IntoIterator<Item = Record>) -> u64 {
    records
        .into_iter()
        .enumerate()
        .map(|(i, r)| u64::from(r.seq != seq + i as u64 || !r.intact()))
        .sum()
}

/// The record `seq`, its number hidden from the optimiser.
fn record(seq: u64) -> Record {
    Record::new(black_box(seq))
}

fn ours(capacity: usize, wakeups: Wakeups) -> Spsc<Record> {
    Spsc::<Record>::builder()
        .capacity(capacity)
        .wakeups(wakeups)
        .heap()
        .expect("ring")
}

fn ours_single(n: u64, wakeups: Wakeups) -> u64 {
    let ring = ours(1024, wakeups);
    let mut p = ring.producer().expect("producer");
    let mut c = ring.consumer().expect("consumer");
    in_bursts(n, BURST, |seq, k| {
        for s in seq..seq + k as u64 {
            p.try_push(record(s)).expect("push");
        }
        wrong(seq, (0..k).map(|_| c.try_pop().expect("pop")))
    })
}

fn rtrb_single(n: u64) -> u64 {
    let (mut p, mut c) = rtrb::RingBuffer::<Record>::new(1024);
    in_bursts(n, BURST, |seq, k| {
        for s in seq..seq + k as u64 {
            p.push(record(s)).expect("push");
        }
        wrong(seq, (0..k).map(|_| c.pop().expect("pop")))
    })
}

fn ours_chunk(n: u64) -> u64 {
    let ring = ours(4096, Wakeups::default());
    let mut p = ring.producer().expect("producer");
    let mut c = ring.consumer().expect("consumer");
    let mut buf = vec![Record::new(0); CHUNK];
    let mut out = vec![Record::new(0); CHUNK];
    in_bursts(n, CHUNK, |seq, k| {
        for (s, r) in (seq..).zip(&mut buf[..k]) {
            *r = record(s);
        }
        assert_eq!(p.push_slice(&buf[..k]).expect("push"), k);
        assert_eq!(c.pop_slice(&mut out[..k]).expect("pop"), k);
        wrong(seq, out[..k].iter().copied())
    })
}

fn ours_zero_copy(n: u64) -> u64 {
    let ring = ours(4096, Wakeups::default());
    let mut p = ring.producer().expect("producer");
    let mut c = ring.consumer().expect("consumer");
    in_bursts(n, CHUNK, |seq, k| {
        let mut chunk = p.write_chunk(k).expect("write chunk");
        let base = black_box(seq);
        assert_eq!(chunk.fill_from_iter((base..).map(Record::new)), k);
        chunk.commit(k);
        let chunk = c.read_chunk(k).expect("read chunk");
        let (a, b) = chunk.as_slices();
        let bad = wrong(seq, a.iter().chain(b).copied());
        chunk.release_all();
        bad
    })
}

fn rtrb_chunk(n: u64) -> u64 {
    let (mut p, mut c) = rtrb::RingBuffer::<Record>::new(4096);
    in_bursts(n, CHUNK, |seq, k| {
        let chunk = p.write_chunk_uninit(k).expect("write chunk");
        let base = black_box(seq);
        chunk.fill_from_iter((base..).map(Record::new));
        let chunk = c.read_chunk(k).expect("read chunk");
        let (a, b) = chunk.as_slices();
        let bad = wrong(seq, a.iter().chain(b).copied());
        chunk.commit_all();
        bad
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map_or("ours-single", String::as_str);
    let n: u64 = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let bad = match mode {
        "ours-single" => ours_single(n, Wakeups::Futex),
        "ours-single-spin" => ours_single(n, Wakeups::Spin),
        "rtrb-single" => rtrb_single(n),
        "ours-chunk" => ours_chunk(n),
        "ours-zc" => ours_zero_copy(n),
        "rtrb-chunk" => rtrb_chunk(n),
        other => panic!("unknown mode {other}"),
    };
    assert_eq!(bad, 0, "records lost, reordered or torn");
    println!("{mode} {n}: ok");
}
