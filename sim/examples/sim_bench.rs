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
    // Five one-second rounds: the machine may be shared, so the spread is printed too.
    let mut rates = Vec::new();
    let (mut seed, mut total_runs) = (0u64, 0u64);
    for _ in 0..5 {
        let start = Instant::now();
        let mut segs = 0u64;
        while start.elapsed().as_secs_f64() < 1.0 {
            let r = run(
                &bulk,
                &RunOptions {
                    seed,
                    ..Default::default()
                },
            );
            assert!(!r.oracle_fired(), "seed {seed}: {:?}", r.failures);
            segs += r.segments;
            seed += 1;
            total_runs += 1;
        }
        rates.push(segs as f64 / start.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "bulk-1mb-lossy (1 MB each way, 10% loss/dup/reorder, traces off): segments/s min {:.0}, median {:.0}, max {:.0} over 5 rounds; {:.1} seeds/s",
        rates[0],
        rates[2],
        rates[4],
        total_runs as f64 / 5.0
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
