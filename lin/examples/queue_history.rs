//! Writes a linearizable queue history of N operations (default 10,000,000) from a seeded
//! simulated run of 4 processes with overlapping operations, for timing `synclab check` on it
//! (`lin/bench/porcupine_compare.sh`).
//!
//! `cargo run --release -p synclab-lin --example queue_history -- OUT.jsonl [N]`

use synclab_lin::save_history;
use synclab_lin::simulate::{queue_history, GenConfig};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next() else {
        eprintln!("usage: queue_history OUT.jsonl [N]");
        std::process::exit(2);
    };
    let n: usize = args.next().map_or(10_000_000, |s| {
        s.parse()
            .unwrap_or_else(|_| panic!("N must be an integer, not {s}"))
    });
    let h = queue_history(&GenConfig::new(4, n, 42), None);
    save_history(&out, &h).unwrap_or_else(|e| panic!("{out}: {e}"));
    println!("{out}: {} operations", h.ops.len());
}
