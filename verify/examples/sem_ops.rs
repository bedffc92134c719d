//! A driver for profiling the uncontended semaphore: the bench's own loops (`bench/sem.rs`,
//! included as is) for one of ours (ledger off or on) or glibc's pshared `sem_t`, `N` pairs,
//! printing nanoseconds per pair. For `valgrind --tool=callgrind` instruction counts, subtract a
//! run with `N = 0` and divide by `N`.
//!
//! ```text
//! cargo build --release -p synclab-verify --example sem_ops
//! valgrind --tool=callgrind target/release/examples/sem_ops ours acquire 1000000
//! perf record target/release/examples/sem_ops ours-ledger try 50000000
//! ```
//! Implementations: `ours`, `ours-ledger`, `ours-local` (ledger on, through a `LocalSemaphore`),
//! `glibc`; operations: `acquire`, `try`.

#[path = "../src/bench/sem.rs"]
mod sem;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map_or("ours", String::as_str);
    let op = match args.get(2).map_or("acquire", String::as_str) {
        "try" => sem::Op::TryAcquire,
        _ => sem::Op::Acquire,
    };
    let n: u64 = args
        .get(3)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000);
    let ns = match which {
        "ours" => sem::ours(op, false, n),
        "ours-ledger" => sem::ours(op, true, n),
        "ours-local" => sem::ours_local(op, n),
        "glibc" => sem::glibc(op, n),
        other => panic!("unknown implementation {other}"),
    }
    .expect("bench");
    println!("{which} {op:?} {n}: {ns:.2} ns/pair");
}
