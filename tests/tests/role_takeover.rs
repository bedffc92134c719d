//! Roles survive crashes, between real processes: this binary re-executes itself as the worker
//! (never a bare `fork()`), and the parent SIGKILLs workers at points they announce on stdout.
//!
//! - `killed_consumer_is_replaced_without_loss`: a consumer pops 100 records and is SIGKILLed;
//!   the parent's blocked push returns `PeerGone`; a live owner's role is refused; a new consumer
//!   process takes the role over and receives exactly the records after the last one released.
//! - `blocked_pop_returns_peer_gone`: the parent consumer blocks in `pop` while the producer
//!   process is SIGKILLed; `pop` returns `PeerGone` within a second; a new producer process
//!   takes over and the stream continues to `Closed`.
//!
//! - `blocked_acquire_recovers_dead_holder`: a ledger semaphore's only permit is held by a
//!   process that is SIGKILLed while the parent blocks in `acquire`; the acquire returns the dead
//!   holder's permit by itself (no explicit `recover`) within a second.
//!
//! `harness = false`: `main` is the test runner, and the worker when `ROLE_WORKER` is set.

mod runner;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};
use synclab_core::{Deadline, RingError, Semaphore, ShmName, Spsc};

const WORKER_ENV: &str = "ROLE_WORKER";
const NAME_ENV: &str = "ROLE_RING";
const TOTAL: u64 = 1000;

fn spawn(
    role: &str,
    name: &ShmName,
) -> Result<(Child, BufReader<std::process::ChildStdout>), String> {
    let mut child = Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
        .env(WORKER_ENV, role)
        .env(NAME_ENV, name.as_str())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn {role}: {e}"))?;
    let out = BufReader::new(child.stdout.take().ok_or("no stdout")?);
    Ok((child, out))
}

fn line(out: &mut BufReader<std::process::ChildStdout>) -> Result<String, String> {
    let mut s = String::new();
    out.read_line(&mut s).map_err(|e| e.to_string())?;
    Ok(s.trim().to_string())
}

fn kill(child: &mut Child) -> Result<(), String> {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .map_err(|e| e.to_string())?;
    child.wait().map_err(|e| e.to_string())?;
    Ok(())
}

/// Worker roles. Output lines are what the parent waits for.
fn worker(role: &str) -> ExitCode {
    let name = ShmName::new(&std::env::var(NAME_ENV).expect("name")).expect("valid name");
    if role == "hold-permit" {
        let sem = Semaphore::builder().open(&name).expect("open");
        sem.acquire().expect("acquire").forget();
        println!("holding");
        loop {
            std::thread::park();
        }
    }
    let ring = Spsc::<u64>::builder().open(&name).expect("open");
    let deadline = || Some(Deadline::after(Duration::from_secs(60)));
    match role {
        // Pops 100 records, says which was last, then waits to be killed.
        "consume-100-then-hang" => {
            let mut c = ring.consumer().expect("consumer role");
            let mut last = 0;
            for _ in 0..100 {
                last = c.pop_until(deadline()).expect("pop");
            }
            println!("popped {last}");
            loop {
                std::thread::park();
            }
        }
        // Pops until Closed; prints the first record, the count and whether they were in order.
        "consume-rest" => {
            let mut c = ring
                .consumer()
                .expect("takes over the dead consumer's role");
            let (mut first, mut count, mut prev, mut ordered) = (None, 0u64, None, true);
            loop {
                match c.pop_until(deadline()) {
                    Ok(v) => {
                        first.get_or_insert(v);
                        ordered &= prev.is_none_or(|p| v == p + 1);
                        prev = Some(v);
                        count += 1;
                    }
                    Err(RingError::Closed) => break,
                    Err(e) => panic!("consume-rest: {e}"),
                }
            }
            println!(
                "first {} count {count} ordered {ordered}",
                first.unwrap_or(u64::MAX)
            );
            ExitCode::SUCCESS
        }
        // Pushes 0..5, then waits to be killed.
        "produce-5-then-hang" => {
            let mut p = ring.producer().expect("producer role");
            for v in 0..5 {
                p.push_until(v, deadline()).expect("push");
            }
            println!("pushed");
            loop {
                std::thread::park();
            }
        }
        // Takes over the producer role, pushes 5..10 and closes.
        "produce-rest" => {
            let mut p = ring
                .producer()
                .expect("takes over the dead producer's role");
            for v in 5..10 {
                p.push_until(v, deadline()).expect("push");
            }
            println!("pushed");
            ExitCode::SUCCESS
        }
        other => panic!("unknown role {other}"),
    }
}

