//! A semaphore-guarded resource between processes: four worker processes (this program
//! re-executed) each enter a critical section 50 times under a one-permit semaphore with a
//! holder ledger, logging "enter"/"leave" to a shared queue. Worker 3 aborts while holding the
//! permit; the others' blocked `acquire` returns the dead holder's permit by itself (or, if it
//! crashed last, the parent's `recover()` does). The parent
//! checks from the log that no two workers were ever inside at once.
//!
//! `cargo run -p synclab-core --example semaphore_resource`

use std::process::Command;
use synclab_core::{Mpmc, Semaphore, ShmName};

const WORKERS: u64 = 4;
const ROUNDS: u64 = 50;
const ENV: &str = "SYNCLAB_EXAMPLE_WORKER";

/// A log entry: worker id * 2, plus 1 for "leave".
fn worker(id: u64, sem: &ShmName, log: &ShmName) -> Result<(), Box<dyn std::error::Error>> {
    let sem = Semaphore::builder().open(sem)?;
    let log = Mpmc::<u64>::builder().open(log)?;
    for round in 0..ROUNDS {
        let permit = sem.acquire()?;
        log.push(id * 2)?;
        if id == 3 && round == ROUNDS / 2 {
            std::process::abort(); // a crash inside the critical section
        }
        log.push(id * 2 + 1)?;
        drop(permit);
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if let Ok(args) = std::env::var(ENV) {
        let mut parts = args.split(',');
        let id = parts.next().ok_or("id")?.parse()?;
        let sem = ShmName::new(parts.next().ok_or("sem")?)?;
        let log = ShmName::new(parts.next().ok_or("log")?)?;
        return worker(id, &sem, &log);
    }
    let (sem_name, log_name) = (
        ShmName::unique("example-sem"),
        ShmName::unique("example-log"),
    );
    let sem = Semaphore::builder().max(1).ledger(16).create(&sem_name)?;
    let log = Mpmc::<u64>::builder().capacity(1024).create(&log_name)?;
    let mut children = Vec::new();
    for id in 0..WORKERS {
        children.push(
            Command::new(std::env::current_exe()?)
                .env(ENV, format!("{id},{sem_name},{log_name}"))
                .spawn()?,
        );
    }
    let mut crashed = 0;
    for c in &mut children {
        if !c.wait()?.success() {
            crashed += 1;
        }
    }
    // Replay the log: an "enter" while someone is inside breaks mutual exclusion, unless the one
    // inside is the crashed worker (it never left; its permit was recovered).
    let (mut inside, mut sections) = (None::<u64>, 0);
    while let Ok(e) = log.try_pop() {
        let (id, leave) = (e / 2, e % 2 == 1);
        match (inside, leave) {
            (None, false) => inside = Some(id),
            (Some(3), false) => inside = Some(id),
            (Some(w), true) if w == id => {
                inside = None;
                sections += 1;
            }
            _ => {
                return Err(format!(
                    "worker {id} {} while {inside:?} was inside",
                    if leave { "left" } else { "entered" }
                )
                .into())
            }
        }
    }
    // If the crashed worker was the last one inside, nobody blocked on its permit afterwards:
    // return it now (a no-op when a blocked worker already did).
    let late = sem.recover()?;
    println!(
        "{sections} critical sections by {WORKERS} processes, never two inside at once; \
         {crashed} worker crashed holding the permit ({}); {} permit free",
        if late == 0 {
            "recovered by a blocked acquire"
        } else {
            "recovered by recover()"
        },
        sem.value()?
    );
    if crashed != 1 || sections != WORKERS * ROUNDS - (ROUNDS - ROUNDS / 2) || sem.value()? != 1 {
        return Err("unexpected outcome".into());
    }
    Ok(())
}
