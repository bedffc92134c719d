//! Times synclab-lin on history files of any supported format, for
//! `lin/bench/porcupine_compare.sh`: reading is not timed; `check()` is timed once without a
//! witness (a verdict, like porcupine's `CheckEvents`) and once as `synclab check` runs it (with
//! a minimized witness for violations).
//!
//! `cargo run --release -p synclab-lin --example compare_files -- FILE...`
//! prints one line per file: `<file>\t<true|false|unknown>\t<s verdict>\t<s with witness>`.

use std::time::Instant;
use synclab_lin::foreign::parse_any;
use synclab_lin::{check, CheckOptions, Verdict};

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: compare_files FILE...");
        std::process::exit(2);
    }
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
        let (history, _) = parse_any(&text, None).unwrap_or_else(|e| panic!("{file}: {e}"));
        let verdict_only = CheckOptions {
            witness: false,
            ..CheckOptions::default()
        };
        let start = Instant::now();
        let verdict = check(&history, &verdict_only).verdict;
        let plain = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let with_witness = check(&history, &CheckOptions::default()).verdict;
        let full = start.elapsed().as_secs_f64();
        assert_eq!(verdict, with_witness);
        let word = match verdict {
            Verdict::Linearizable => "true",
            Verdict::NotLinearizable => "false",
            Verdict::Unknown => "unknown",
        };
        println!("{file}\t{word}\t{plain:.6}\t{full:.6}");
    }
}