fn killed_consumer_is_replaced_without_loss() -> Result<(), String> {
    let name = ShmName::unique("takeover-c");
    let ring = Spsc::<u64>::builder()
        .capacity(16)
        .create(&name)
        .map_err(|e| e.to_string())?;
    let mut p = ring.producer().map_err(|e| e.to_string())?;
    let (mut a, mut a_out) = spawn("consume-100-then-hang", &name)?;
    let mut next = 0;
    // Push until the consumer has taken 100 and the ring is full behind it.
    while next < 116 {
        p.push_until(next, Some(Deadline::after(Duration::from_secs(60))))
            .map_err(|e| format!("push {next}: {e}"))?;
        next += 1;
    }
    let said = line(&mut a_out)?;
    if said != "popped 99" {
        return Err(format!("first consumer said {said:?}"));
    }
    if ring.consumer().map(|_| ()) != Err(RingError::RoleTaken("consumer")) {
        return Err("the live consumer's role was not refused".into());
    }
    kill(&mut a)?;
    let start = Instant::now();
    let gone = p.push_until(next, Some(Deadline::after(Duration::from_secs(10))));
    let waited = start.elapsed();
    if !matches!(
        gone,
        Err(RingError::PeerGone {
            role: "consumer",
            ..
        })
    ) {
        return Err(format!(
            "blocked push after the consumer died gave {gone:?}"
        ));
    }
    if !ring.is_abandoned() {
        return Err("is_abandoned() is false with a dead consumer".into());
    }
    let (mut b, mut b_out) = spawn("consume-rest", &name)?;
    while next < TOTAL {
        p.push_until(next, Some(Deadline::after(Duration::from_secs(60))))
            .map_err(|e| format!("push {next} to the new consumer: {e}"))?;
        next += 1;
    }
    drop(p);
    let said = line(&mut b_out)?;
    b.wait().map_err(|e| e.to_string())?;
    let want = format!("first 100 count {} ordered true", TOTAL - 100);
    eprintln!("  PeerGone after {waited:?}; new consumer: {said}");
    if said != want {
        return Err(format!("new consumer said {said:?}, expected {want:?}"));
    }
    Ok(())
}

fn blocked_pop_returns_peer_gone() -> Result<(), String> {
    let name = ShmName::unique("takeover-p");
    let ring = Spsc::<u64>::builder()
        .capacity(16)
        .create(&name)
        .map_err(|e| e.to_string())?;
    let mut c = ring.consumer().map_err(|e| e.to_string())?;
    let (mut a, mut a_out) = spawn("produce-5-then-hang", &name)?;
    if line(&mut a_out)? != "pushed" {
        return Err("first producer did not push".into());
    }
    for want in 0..5 {
        let v = c.pop().map_err(|e| e.to_string())?;
        if v != want {
            return Err(format!("popped {v}, expected {want}"));
        }
    }
    kill(&mut a)?;
    let start = Instant::now();
    let gone = c.pop_until(Some(Deadline::after(Duration::from_secs(10))));
    let waited = start.elapsed();
    if !matches!(
        gone,
        Err(RingError::PeerGone {
            role: "producer",
            ..
        })
    ) || waited > Duration::from_secs(1)
    {
        return Err(format!("blocked pop gave {gone:?} after {waited:?}"));
    }
    let (mut b, mut b_out) = spawn("produce-rest", &name)?;
    let said = line(&mut b_out)?;
    b.wait().map_err(|e| e.to_string())?;
    let mut rest = Vec::new();
    loop {
        match c.pop_until(Some(Deadline::after(Duration::from_secs(10)))) {
            Ok(v) => rest.push(v),
            Err(RingError::Closed) => break,
            Err(e) => return Err(format!("after takeover: {e}")),
        }
    }
    eprintln!("  PeerGone after {waited:?}; new producer {said}, then {rest:?}, then Closed");
    if rest != (5..10).collect::<Vec<_>>() {
        return Err(format!("after takeover received {rest:?}"));
    }
    Ok(())
}

fn blocked_acquire_recovers_dead_holder() -> Result<(), String> {
    let name = ShmName::unique("takeover-s");
    let sem = Semaphore::builder()
        .max(1)
        .ledger(8)
        .create(&name)
        .map_err(|e| e.to_string())?;
    let (mut a, mut a_out) = spawn("hold-permit", &name)?;
    if line(&mut a_out)? != "holding" {
        return Err("holder did not acquire".into());
    }
    if sem.try_acquire().map(|p| p.forget()).is_ok() {
        return Err("acquired a permit the live holder has".into());
    }
    kill(&mut a)?;
    let start = Instant::now();
    let permit = sem
        .acquire_timeout(Duration::from_secs(10))
        .map_err(|e| format!("blocked acquire after the holder died: {e}"))?;
    let waited = start.elapsed();
    eprintln!("  acquired the dead holder's permit after {waited:?}");
    drop(permit);
    if waited > Duration::from_secs(1) {
        return Err(format!("took {waited:?}"));
    }
    Ok(())
}

fn main() -> ExitCode {
    if let Ok(role) = std::env::var(WORKER_ENV) {
        return worker(&role);
    }
    let tests: [(&str, runner::TestFn); 3] = [
        (
            "killed_consumer_is_replaced_without_loss",
            killed_consumer_is_replaced_without_loss,
        ),
        (
            "blocked_pop_returns_peer_gone",
            blocked_pop_returns_peer_gone,
        ),
        (
            "blocked_acquire_recovers_dead_holder",
            blocked_acquire_recovers_dead_holder,
        ),
    ];
    runner::run(&tests)
}
