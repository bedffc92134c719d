//! No crash window, with real processes: `WORKERS` processes loop acquire/release (one or two
//! permits) on a ledger semaphore; the driver SIGSTOPs one of them at a random moment, then
//! SIGKILLs it at another (delays from a seeded RNG, over a fixed list of seeds), so the victim
//! dies wherever it happened to be: between any two instructions of `acquire`/`release`,
//! holding the priority token, parked, or inside a `recover()` of its own. Then the live workers
//! pause at a rest point (reporting the permits they hold), the driver calls `recover()`, and
//! `value + permits held by live processes == permits` must hold; then the workers finish, and
//! the count must be whole again.
//!
//! `harness = false`: `main` is the driver and, when `SYNCLAB_SEMKILL_WORKER` is set, a worker
//! (the driver re-executes `current_exe()`; it never forks without exec). Workers and driver
//! talk through the harness's spare words with futex waits and deadlines; the only sleeps are
//! the random delays before SIGSTOP and SIGKILL. Time: about 0.1-0.3 s per seed, 20 seeds.

mod runner;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;
use synclab_core::model::{Deadline, Memory, RealMemory};
use synclab_core::shm::ShmName;
use synclab_core::{SemError, Semaphore};
use synclab_verify::harness_sem::HarnessSem;

const WORKER_ENV: &str = "SYNCLAB_SEMKILL_WORKER";
const NAME_ENV: &str = "SYNCLAB_SEMKILL_NAME";
const SEED_ENV: &str = "SYNCLAB_SEMKILL_SEED";
/// Spare words: workers started; pause requested; workers parked; permits held by parked
/// workers; stop requested.
const STARTED: usize = 0;
const PAUSE: usize = 1;
const PARKED: usize = 2;
const HELD: usize = 3;
const STOP: usize = 4;
const WORKERS: u64 = 3;
const PERMITS: u32 = 2;
/// The fixed seeds (each picks the victim and the two delays).
const SEEDS: [u64; 20] = [
    1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 1597, 2584, 4181, 6765, 10946,
];
const PATIENCE: Duration = Duration::from_secs(30);

fn aux(sem: &HarnessSem, i: usize) -> &AtomicU64 {
    sem.aux(i).expect("aux index in range")
}

fn bump(sem: &HarnessSem, i: usize, by: u64) {
    aux(sem, i).fetch_add(by, SeqCst);
    RealMemory::wake64_low(aux(sem, i), u32::MAX);
}

/// Waits (futex, no busy sleep) until `pred` holds for aux word `i`, or the deadline.
fn wait_until(sem: &HarnessSem, i: usize, pred: impl Fn(u64) -> bool, timeout: Duration) -> bool {
    let deadline = Deadline::after(timeout);
    loop {
        let v = aux(sem, i).load(SeqCst);
        if pred(v) {
            return true;
        }
        if deadline.has_passed() {
            return false;
        }
        RealMemory::wait64_low(aux(sem, i), v as u32, Some(deadline));
    }
}

/// A small deterministic RNG (xorshift64*), so a seed replays the same choices.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// Parks at a rest point while a pause is requested, reporting `held` permits.
fn park(sem: &HarnessSem, held: u32) -> bool {
    bump(sem, HELD, u64::from(held));
    bump(sem, PARKED, 1);
    let resumed = wait_until(sem, PAUSE, |v| v == 0, PATIENCE);
    aux(sem, HELD).fetch_sub(u64::from(held), SeqCst);
    aux(sem, PARKED).fetch_sub(1, SeqCst);
    resumed
}

/// The worker: acquire 1 or 2 permits (2 every fourth time: the priority token), release, and
/// park when asked (sometimes holding, sometimes not), until told to stop.
fn worker() -> i32 {
    let name = ShmName::new(&std::env::var(NAME_ENV).expect("name")).expect("valid name");
    let seed: u64 = std::env::var(SEED_ENV)
        .expect("seed")
        .parse()
        .expect("seed");
    let sem = HarnessSem::open(&name).expect("open");
    let mut rng = Rng::new(seed);
    bump(&sem, STARTED, 1);
    loop {
        if aux(&sem, STOP).load(SeqCst) != 0 {
            return 0;
        }
        if aux(&sem, PAUSE).load(SeqCst) != 0 && !park(&sem, 0) {
            return 3;
        }
        let n = if rng.below(4) == 0 { 2 } else { 1 };
        let permit = match sem.acquire_many_timeout(n, Duration::from_millis(20)) {
            Ok(p) => p,
            Err(SemError::TimedOut) => continue, // re-check pause/stop, then try again
            Err(e) => {
                eprintln!("worker: acquire: {e}");
                return 4;
            }
        };
        if aux(&sem, PAUSE).load(SeqCst) != 0 && !park(&sem, n) {
            return 3;
        }
        drop(permit);
    }
}

