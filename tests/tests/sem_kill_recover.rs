//! Real processes: a holder of 2 permits (ledger mode) is SIGKILLed and `recover()` gives its
//! permits back; a live holder's permits are not recovered; two processes racing to recover a
//! dead holder's entry recover it exactly once; EINTR does not break or stretch waits; four
//! processes contending on two permits never exceed two holders.
//!
//! `harness = false`: `main` is the test driver, and acts as a worker when `SYNCLAB_SEM_WORKER`
//! says so (the driver re-executes `current_exe()`; it never forks without exec). Workers signal
//! through spare words in the semaphore's region with futex waits and generous deadlines; no
//! sleeps stand in for synchronization.

mod runner;

use nix::sys::signal::{kill, sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::unistd::Pid;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;
use synclab_core::model::{Deadline, Memory, RealMemory};
use synclab_core::shm::ShmName;
use synclab_core::Semaphore;
use synclab_verify::harness_sem::HarnessSem;

const WORKER_ENV: &str = "SYNCLAB_SEM_WORKER";
const NAME_ENV: &str = "SYNCLAB_SEM_NAME";
/// aux words: set by a worker once it holds its permits / told to release / start recovering.
const HOLDING: usize = 0;
const RELEASE: usize = 1;
const GO: usize = 2;
const PARKED: usize = 3;
/// Contention test: processes inside now (weighted by permits), the most ever inside, acquires.
const INSIDE: usize = 4;
const MAX_INSIDE: usize = 5;
const ACQUIRES: usize = 6;
const CONTEND_ITERS: u64 = 5_000;

fn aux(sem: &HarnessSem, i: usize) -> &AtomicU64 {
    sem.aux(i).expect("aux index in range")
}

fn set(sem: &HarnessSem, i: usize, v: u64) {
    aux(sem, i).store(v, SeqCst);
    RealMemory::wake64_low(aux(sem, i), u32::MAX);
}

/// Waits (futex, no busy sleep) until aux word `i` reaches at least `want`, or the deadline.
fn wait_for(sem: &HarnessSem, i: usize, want: u64, timeout: Duration) -> bool {
    let deadline = Deadline::after(timeout);
    loop {
        let v = aux(sem, i).load(SeqCst);
        if v >= want {
            return true;
        }
        if deadline.has_passed() {
            return false;
        }
        RealMemory::wait64_low(aux(sem, i), v as u32, Some(deadline));
    }
}

fn worker(role: &str) -> i32 {
    let name = ShmName::new(&std::env::var(NAME_ENV).expect("name")).expect("valid name");
    let sem = HarnessSem::open(&name).expect("open");
    match role {
        "hold2" => {
            sem.acquire_many(2).expect("acquire 2").forget();
            aux(&sem, HOLDING).fetch_add(1, SeqCst);
            RealMemory::wake64_low(aux(&sem, HOLDING), u32::MAX);
            // Hold forever: the driver SIGKILLs us.
            loop {
                RealMemory::wait64_low(aux(&sem, PARKED), 0, None);
            }
        }
        "hold1-live" => {
            let p = sem.acquire().expect("acquire 1");
            aux(&sem, HOLDING).fetch_add(1, SeqCst);
            RealMemory::wake64_low(aux(&sem, HOLDING), u32::MAX);
            if !wait_for(&sem, RELEASE, 1, Duration::from_secs(60)) {
                return 3;
            }
            drop(p);
            0
        }
        "token" => {
            // Blocks in acquire_many(2) holding the priority token until SIGKILLed.
            let _ = sem.acquire_many(2);
            7
        }
        "contend" => {
            // Every 16th acquire takes both permits (exercising the priority token across
            // processes); occupancy is tracked in the region.
            for i in 0..CONTEND_ITERS {
                let n = if i % 16 == 0 { 2 } else { 1 };
                let p = match sem.acquire_many_timeout(n, Duration::from_secs(60)) {
                    Ok(p) => p,
                    Err(_) => return 6,
                };
                let now = aux(&sem, INSIDE).fetch_add(u64::from(n), SeqCst) + u64::from(n);
                aux(&sem, MAX_INSIDE).fetch_max(now, SeqCst);
                aux(&sem, ACQUIRES).fetch_add(1, SeqCst);
                aux(&sem, INSIDE).fetch_sub(u64::from(n), SeqCst);
                drop(p);
            }
            0
        }
        "eintr" | "eintr-timed" => {
            // A no-op SIGUSR1 handler without SA_RESTART: the futex wait returns EINTR.
            extern "C" fn noop(_: libc::c_int) {}
            let action =
                SigAction::new(SigHandler::Handler(noop), SaFlags::empty(), SigSet::empty());
            // SAFETY: the handler does nothing, so it is async-signal-safe.
            unsafe { sigaction(Signal::SIGUSR1, &action) }.expect("sigaction");
            aux(&sem, HOLDING).fetch_add(1, SeqCst);
            RealMemory::wake64_low(aux(&sem, HOLDING), u32::MAX);
            if role == "eintr" {
                // Must survive the signals and get the permit the parent releases afterwards.
                return match sem.acquire() {
                    Ok(p) => {
                        p.forget();
                        0
                    }
                    Err(_) => 4,
                };
            }
            // Timed: EINTR restarts must neither end the wait early nor stretch it.
            let t = std::time::Instant::now();
            let r = sem.acquire_timeout(Duration::from_millis(400));
            let ms = t.elapsed().as_millis();
            println!("{ms}");
            match r {
                Err(synclab_core::SemError::TimedOut) if (400..1400).contains(&ms) => 0,
                _ => 5,
            }
        }
        "recover" => {
            aux(&sem, HOLDING).fetch_add(1, SeqCst);
            RealMemory::wake64_low(aux(&sem, HOLDING), u32::MAX);
            if !wait_for(&sem, GO, 1, Duration::from_secs(60)) {
                return 3;
            }
            let n = sem.recover().expect("recover");
            println!("{n}");
            0
        }
        other => {
            eprintln!("unknown worker role {other}");
            2
        }
    }
}

/// A worker process; killed and reaped on drop if the test did not finish with it (early error).
struct Worker(Option<Child>);

impl Worker {
    fn take(mut self) -> Child {
        self.0.take().expect("child present until taken")
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn spawn(role: &str, name: &ShmName, stdout: bool) -> Worker {
    let child = Command::new(std::env::current_exe().expect("current_exe"))
        .env(WORKER_ENV, role)
        .env(NAME_ENV, name.as_str())
        .stdout(if stdout {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .spawn()
        .expect("spawn worker");
    Worker(Some(child))
}

fn kill_and_reap(worker: Worker) -> Result<(), String> {
    let pid = worker.0.as_ref().map_or(0, Child::id);
    kill(Pid::from_raw(pid as i32), Signal::SIGKILL).map_err(|e| format!("kill: {e}"))?;
    let status = worker.take().wait().map_err(|e| format!("wait: {e}"))?;
    if status.code().is_some() {
        return Err(format!(
            "worker exited normally ({status}) instead of dying by SIGKILL"
        ));
    }
    Ok(())
}

fn check(cond: bool, what: impl Into<String>) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(what.into())
    }
}

/// A holder of 2 permits is SIGKILLed and reaped; `recover()` returns exactly 2.
fn killed_holder_is_recovered() -> Result<(), String> {
    let name = ShmName::unique("semkill");
    let sem = HarnessSem::create(&Semaphore::builder().permits(2).max(2).ledger(64), &name)?;
    let child = spawn("hold2", &name, false);
    check(
        wait_for(&sem, HOLDING, 1, Duration::from_secs(30)),
        "worker never held its permits",
    )?;
    check(sem.value().unwrap() == 0, "worker should hold both permits")?;
    check(sem.try_acquire().is_err(), "no permit may be free")?;
    kill_and_reap(child)?;
    check(
        sem.value().unwrap() == 0,
        "a dead holder's permits stay taken until recovered",
    )?;
    let n = sem.recover().map_err(|e| e.to_string())?;
    check(n == 2, format!("recover returned {n}, expected 2"))?;
    check(
        sem.value().unwrap() == 2,
        format!("value {} after recovery", sem.value().unwrap()),
    )?;
    let again = sem.recover().map_err(|e| e.to_string())?;
    check(again == 0, format!("second recover returned {again}"))?;
    Ok(())
}

/// A live holder's permits are not recovered.
fn live_holder_is_not_recovered() -> Result<(), String> {
    let name = ShmName::unique("semlive");
    let sem = HarnessSem::create(&Semaphore::builder().permits(2).max(2).ledger(64), &name)?;
    let child = spawn("hold1-live", &name, false);
    check(
        wait_for(&sem, HOLDING, 1, Duration::from_secs(30)),
        "worker never held its permit",
    )?;
    let n = sem.recover().map_err(|e| e.to_string())?;
    check(n == 0, format!("recovered {n} permits of a live process"))?;
    check(
        sem.value().unwrap() == 1,
        "the live holder keeps its permit",
    )?;
    set(&sem, RELEASE, 1);
    let status = child.take().wait().map_err(|e| e.to_string())?;
    check(status.success(), format!("live worker failed: {status}"))?;
    check(
        sem.value().unwrap() == 2,
        "the live holder released its permit itself",
    )?;
    check(
        sem.recover().map_err(|e| e.to_string())? == 0,
        "nothing to recover after a clean exit",
    )?;
    Ok(())
}

/// Two processes race to recover one dead holder's entry: exactly one recovers its 2 permits.
fn racing_recoveries_recover_once() -> Result<(), String> {
    let name = ShmName::unique("semrace");
    let sem = HarnessSem::create(&Semaphore::builder().permits(2).max(2).ledger(64), &name)?;
    let holder = spawn("hold2", &name, false);
    check(
        wait_for(&sem, HOLDING, 1, Duration::from_secs(30)),
        "worker never held its permits",
    )?;
    kill_and_reap(holder)?;
    let recoverers = [spawn("recover", &name, true), spawn("recover", &name, true)];
    // Both recoverers are up (HOLDING counts 1 holder + 2 recoverers), then start them together.
    check(
        wait_for(&sem, HOLDING, 3, Duration::from_secs(30)),
        "recoverers never started",
    )?;
    set(&sem, GO, 1);
    let mut got = Vec::new();
    for child in recoverers {
        let out = child.take().wait_with_output().map_err(|e| e.to_string())?;
        check(
            out.status.success(),
            format!("recoverer failed: {}", out.status),
        )?;
        let text = String::from_utf8_lossy(&out.stdout);
        got.push(
            text.trim()
                .parse::<u32>()
                .map_err(|e| format!("{text:?}: {e}"))?,
        );
    }
    got.sort_unstable();
    check(
        got == [0, 2],
        format!("recoverers returned {got:?}, expected [0, 2]"),
    )?;
    check(
        sem.value().unwrap() == 2,
        format!("value {} after recovery", sem.value().unwrap()),
    )?;
    Ok(())
}

/// A multi-permit waiter SIGKILLed while holding the priority token: single acquires are held
/// back until `recover()` clears the dead waiter's token and registration.
fn killed_token_holder_is_recovered() -> Result<(), String> {
    let name = ShmName::unique("semtoken");
    let sem = HarnessSem::create(&Semaphore::builder().permits(1).max(2).ledger(64), &name)?;
    let worker = spawn("token", &name, false);
    let deadline = Deadline::after(Duration::from_secs(30));
    while !(sem.priority_held() && sem.waiters() == 1) {
        check(
            !deadline.has_passed(),
            "worker never took the priority token",
        )?;
        std::thread::yield_now();
    }
    check(
        sem.try_acquire().is_err(),
        "the token reserves the free permit",
    )?;
    kill_and_reap(worker)?;
    check(
        sem.try_acquire().is_err(),
        "a dead holder's token still blocks",
    )?;
    let n = sem.recover().map_err(|e| e.to_string())?;
    check(n == 0, format!("the waiter held no permits, recovered {n}"))?;
    check(!sem.priority_held(), "token cleared")?;
    check(sem.waiters() == 0, "dead waiter deregistered")?;
    sem.try_acquire()
        .map_err(|e| format!("after recovery: {e}"))?
        .forget();
    sem.release(1).map_err(|e| e.to_string())?;
    check(sem.value().unwrap() == 1, "value back to 1")?;
    Ok(())
}

/// 4 processes contend on 2 permits (single and double acquires): occupancy never exceeds 2,
/// every acquire happens, and the count ends at 2 with no waiter left.
fn four_processes_two_permits() -> Result<(), String> {
    let name = ShmName::unique("semcontend");
    let sem = HarnessSem::create(&Semaphore::builder().permits(2).max(2), &name)?;
    let workers: Vec<Worker> = (0..4).map(|_| spawn("contend", &name, false)).collect();
    for w in workers {
        let status = w.take().wait().map_err(|e| e.to_string())?;
        check(
            status.success(),
            format!("contending worker failed: {status}"),
        )?;
    }
    let max = aux(&sem, MAX_INSIDE).load(SeqCst);
    let acquires = aux(&sem, ACQUIRES).load(SeqCst);
    println!("  4 processes, 2 permits: {acquires} acquires, max occupancy {max}");
    check(max <= 2, format!("occupancy reached {max} with 2 permits"))?;
    check(
        acquires == 4 * CONTEND_ITERS,
        format!("{acquires} acquires"),
    )?;
    check(
        sem.value().unwrap() == 2,
        format!("final value {}", sem.value().unwrap()),
    )?;
    check(sem.waiters() == 0, "no waiter left")?;
    Ok(())
}

/// Waits (bounded) until the semaphore shows `n` registered waiters. The waiter count is not in
/// the futex half of the word, so this polls with `yield_now` under a deadline.
fn wait_waiters(sem: &Semaphore, n: u32) -> bool {
    let deadline = Deadline::after(Duration::from_secs(30));
    while sem.waiters() < n {
        if deadline.has_passed() {
            return false;
        }
        std::thread::yield_now();
    }
    true
}

/// A blocked `acquire()` interrupted by signals (EINTR) keeps waiting and then gets the permit;
/// a blocked `acquire_timeout(400 ms)` interrupted by signals times out on time (absolute
/// deadline: restarts do not stretch it).
fn eintr_restarts_the_wait() -> Result<(), String> {
    let name = ShmName::unique("semeintr");
    let sem = HarnessSem::create(&Semaphore::builder().permits(0).max(1), &name)?;
    let worker = spawn("eintr", &name, false);
    let pid = Pid::from_raw(worker.0.as_ref().map_or(0, Child::id) as i32);
    check(
        wait_for(&sem, HOLDING, 1, Duration::from_secs(30)),
        "worker never started",
    )?;
    check(wait_waiters(&sem, 1), "worker never blocked")?;
    for _ in 0..5 {
        kill(pid, Signal::SIGUSR1).map_err(|e| e.to_string())?;
        std::thread::yield_now();
    }
    check(sem.value().unwrap() == 0, "no permit appeared")?;
    sem.release(1).map_err(|e| e.to_string())?;
    let status = worker.take().wait().map_err(|e| e.to_string())?;
    check(
        status.success(),
        format!("interrupted acquire failed: {status}"),
    )?;
    check(
        sem.value().unwrap() == 0 && sem.waiters() == 0,
        "worker took the permit",
    )?;

    let timed = spawn("eintr-timed", &name, true);
    let pid = Pid::from_raw(timed.0.as_ref().map_or(0, Child::id) as i32);
    check(
        wait_for(&sem, HOLDING, 2, Duration::from_secs(30)),
        "timed worker never started",
    )?;
    check(wait_waiters(&sem, 1), "timed worker never blocked")?;
    for _ in 0..20 {
        if kill(pid, Signal::SIGUSR1).is_err() {
            break;
        }
        // Spread the signals over the wait (a futex wait with a deadline, not a sleep).
        RealMemory::wait64_low(
            aux(&sem, PARKED),
            0,
            Some(Deadline::after(Duration::from_millis(15))),
        );
    }
    let out = timed.take().wait_with_output().map_err(|e| e.to_string())?;
    let ms = String::from_utf8_lossy(&out.stdout).trim().to_string();
    check(
        out.status.success(),
        format!(
            "timed acquire under signals took {ms} ms or did not time out ({})",
            out.status
        ),
    )?;
    check(sem.waiters() == 0, "timed worker deregistered")?;
    Ok(())
}

fn main() -> std::process::ExitCode {
    if let Ok(role) = std::env::var(WORKER_ENV) {
        std::process::exit(worker(&role));
    }
    let tests: [(&str, runner::TestFn); 6] = [
        ("killed_holder_is_recovered", killed_holder_is_recovered),
        ("live_holder_is_not_recovered", live_holder_is_not_recovered),
        (
            "racing_recoveries_recover_once",
            racing_recoveries_recover_once,
        ),
        ("eintr_restarts_the_wait", eintr_restarts_the_wait),
        ("four_processes_two_permits", four_processes_two_permits),
        (
            "killed_token_holder_is_recovered",
            killed_token_holder_is_recovered,
        ),
    ];
    runner::run(&tests)
}
