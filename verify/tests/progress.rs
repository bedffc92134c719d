//! Progress under loom: one thread (the victim) is suspended before its k-th shared-memory
//! operation, for every k, and loom checks in every interleaving (preemption bound 2) whether
//! the other threads still complete within a bound. A k at which they cannot is a point where
//! the operation is not lock-free: the victim, stalled there, blocks the others.
//!
//! The suspension is a `Memory` wrapper around `LoomMemory`: every atomic operation of the
//! victim first counts itself, and the k-th one spins (yielding to loom) until the others are
//! done. Operations are counted on the atomics (payload cells and futex calls are not steps).
//!
//! Measured:
//! - mpmc: a producer suspended after its claiming compare-and-swap and before its publishing
//!   `Release` store blocks the consumer of that position: `try_pop` says `Empty` for every
//!   attempt although a later producer's record is published (Vyukov's queue is not lock-free
//!   exactly there). Suspended anywhere else, the consumer gets a record.
//! - semaphore: a thread suspended anywhere inside `try_acquire` or `release` never keeps
//!   another thread from taking a free permit (those two are lock-free).

use loom::sync::atomic::AtomicBool;
use loom::thread;
use std::cell::RefCell;
use std::sync::atomic::Ordering::{self, SeqCst};
use std::sync::Arc;
use synclab_core::model::{Atomic, Deadline, Memory, Mpmc, Mutant, Semaphore, WaitOutcome};
use synclab_verify::emulated::Access;
use synclab_verify::hooked_atomic;
use synclab_verify::models::harness::{explore, ModelOptions};
use synclab_verify::models::loom_memory::{
    FutexWord, LoomBytes, LoomBytesMut, LoomCell, LoomMemory,
};

/// Who is suspended where, for the model running on this OS thread.
struct Suspension {
    victim: Option<thread::ThreadId>,
    /// Suspend before this operation of the victim (1-based); 0 = never.
    at: usize,
    done: usize,
    /// Set when the others have finished: the victim resumes.
    release: Option<loom::sync::Arc<AtomicBool>>,
    /// The victim's operations, when recording (`at == 0`).
    names: Vec<String>,
}

std::thread_local! {
    static SUSPENSION: RefCell<Suspension> = const {
        RefCell::new(Suspension { victim: None, at: 0, done: 0, release: None, names: Vec::new() })
    };
}

fn step(name: &str, order: Ordering) {
    let me = thread::current().id();
    let wait_on = SUSPENSION.with(|s| {
        let mut s = s.borrow_mut();
        if s.victim != Some(me) {
            return None;
        }
        s.done += 1;
        if s.at == 0 {
            s.names.push(format!("{name}({order:?})"));
            return None;
        }
        (s.done == s.at).then(|| s.release.clone()).flatten()
    });
    if let Some(release) = wait_on {
        while !release.load(SeqCst) {
            thread::yield_now();
        }
    }
}

/// An atomic whose victim-side operations count as steps.
struct Stepped<A>(A);

/// Counts the victim's access as a step (a compare-and-exchange once, at its success ordering).
fn step_hook(access: Access, o: Ordering) -> Ordering {
    if !matches!(access, Access::CasFailure(_)) {
        step(access.name(), o);
    }
    o
}

hooked_atomic!(
    Stepped<FutexWord<loom::sync::atomic::AtomicU32>>,
    u32,
    field = 0,
    new(v) = Stepped(Atomic::new(v)),
    hook = step_hook
);
hooked_atomic!(
    Stepped<FutexWord<loom::sync::atomic::AtomicU64>>,
    u64,
    field = 0,
    new(v) = Stepped(Atomic::new(v)),
    hook = step_hook
);

type Inner = LoomMemory<0>;

/// Loom memory whose victim thread is suspended at its chosen step.
struct Suspending;

