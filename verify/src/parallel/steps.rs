//! The interleaving of one loom execution, as the replay harness sees it: every atomic access,
//! fence and futex call of every actor, and each operation's invocation and answer, in the order
//! loom ran them.
//!
//! [`Logged<MUTANT>`] is [`LoomMemory<MUTANT>`] (same atomics, cells, futex and mutant switch)
//! whose accesses also append a line to a log kept per OS thread: loom runs all the threads of
//! an execution as coroutines on the OS thread that called `check`, so the log after a failing
//! exploration is exactly the failing execution's. Each access carries the source line in
//! `synclab-core` it comes from (`#[track_caller]` all the way down).

use crate::emulated::Access;
use crate::hooked_atomic;
use crate::models::loom_memory::{FutexWord, LoomBytes, LoomBytesMut, LoomCell, LoomMemory};
use std::cell::RefCell;
use std::collections::HashMap;
use std::panic::Location;
use std::sync::atomic::Ordering;
use synclab_core::model::{Atomic, Deadline, Memory, Mutant, WaitOutcome};

/// The execution log of the current OS thread's loom model.
#[derive(Default)]
struct Log {
    /// Actor names by loom thread (set by [`actor`]).
    names: HashMap<loom::thread::ThreadId, String>,
    lines: Vec<String>,
}

std::thread_local! {
    static LOG: RefCell<Log> = RefCell::new(Log::default());
}

/// Starts an execution's log (called first in every execution).
pub fn reset() {
    LOG.with(|l| *l.borrow_mut() = Log::default());
}

/// Names the calling loom thread in the log (`prefix`, `b0`, …).
pub fn actor(name: &str) {
    let id = loom::thread::current().id();
    LOG.with(|l| l.borrow_mut().names.insert(id, name.to_string()));
}

/// Appends `what` for the calling loom thread.
pub fn note(what: &str) {
    let id = loom::thread::current().id();
    LOG.with(|l| {
        let mut l = l.borrow_mut();
        let who = l
            .names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| "main".to_string());
        l.lines.push(format!("{who}: {what}"));
    });
}

/// The log of the last execution run on this OS thread.
pub fn lines() -> Vec<String> {
    LOG.with(|l| l.borrow().lines.clone())
}

/// `core/src/ring/spsc/producer.rs:88` from a caller location (path from `core/`).
fn site(loc: &Location<'_>) -> String {
    let file = loc.file();
    let short = file.find("core/src/").map_or(file, |i| &file[i..]);
    format!("{short}:{}", loc.line())
}

/// Logs one access (a compare-and-exchange once, at its success ordering).
#[track_caller]
fn logged(access: Access, o: Ordering) -> Ordering {
    if !matches!(access, Access::CasFailure(_)) {
        note(&format!(
            "{}({o:?}) at {}",
            access.name(),
            site(Location::caller())
        ));
    }
    o
}

/// A loom futex word whose accesses are logged.
pub struct Word<A>(A);

hooked_atomic!(
    Word<FutexWord<loom::sync::atomic::AtomicU32>>,
    u32,
    field = 0,
    new(v) = Word(Atomic::new(v)),
    hook = logged
);
hooked_atomic!(
    Word<FutexWord<loom::sync::atomic::AtomicU64>>,
    u64,
    field = 0,
    new(v) = Word(Atomic::new(v)),
    hook = logged
);

/// Loom memory with mutant number `MUTANT` switched on, every access logged.
pub struct Logged<const MUTANT: u32>;

type Inner<const MUTANT: u32> = LoomMemory<MUTANT>;

impl<const MUTANT: u32> Memory for Logged<MUTANT> {
    type U32 = Word<FutexWord<loom::sync::atomic::AtomicU32>>;
    type U64 = Word<FutexWord<loom::sync::atomic::AtomicU64>>;
    type Cell<T: Copy + Send + 'static> = LoomCell<T>;
    type Bytes<'a> = LoomBytes;
    type BytesMut<'a> = LoomBytesMut<'a>;
    const SPIN_LIMIT: u32 = Inner::<MUTANT>::SPIN_LIMIT;

    fn spin_hint() {
        Inner::<MUTANT>::spin_hint()
    }
    #[track_caller]
    fn fence(order: Ordering) {
        note(&format!("fence({order:?}) at {}", site(Location::caller())));
        Inner::<MUTANT>::fence(order)
    }
    fn join_asymmetric() -> bool {
        Inner::<MUTANT>::join_asymmetric()
    }
    #[track_caller]
    fn fence_light() {
        note(&format!("fence_light at {}", site(Location::caller())));
        Inner::<MUTANT>::fence_light()
    }
    #[track_caller]
    fn fence_heavy() -> bool {
        note(&format!("fence_heavy at {}", site(Location::caller())));
        Inner::<MUTANT>::fence_heavy()
    }
    #[track_caller]
    fn wait32(word: &Self::U32, expected: u32, deadline: Option<Deadline>) -> WaitOutcome {
        note(&format!("futex wait at {}", site(Location::caller())));
        let r = Inner::<MUTANT>::wait32(&word.0, expected, deadline);
        note(&format!("futex wait returns {r:?}"));
        r
    }
    #[track_caller]
    fn wake32(word: &Self::U32, count: u32) {
        note(&format!(
            "futex wake({count}) at {}",
            site(Location::caller())
        ));
        Inner::<MUTANT>::wake32(&word.0, count)
    }
    #[track_caller]
    fn wait64_low(word: &Self::U64, expected_low: u32, deadline: Option<Deadline>) -> WaitOutcome {
        note(&format!("futex wait at {}", site(Location::caller())));
        let r = Inner::<MUTANT>::wait64_low(&word.0, expected_low, deadline);
        note(&format!("futex wait returns {r:?}"));
        r
    }
    #[track_caller]
    fn wake64_low(word: &Self::U64, count: u32) {
        note(&format!(
            "futex wake({count}) at {}",
            site(Location::caller())
        ));
        Inner::<MUTANT>::wake64_low(&word.0, count)
    }
    fn expired(deadline: Deadline) -> bool {
        Inner::<MUTANT>::expired(deadline)
    }
    unsafe fn bytes(cells: &[LoomCell<u8>]) -> LoomBytes {
        // SAFETY: forwarded; the caller upholds `Memory::bytes`'s contract.
        unsafe { Inner::<MUTANT>::bytes(cells) }
    }
    unsafe fn bytes_mut<'a>(cells: &'a [LoomCell<u8>]) -> LoomBytesMut<'a> {
        // SAFETY: forwarded; the caller upholds `Memory::bytes_mut`'s contract.
        unsafe { Inner::<MUTANT>::bytes_mut(cells) }
    }
    fn mutant(m: Mutant) -> bool {
        Inner::<MUTANT>::mutant(m)
    }
}
