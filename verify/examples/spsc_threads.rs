//! Two threads moving `N` records through one spsc ring with the blocking `push`/`pop` (or
//! `try_push`/`try_pop` spinning), every record checked: a driver for `perf record`.
//!
//! ```text
//! cargo build --release -p synclab-verify --example spsc_threads
//! perf record -g target/release/examples/spsc_threads blocking 50000000
//! ```
//! Modes: `blocking` (push/pop), `try` (try_push/try_pop with a spin hint), `spin` (push/pop
//! on a `Wakeups::Spin` ring).

use std::time::Instant;
use synclab_core::{Spsc, Wakeups};
use synclab_verify::record::Record;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map_or("blocking", String::as_str).to_string();
    let n: u64 = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000_000);
    let wakeups = if mode == "spin" {
        Wakeups::Spin
    } else {
        Wakeups::Futex
    };
    let ring = Spsc::<Record>::builder()
        .capacity(4096)
        .wakeups(wakeups)
        .heap()
        .expect("ring");
    let mut p = ring.producer().expect("producer");
    let mut c = ring.consumer().expect("consumer");
    let try_mode = mode.starts_with("try");
    let try_push_only = mode == "trypush";
    let try_pop_only = mode == "trypop";
    let hint = mode != "try-nohint";
    let mode2 = mode.clone();
    let start = Instant::now();
    let t = std::thread::spawn(move || {
        for i in 0..n {
            if mode2 == "tryfallback" {
                let r = Record::new(i);
                if let Err(synclab_core::RingError::Full) = p.try_push(r) {
                    p.push(r).expect("push");
                }
            } else if mode2 == "trymatch" {
                loop {
                    match p.try_push(Record::new(i)) {
                        Ok(()) => break,
                        Err(synclab_core::RingError::Full) => std::hint::spin_loop(),
                        Err(e) => panic!("{e}"),
                    }
                }
            } else if try_mode && !try_pop_only {
                while p.try_push(Record::new(i)).is_err() {
                    std::hint::spin_loop();
                }
            } else {
                p.push(Record::new(i)).expect("push");
            }
        }
    });
    let mut check = synclab_verify::record::SequenceCheck::default();
    for _ in 0..n {
        let r = if try_mode && !try_push_only {
            loop {
                match c.try_pop() {
                    Ok(r) => break r,
                    Err(_) if hint => std::hint::spin_loop(),
                    Err(_) => {}
                }
            }
        } else {
            c.pop().expect("pop")
        };
        check.see(r.seq, r.intact());
    }
    t.join().expect("producer");
    assert!(
        check.ok(n),
        "records lost, reordered or torn: {}",
        check.json(n)
    );
    let secs = start.elapsed().as_secs_f64();
    println!("{mode} {n}: {:.1} M msgs/s", n as f64 / secs / 1e6);
}