impl Memory for Suspending {
    type U32 = Stepped<FutexWord<loom::sync::atomic::AtomicU32>>;
    type U64 = Stepped<FutexWord<loom::sync::atomic::AtomicU64>>;
    type Cell<T: Copy + Send + 'static> = LoomCell<T>;
    type Bytes<'a> = LoomBytes;
    type BytesMut<'a> = LoomBytesMut<'a>;
    const SPIN_LIMIT: u32 = Inner::SPIN_LIMIT;

    fn spin_hint() {
        Inner::spin_hint()
    }
    fn fence(order: Ordering) {
        step("fence", order);
        Inner::fence(order)
    }
    fn join_asymmetric() -> bool {
        Inner::join_asymmetric()
    }
    fn fence_light() {
        step("fence_light", SeqCst);
        Inner::fence_light()
    }
    fn fence_heavy() -> bool {
        step("fence_heavy", SeqCst);
        Inner::fence_heavy()
    }
    fn wait32(word: &Self::U32, expected: u32, deadline: Option<Deadline>) -> WaitOutcome {
        Inner::wait32(&word.0, expected, deadline)
    }
    fn wake32(word: &Self::U32, count: u32) {
        Inner::wake32(&word.0, count)
    }
    fn wait64_low(word: &Self::U64, expected_low: u32, deadline: Option<Deadline>) -> WaitOutcome {
        Inner::wait64_low(&word.0, expected_low, deadline)
    }
    fn wake64_low(word: &Self::U64, count: u32) {
        Inner::wake64_low(&word.0, count)
    }
    fn expired(deadline: Deadline) -> bool {
        Inner::expired(deadline)
    }
    unsafe fn bytes(cells: &[LoomCell<u8>]) -> LoomBytes {
        // SAFETY: forwarded; the caller upholds `Memory::bytes`'s contract.
        unsafe { Inner::bytes(cells) }
    }
    unsafe fn bytes_mut<'a>(cells: &'a [LoomCell<u8>]) -> LoomBytesMut<'a> {
        // SAFETY: forwarded; the caller upholds `Memory::bytes_mut`'s contract.
        unsafe { Inner::bytes_mut(cells) }
    }
    fn mutant(_m: Mutant) -> bool {
        false
    }
}

const BOUND: ModelOptions = ModelOptions {
    preemptions: Some(2),
};

/// Attempts (each followed by a yield) the others get before they count as blocked.
const ATTEMPTS: usize = 3;

/// Starts an execution: nobody is suspended until the victim says so.
fn reset() {
    SUSPENSION.with(|s| {
        let mut s = s.borrow_mut();
        s.victim = None;
        s.done = 0;
        s.release = None;
        s.names.clear();
    });
}

/// Called first by the victim thread: suspend it before its `at`-th step (0: record its steps).
fn become_victim(at: usize, release: loom::sync::Arc<AtomicBool>) {
    SUSPENSION.with(|s| {
        let mut s = s.borrow_mut();
        s.victim = Some(thread::current().id());
        s.at = at;
        s.done = 0;
        s.release = Some(release);
    });
}

/// Called last by the victim: drops its handle on the release flag (a loom `Arc` still held in
/// the thread-local when the execution ends would be reported as leaked).
fn victim_done() {
    SUSPENSION.with(|s| s.borrow_mut().release = None);
}

/// The victim's steps in the last execution of a recording run.
fn recorded_steps() -> Vec<String> {
    SUSPENSION.with(|s| s.borrow().names.clone())
}

/// mpmc, capacity 2: the victim `try_push`es 1; another producer `try_push`es 2 and finishes;
/// then a consumer must get a record within `ATTEMPTS` `try_pop`s.
fn mpmc_consumer_progress(at: usize) -> bool {
    let e = explore(&BOUND, move || {
        reset();
        let q = Mpmc::<u32, Suspending>::builder()
            .capacity(2)
            .heap()
            .unwrap();
        let release = loom::sync::Arc::new(AtomicBool::new(false));
        let (qv, rv) = (q.clone(), release.clone());
        let victim = thread::spawn(move || {
            become_victim(at, rv);
            qv.try_push(1).unwrap();
            victim_done();
        });
        let qp = q.clone();
        thread::spawn(move || qp.try_push(2).unwrap())
            .join()
            .unwrap();
        let qc = q.clone();
        let got = thread::spawn(move || {
            (0..ATTEMPTS).find_map(|_| {
                let r = qc.try_pop().ok();
                if r.is_none() {
                    thread::yield_now();
                }
                r
            })
        })
        .join()
        .unwrap();
        release.store(true, SeqCst);
        victim.join().unwrap();
        assert!(
            got.is_some(),
            "the consumer got nothing while a record was published"
        );
    });
    assert!(e.refused.is_none(), "loom refused: {:?}", e.refused);
    e.ok
}

