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

const BURST: u64 = 64;
const CHUNK: usize = 256;

fn ours_single(n: u64, wakeups: Wakeups) -> u64 {
    let ring = Spsc::<Record>::builder()
        .capacity(1024)
        .wakeups(wakeups)
        .heap()
        .expect("ring");
    let mut p = ring.producer().expect("producer");
    let mut c = ring.consumer().expect("consumer");
    let (mut seq, mut bad) = (0, 0);
    while seq < n {
        let k = BURST.min(n - seq);
        for i in 0..k {
            p.try_push(Record::new(black_box(seq + i))).expect("push");
        }
        for i in 0..k {
            let r = c.try_pop().expect("pop");
            bad += u64::from(r.seq != seq + i || !r.intact());
        }
        seq += k;
    }
    bad
}

fn rtrb_single(n: u64) -> u64 {
    let (mut p, mut c) = rtrb::RingBuffer::<Record>::new(1024);
    let (mut seq, mut bad) = (0, 0);
    while seq < n {
        let k = BURST.min(n - seq);
        for i in 0..k {
            p.push(Record::new(black_box(seq + i))).expect("push");
        }
        for i in 0..k {
            let r = c.pop().expect("pop");
            bad += u64::from(r.seq != seq + i || !r.intact());
        }
        seq += k;
    }
    bad
}

fn ours_chunk(n: u64) -> u64 {
    let ring = Spsc::<Record>::builder()
        .capacity(4096)
        .heap()
        .expect("ring");
    let mut p = ring.producer().expect("producer");
    let mut c = ring.consumer().expect("consumer");
    let (mut seq, mut bad) = (0, 0);
    let mut buf = vec![Record::new(0); CHUNK];
    let mut out = vec![Record::new(0); CHUNK];
    while seq < n {
        let k = (CHUNK as u64).min(n - seq) as usize;
        for (i, r) in buf[..k].iter_mut().enumerate() {
            *r = Record::new(black_box(seq + i as u64));
        }
        assert_eq!(p.push_slice(&buf[..k]).expect("push"), k);
        assert_eq!(c.pop_slice(&mut out[..k]).expect("pop"), k);
        for (i, r) in out[..k].iter().enumerate() {
            bad += u64::from(r.seq != seq + i as u64 || !r.intact());
        }
        seq += k as u64;
    }
    bad
}

fn ours_zero_copy(n: u64) -> u64 {
    let ring = Spsc::<Record>::builder()
        .capacity(4096)
        .heap()
        .expect("ring");
    let mut p = ring.producer().expect("producer");
    let mut c = ring.consumer().expect("consumer");
    let (mut seq, mut bad) = (0, 0);
    while seq < n {
        let k = (CHUNK as u64).min(n - seq) as usize;
        let mut chunk = p.write_chunk(k).expect("write chunk");
        let base = black_box(seq);
        let k = chunk.fill_from_iter((base..).map(Record::new));
        chunk.commit(k);
        let chunk = c.read_chunk(k).expect("read chunk");
        let (a, b) = chunk.as_slices();
        for (i, r) in a.iter().chain(b).enumerate() {
            bad += u64::from(r.seq != seq + i as u64 || !r.intact());
        }
        chunk.release_all();
        seq += k as u64;
    }
    bad
}

fn rtrb_chunk(n: u64) -> u64 {
    let (mut p, mut c) = rtrb::RingBuffer::<Record>::new(4096);
    let (mut seq, mut bad) = (0, 0);
    while seq < n {
        let k = (CHUNK as u64).min(n - seq) as usize;
        let chunk = p.write_chunk_uninit(k).expect("write chunk");
        let base = black_box(seq);
        chunk.fill_from_iter((base..).map(Record::new));
        let chunk = c.read_chunk(k).expect("read chunk");
        let (a, b) = chunk.as_slices();
        for (i, r) in a.iter().chain(b).enumerate() {
            bad += u64::from(r.seq != seq + i as u64 || !r.intact());
        }
        chunk.commit_all();
        seq += k as u64;
    }
    bad
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
