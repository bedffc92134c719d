//! `synclab bench`: our rings measured beside the peers a user would pick instead, in the same
//! run (this machine is noisy; only ratios measured together mean anything).
//!
//! - throughput: our `spsc` and `frames` across two processes (batches and single operations,
//!   under each waiting discipline) vs `rtrb` and crossbeam's `ArrayQueue` between two threads,
//!   and our `spsc` between two threads;
//! - round trip: a request/response over two `spsc` rings between two processes (spinning
//!   `try_pop`, no parking) vs a bare cache-line ping-pong between the same two processes.

mod inproc;
pub mod pingpong;

use crate::procs::WorkerExe;
use crate::runs::{frames_transfer_with, spsc_transfer, spsc_transfer_with};
use serde::Serialize;
use std::time::Duration;
use synclab_core::mem::{Memory, RealMemory};
use synclab_core::ring::Wakeups;

/// One measured figure.
#[derive(Clone, Debug, Serialize)]
pub struct Figure {
    /// What was measured.
    pub name: String,
    /// Messages per second (throughput figures) or nanoseconds per round trip.
    pub value: f64,
    /// `msgs/s` or `ns/round-trip`.
    pub unit: &'static str,
}

/// What a cross-process figure measures: a transfer between two processes.
fn transfer(
    report: Result<crate::runs::TransferReport, String>,
    what: &str,
) -> Result<f64, String> {
    let t = report?;
    if !t.ok {
        return Err(format!("{what} failed: {:?}", t.errors));
    }
    Ok(t.msgs_per_sec)
}

/// Runs every benchmark; `quick` uses smaller counts.
pub fn run_all(exe: &WorkerExe, quick: bool) -> Result<Vec<Figure>, String> {
    let n: u64 = if quick { 2_000_000 } else { 20_000_000 };
    let frames: u64 = n / 4;
    let trips: u64 = if quick { 20_000 } else { 200_000 };
    let long = Duration::from_secs(300);
    let mut figures = Vec::new();
    let mut add = |name: String, value: f64, unit| figures.push(Figure { name, value, unit });
    const MSGS: &str = "msgs/s";
    add(
        "synclab spsc, 2 processes, batches of 256".into(),
        transfer(spsc_transfer(exe, n, 4096, 256, long), "spsc transfer")?,
        MSGS,
    );
    for w in [Wakeups::Futex, Wakeups::FutexFenced, Wakeups::Spin] {
        add(
            format!("synclab spsc ({}), 2 processes, single push/pop", label(w)),
            transfer(
                spsc_transfer_with(exe, n, 4096, 1, w, long),
                "spsc transfer",
            )?,
            MSGS,
        );
    }
    for w in [Wakeups::Futex, Wakeups::FutexFenced] {
        add(
            format!("synclab frames ({}), 2 processes, 8-256 B", label(w)),
            transfer(
                frames_transfer_with(exe, frames, 1 << 16, w, long),
                "frames",
            )?,
            MSGS,
        );
    }
    add(
        "synclab spsc, 2 threads, batches of 256".into(),
        inproc::spsc_threads(n, 256),
        MSGS,
    );
    for w in [Wakeups::Futex, Wakeups::FutexFenced, Wakeups::Spin] {
        add(
            format!("synclab spsc ({}), 2 threads, single push/pop", label(w)),
            inproc::spsc_threads_with(n, 1, w),
            MSGS,
        );
    }
    add(
        "synclab spsc, 2 threads, try_push/try_pop spinning".into(),
        inproc::spsc_threads_try(n),
        MSGS,
    );
    add(
        "rtrb, 2 threads, single push/pop".into(),
        inproc::rtrb_threads(n),
        MSGS,
    );
    add(
        "crossbeam ArrayQueue, 2 threads".into(),
        inproc::crossbeam_threads(n),
        MSGS,
    );
    add(
        "synclab spsc round trip, 2 processes (Wakeups::Spin)".into(),
        pingpong::round_trip(exe, pingpong::Kind::Rings, trips)?,
        "ns/round-trip",
    );
    add(
        "bare cache-line ping-pong, 2 processes".into(),
        pingpong::round_trip(exe, pingpong::Kind::CacheLine, trips)?,
        "ns/round-trip",
    );
    Ok(figures)
}

/// How a figure names a ring's waiting discipline. A `Futex` ring falls back to the fenced path
/// where `membarrier` is unavailable, and then says so.
fn label(w: Wakeups) -> &'static str {
    match w {
        Wakeups::Futex if RealMemory::join_asymmetric() => "Futex, membarrier",
        Wakeups::Futex => "Futex, no membarrier here: fenced",
        Wakeups::FutexFenced => "FutexFenced",
        Wakeups::Spin => "Spin",
    }
}