/// A worker process; killed and reaped on drop if the test did not finish with it.
struct Worker(Option<Child>);

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn spawn(name: &ShmName, seed: u64) -> Result<Worker, String> {
    let child = Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
        .env(WORKER_ENV, "1")
        .env(NAME_ENV, name.as_str())
        .env(SEED_ENV, seed.to_string())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("spawn worker: {e}"))?;
    Ok(Worker(Some(child)))
}

fn signal(w: &Worker, sig: Signal) -> Result<(), String> {
    let pid = w.0.as_ref().map_or(0, Child::id);
    kill(Pid::from_raw(pid as i32), sig).map_err(|e| format!("{sig}: {e}"))
}

fn check(cond: bool, what: impl Into<String>) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(what.into())
    }
}

/// `recover()`, retried while a live worker is inside an operation's window.
fn recover(sem: &HarnessSem) -> Result<u32, String> {
    for _ in 0..20 {
        match sem.recover() {
            Err(SemError::InFlight { .. }) => continue,
            r => return r.map_err(|e| format!("recover: {e}")),
        }
    }
    Err("recover: a live worker stayed inside a window".into())
}

/// One seed: start the workers, stop and kill one at random moments, check conservation.
fn one_seed(seed: u64) -> Result<String, String> {
    let name = ShmName::unique("semrk");
    let builder = Semaphore::builder().permits(PERMITS).max(PERMITS).ledger(8);
    let sem = HarnessSem::create(&builder, &name)?;
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        workers.push(spawn(&name, seed * 16 + w)?);
    }
    check(
        wait_until(&sem, STARTED, |v| v == WORKERS, PATIENCE),
        "workers did not start",
    )?;
    let mut rng = Rng::new(seed);
    let victim = rng.below(WORKERS) as usize;
    let (stop_after, kill_after) = (rng.below(20_000), rng.below(3_000));
    std::thread::sleep(Duration::from_micros(stop_after));
    signal(&workers[victim], Signal::SIGSTOP)?;
    std::thread::sleep(Duration::from_micros(kill_after));
    signal(&workers[victim], Signal::SIGKILL)?;
    let mut dead = workers.remove(victim);
    let status = dead
        .0
        .take()
        .expect("child")
        .wait()
        .map_err(|e| e.to_string())?;
    check(status.code().is_none(), "the victim must die by SIGKILL")?;
    // Pause the live workers at rest points.
    bump(&sem, PAUSE, 1);
    check(
        wait_until(&sem, PARKED, |v| v == WORKERS - 1, PATIENCE),
        "live workers did not park",
    )?;
    let recovered = recover(&sem)?;
    let value = sem.value().map_err(|e| e.to_string())?;
    let held = aux(&sem, HELD).load(SeqCst);
    check(
        u64::from(value) + held == u64::from(PERMITS),
        format!(
            "seed {seed}: value {value} + held by live {held} != {PERMITS} \
             (victim {victim}, stop after {stop_after} µs, kill after {kill_after} µs)"
        ),
    )?;
    // Let them finish; the count must be whole.
    aux(&sem, STOP).store(1, SeqCst);
    aux(&sem, PAUSE).store(0, SeqCst);
    RealMemory::wake64_low(aux(&sem, PAUSE), u32::MAX);
    for mut w in workers {
        let status =
            w.0.take()
                .expect("child")
                .wait()
                .map_err(|e| e.to_string())?;
        check(
            status.success(),
            format!("seed {seed}: a live worker failed: {status}"),
        )?;
    }
    recover(&sem)?;
    let end = sem.value().map_err(|e| e.to_string())?;
    check(
        end == PERMITS,
        format!("seed {seed}: count {end} after all exited"),
    )?;
    Ok(format!(
        "seed {seed}: victim {victim} stopped at {stop_after} µs, killed {kill_after} µs later; \
         recover() returned {recovered}; value {value} + held {held} = {PERMITS}"
    ))
}

fn random_kills_leak_nothing() -> Result<(), String> {
    for seed in SEEDS {
        println!("{}", one_seed(seed)?);
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    if std::env::var(WORKER_ENV).is_ok() {
        std::process::exit(worker());
    }
    let tests: [(&str, runner::TestFn); 1] =
        [("random_kills_leak_nothing", random_kills_leak_nothing)];
    runner::run(&tests)
}
