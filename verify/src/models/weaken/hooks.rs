//! The per-thread switchboard that `LoomMemory` consults on every atomic access, fence, wake and
//! wait: it records which source sites a model reaches, and weakens exactly one of them.
//!
//! Loom runs every model thread as a coroutine on the OS thread that called `check`, so a
//! `thread_local!` is seen by all of a model's threads and by nobody else (tests running in
//! parallel each have their own). Outside [`record`] and [`weakened`] the switchboard is idle
//! and every hook returns its input unchanged.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::panic::Location;
use std::sync::atomic::Ordering;

/// The kind of memory operation at a site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Op {
    /// Atomic load.
    Load,
    /// Atomic store.
    Store,
    /// Read-modify-write: swap, fetch_add, fetch_sub, fetch_or.
    Rmw,
    /// The success ordering of a compare-and-exchange (strong or weak).
    Cas,
    /// The failure ordering of a compare-and-exchange.
    CasFailure,
    /// `Memory::fence`.
    Fence,
    /// `Memory::fence_light` (a `SeqCst` fence under loom).
    FenceLight,
    /// `Memory::fence_heavy` (a `SeqCst` fence under loom).
    FenceHeavy,
    /// A futex wake (`wake32`, `wake64_low`).
    Wake,
    /// A futex wait (`wait32`, `wait64_low`): its "still the expected value?" re-check.
    Wait,
}

impl Op {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Op::Load => "load",
            Op::Store => "store",
            Op::Rmw => "rmw",
            Op::Cas => "cas",
            Op::CasFailure => "cas-failure",
            Op::Fence => "fence",
            Op::FenceLight => "fence-light",
            Op::FenceHeavy => "fence-heavy",
            Op::Wake => "wake",
            Op::Wait => "wait",
        }
    }
}

/// An ordering, or for wakes and waits whether the call (or its re-check) is there at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Strength {
    /// `Ordering::Relaxed`.
    Relaxed,
    /// `Ordering::Acquire`.
    Acquire,
    /// `Ordering::Release`.
    Release,
    /// `Ordering::AcqRel`.
    AcqRel,
    /// `Ordering::SeqCst`.
    SeqCst,
    /// A wake or a wait's re-check as written.
    Call,
    /// The fence, the wake or the wait's re-check removed.
    Removed,
}

impl Strength {
    /// The strength of `o`.
    pub fn of(o: Ordering) -> Strength {
        match o {
            Ordering::Relaxed => Strength::Relaxed,
            Ordering::Acquire => Strength::Acquire,
            Ordering::Release => Strength::Release,
            Ordering::AcqRel => Strength::AcqRel,
            _ => Strength::SeqCst,
        }
    }

    /// The ordering, for the ordering variants.
    pub fn ordering(self) -> Option<Ordering> {
        match self {
            Strength::Relaxed => Some(Ordering::Relaxed),
            Strength::Acquire => Some(Ordering::Acquire),
            Strength::Release => Some(Ordering::Release),
            Strength::AcqRel => Some(Ordering::AcqRel),
            Strength::SeqCst => Some(Ordering::SeqCst),
            Strength::Call | Strength::Removed => None,
        }
    }

    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Strength::Relaxed => "Relaxed",
            Strength::Acquire => "Acquire",
            Strength::Release => "Release",
            Strength::AcqRel => "AcqRel",
            Strength::SeqCst => "SeqCst",
            Strength::Call => "call",
            Strength::Removed => "none",
        }
    }
}

/// A source location in the algorithm (what `#[track_caller]` reports).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Site {
    /// Path relative to the workspace root, e.g. `core/src/ring/spsc.rs`.
    pub file: &'static str,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl Site {
    fn of(loc: &'static Location<'static>) -> Site {
        Site {
            file: loc.file(),
            line: loc.line(),
            column: loc.column(),
        }
    }
}

/// One memory operation as written in the source: where, what, how strong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Access {
    /// Where.
    pub site: Site,
    /// What.
    pub op: Op,
    /// The ordering (or presence) the source asks for.
    pub original: Strength,
}

#[derive(Default)]
struct Board {
    recording: bool,
    seen: BTreeSet<Access>,
    target: Option<(Access, Strength)>,
    hits: u64,
}

thread_local! {
    static BOARD: RefCell<Board> = RefCell::new(Board::default());
}

/// Notes `access` and returns its weakened strength if it is the target.
fn visit(access: Access) -> Option<Strength> {
    BOARD.with(|b| {
        let mut b = b.borrow_mut();
        if b.recording {
            b.seen.insert(access);
        }
        match b.target {
            Some((t, to)) if t == access => {
                b.hits += 1;
                Some(to)
            }
            _ => None,
        }
    })
}

/// The ordering an atomic access at `loc` runs with.
pub fn atomic(op: Op, order: Ordering, loc: &'static Location<'static>) -> Ordering {
    let access = Access {
        site: Site::of(loc),
        op,
        original: Strength::of(order),
    };
    visit(access).and_then(Strength::ordering).unwrap_or(order)
}

/// The fence a fence call at `loc` issues: `None` when it is removed.
pub fn fence(op: Op, order: Ordering, loc: &'static Location<'static>) -> Option<Ordering> {
    let access = Access {
        site: Site::of(loc),
        op,
        original: Strength::of(order),
    };
    match visit(access) {
        None => Some(order),
        Some(Strength::Removed) => None,
        Some(s) => s.ordering(),
    }
}

/// Whether a wake (or a wait's re-check) at `loc` happens.
pub fn call(op: Op, loc: &'static Location<'static>) -> bool {
    let access = Access {
        site: Site::of(loc),
        op,
        original: Strength::Call,
    };
    visit(access) != Some(Strength::Removed)
}

/// Resets the board when a session ends, even by a panic.
struct Session;

impl Drop for Session {
    fn drop(&mut self) {
        BOARD.with(|b| *b.borrow_mut() = Board::default());
    }
}

/// Runs `f` recording every access it reaches (on this thread's models).
pub fn record<R>(f: impl FnOnce() -> R) -> (R, BTreeSet<Access>) {
    let _session = Session;
    BOARD.with(|b| b.borrow_mut().recording = true);
    let r = f();
    let seen = BOARD.with(|b| std::mem::take(&mut b.borrow_mut().seen));
    (r, seen)
}

/// Runs `f` with `access` weakened to `to`; also returns how many times the weakened access ran.
pub fn weakened<R>(access: Access, to: Strength, f: impl FnOnce() -> R) -> (R, u64) {
    let _session = Session;
    BOARD.with(|b| b.borrow_mut().target = Some((access, to)));
    let r = f();
    let hits = BOARD.with(|b| b.borrow().hits);
    (r, hits)
}
