//! Simulator throughput (a benchmark, not a test):
//! `cargo run --release -p synclab-sim --example sim_bench`.
//!
//! Prints simulated segments per second on one core (the 1 MB-each-way lossy transfer, traces
//! off) and seeds per second (the handshake of RFC 9293 Figure 6, and the whole built-in set).

use std::time::Instant;
use synclab_sim::scenario::builtin;
use synclab_sim::{run, RunOptions};

fn main() {
    let bulk = builtin::builtin("bulk-1mb-lossy").expect("built in");
    let start = Instant::now();
    let (mut segs, mut runs) = (0u64, 0u64);
    while start.elapsed().as_secs_f64() < 3.0 {
        let r = run(
            &bulk,
            &RunOptions {
                seed: runs,
                ..Default::default()
            },
        );
        assert!(!r.oracle_fired(), "seed {runs}: {:?}", r.failures);
        segs += r.segments;
        runs += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "bulk-1mb-lossy: {runs} runs, {segs} segments in {secs:.2} s: {:.0} segments/s, {:.1} seeds/s",
        segs as f64 / secs,
        runs as f64 / secs
    );

    let hs = builtin::builtin("rfc9293-fig6-handshake").expect("built in");
    let start = Instant::now();
    let (mut segs, mut seeds) = (0u64, 0u64);
    while start.elapsed().as_secs_f64() < 2.0 {
        for _ in 0..1000 {
            let r = run(
                &hs,
                &RunOptions {
                    seed: seeds,
                    ..Default::default()
                },
            );
            assert!(r.ok);
            segs += r.segments;
            seeds += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "rfc9293-fig6-handshake: {:.0} seeds/s ({:.0} segments/s)",
        seeds as f64 / secs,
        segs as f64 / secs
    );

    let all: Vec<_> = builtin::all()
        .into_iter()
        .filter(|s| s.name != "bulk-1mb-lossy")
        .collect();
    let start = Instant::now();
    let mut seeds = 0u64;
    while start.elapsed().as_secs_f64() < 2.0 {
        for sc in &all {
            run(
                sc,
                &RunOptions {
                    seed: seeds,
                    ..Default::default()
                },
            );
        }
        seeds += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "all {} other built-ins: {:.0} seeds/s (each seed runs every one of them)",
        all.len(),
        seeds as f64 / secs
    );
}