/// Semaphore of 2 permits: the victim takes one with `try_acquire` and releases it; another
/// thread must get a permit within `ATTEMPTS` `try_acquire`s.
fn sem_progress(at: usize) -> bool {
    let e = explore(&BOUND, move || {
        reset();
        let sem = Arc::new(
            Semaphore::<Suspending>::builder()
                .permits(2)
                .max(2)
                .heap()
                .unwrap(),
        );
        let release = loom::sync::Arc::new(AtomicBool::new(false));
        let (sv, rv) = (Arc::clone(&sem), release.clone());
        let victim = thread::spawn(move || {
            become_victim(at, rv);
            if let Ok(p) = sv.try_acquire() {
                p.forget();
                sv.release(1).unwrap();
            }
            victim_done();
        });
        let so = Arc::clone(&sem);
        let got = thread::spawn(move || {
            (0..ATTEMPTS).any(|_| match so.try_acquire() {
                Ok(p) => {
                    p.forget();
                    true
                }
                Err(_) => {
                    thread::yield_now();
                    false
                }
            })
        })
        .join()
        .unwrap();
        release.store(true, SeqCst);
        victim.join().unwrap();
        assert!(got, "no permit for the other thread while one was free");
    });
    assert!(e.refused.is_none(), "loom refused: {:?}", e.refused);
    e.ok
}

/// Records the victim's steps (one execution's worth), then suspends it before each one.
fn sweep(what: &str, check: fn(usize) -> bool) -> (Vec<String>, Vec<usize>) {
    assert!(check(0), "{what}: fails without any suspension");
    let steps = recorded_steps();
    assert!(!steps.is_empty(), "{what}: the victim took no step");
    let blocked: Vec<usize> = (1..=steps.len()).filter(|&k| !check(k)).collect();
    for (i, name) in steps.iter().enumerate() {
        let verdict = if blocked.contains(&(i + 1)) {
            "BLOCKS the others"
        } else {
            "others complete"
        };
        eprintln!(
            "{what}: victim suspended before step {} {name}: {verdict}",
            i + 1
        );
    }
    (steps, blocked)
}

/// Vyukov's queue is not lock-free exactly between a producer's claim and its publish.
#[test]
fn progress_mpmc_producer_stalled_between_claim_and_publish_blocks_the_consumer() {
    let (steps, blocked) = sweep("mpmc try_push", mpmc_consumer_progress);
    let claim = steps
        .iter()
        .position(|s| s.starts_with("compare_exchange"))
        .expect("the claim is a compare-and-swap")
        + 1;
    // The publish is the last Release store (before it: the claimer word's record and clear).
    let publish = steps
        .iter()
        .rposition(|s| s == "store(Release)")
        .expect("the publish is a Release store")
        + 1;
    assert!(claim < publish);
    assert_eq!(
        blocked,
        (claim + 1..=publish).collect::<Vec<_>>(),
        "blocking steps must be exactly those after the claim up to the publish: {steps:?}"
    );
}

/// `try_acquire` and `release` never block another thread's `try_acquire` of a free permit.
#[test]
fn progress_semaphore_try_acquire_release_are_lock_free() {
    let (_steps, blocked) = sweep("semaphore try_acquire+release", sem_progress);
    assert!(blocked.is_empty(), "blocking steps: {blocked:?}");
}
