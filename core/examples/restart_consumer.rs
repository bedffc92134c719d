//! A consumer that crashes and is restarted: the first consumer process aborts (no destructors,
//! no close) after taking 3,000 records; the producer's blocked `push` reports `PeerGone`; a new
//! consumer process takes the role over and resumes exactly after the last record the dead one
//! took, so no committed record is lost (and here none is duplicated either).
//!
//! `cargo run -p synclab-core --example restart_consumer`

use std::process::{Child, Command};
use synclab_core::{RingError, ShmName, Spsc};

const RECORDS: u64 = 10_000;
const CRASH_AFTER: u64 = 3_000;
const ROLE: &str = "SYNCLAB_EXAMPLE_ROLE";
const NAME: &str = "SYNCLAB_EXAMPLE_RING";

fn consumer(name: &str, crash: bool) -> Result<(), Box<dyn std::error::Error>> {
    let ring = Spsc::<u64>::builder().open(&ShmName::new(name)?)?;
    let mut rx = ring.consumer()?; // takes over the role if its owner died
    let (mut first, mut count, mut last) = (None, 0u64, None);
    loop {
        match rx.pop() {
            Ok(v) => {
                if last.is_some_and(|l| v != l + 1) {
                    return Err(format!("gap: {v} after {last:?}").into());
                }
                first.get_or_insert(v);
                last = Some(v);
                count += 1;
                if crash && count == CRASH_AFTER {
                    println!(
                        "consumer 1 (pid {}): took {count} records, crashing",
                        std::process::id()
                    );
                    std::process::abort();
                }
            }
            Err(RingError::Closed) => break,
            Err(e) => return Err(e.into()),
        }
    }
    println!(
        "consumer 2 (pid {}): resumed at record {}, received {count} more, last {}",
        std::process::id(),
        first.unwrap_or(0),
        last.unwrap_or(0)
    );
    if first != Some(CRASH_AFTER) || last != Some(RECORDS - 1) {
        return Err("records lost or repeated".into());
    }
    Ok(())
}

fn spawn(role: &str, name: &ShmName) -> std::io::Result<Child> {
    Command::new(std::env::current_exe()?)
        .env(ROLE, role)
        .env(NAME, name.as_str())
        .spawn()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if let (Ok(role), Ok(name)) = (std::env::var(ROLE), std::env::var(NAME)) {
        return consumer(&name, role == "crash");
    }
    let name = ShmName::unique("example-restart");
    let ring = Spsc::<u64>::builder().capacity(256).create(&name)?;
    let mut tx = ring.producer()?;
    let mut first = spawn("crash", &name)?;
    let mut second = None;
    let mut v = 0;
    while v < RECORDS {
        match tx.push(v) {
            Ok(()) => v += 1,
            Err(RingError::PeerGone { role, pid }) if second.is_none() => {
                println!("producer: push reports the {role} (pid {pid}) gone; starting another");
                first.wait()?;
                second = Some(spawn("resume", &name)?);
            }
            Err(e) => return Err(e.into()),
        }
    }
    drop(tx);
    let status = second.ok_or("the first consumer never crashed")?.wait()?;
    println!("producer: sent {RECORDS} records; new consumer {status}");
    if !status.success() {
        return Err("the restarted consumer failed".into());
    }
    Ok(())
}
