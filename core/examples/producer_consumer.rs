//! Two processes, one ring: this program creates a named spsc ring, re-executes itself as the
//! consumer (no bare `fork`), and produces 100,000 records; the consumer checks their order.
//!
//! `cargo run -p synclab-core --example producer_consumer`

use std::process::Command;
use synclab_core::{RingError, ShmName, Spsc};

const RECORDS: u64 = 100_000;
const ROLE: &str = "SYNCLAB_EXAMPLE_CONSUMER";

fn consumer(name: &str) -> Result<(), Box<dyn std::error::Error>> {
    let ring = Spsc::<u64>::builder().open(&ShmName::new(name)?)?;
    let mut rx = ring.consumer()?;
    let mut expected = 0;
    loop {
        match rx.pop() {
            Ok(v) if v == expected => expected += 1,
            Ok(v) => return Err(format!("record {v} arrived where {expected} was due").into()),
            Err(RingError::Closed) => break,
            Err(e) => return Err(e.into()),
        }
    }
    println!(
        "consumer (pid {}): received {expected} records in order",
        std::process::id()
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if let Ok(name) = std::env::var(ROLE) {
        return consumer(&name);
    }
    let name = ShmName::unique("example-pc");
    let ring = Spsc::<u64>::builder().capacity(1024).create(&name)?;
    let mut child = Command::new(std::env::current_exe()?)
        .env(ROLE, name.as_str())
        .spawn()?;
    let mut tx = ring.producer()?;
    for v in 0..RECORDS {
        tx.push(v)?;
    }
    drop(tx); // closes: the consumer sees `Closed` once it has read everything
    let status = child.wait()?;
    println!(
        "producer (pid {}): sent {RECORDS} records; consumer {status}",
        std::process::id()
    );
    if !status.success() {
        return Err("the consumer failed".into());
    }
    Ok(())
}
