//! `synclab bench`: our rings measured beside the peers a user would pick instead, in the same
//! run (this machine is noisy; only ratios measured together mean anything).
//!
//! - throughput: our `spsc` and `frames` across two processes (batches and single operations,
//!   under each waiting discipline) vs a Unix-domain stream socket between two processes (one
//!   16-byte `write` per record, see `unix_socket.rs`), `rtrb` and crossbeam's `ArrayQueue`
//!   between two threads, and our `spsc` between two threads; every consumer, ours and the
//!   peers', reads and checks each record it receives (see `inproc.rs` for why a figure without
//!   that means nothing);
//! - round trip: a request/response over two `spsc` rings between two processes (spinning
//!   `try_pop`, no parking) vs a bare cache-line ping-pong between the same two processes and a
//!   request/response over a Unix socket between two processes.

mod inproc;
pub mod pingpong;
pub mod unix_socket;

use crate::procs::WorkerExe;
use crate::runs::{frames_transfer_with, spsc_transfer, spsc_transfer_with};
use serde::Serialize;
use std::time::Duration;
use synclab_core::model::{Memory, RealMemory};
use synclab_core::Wakeups;

/// One measured figure.
#[derive(Clone, Debug, Serialize)]
pub struct Figure {
    /// What was measured.
    pub name: String,
    /// The median of `samples`: messages per second (throughput figures) or nanoseconds per
    /// round trip.
    pub value: f64,
    /// `msgs/s` or `ns/round-trip`.
    pub unit: &'static str,
    /// One value per round, in round order.
    pub samples: Vec<f64>,
}

/// One benchmark: a name, a unit, and how to take one sample.
struct Bench<'a> {
    name: String,
    unit: &'static str,
    sample: Box<dyn FnMut() -> Result<f64, String> + 'a>,
}

const MSGS: &str = "msgs/s";
const NS_TRIP: &str = "ns/round-trip";

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

/// Runs every benchmark `rounds` times, interleaved (round 1 of every benchmark, then round 2,
/// ...), so that a burst of machine noise hits all of them alike; each figure is the median of
/// its rounds. `quick` uses smaller counts. `progress` is told each sample's number and name.
pub fn run_all(
    exe: &WorkerExe,
    quick: bool,
    rounds: usize,
    mut progress: impl FnMut(usize, usize, &str),
) -> Result<Vec<Figure>, String> {
    let mut benches = benches(exe, quick);
    let total = benches.len() * rounds.max(1);
    let mut samples = vec![Vec::new(); benches.len()];
    for round in 0..rounds.max(1) {
        for (i, b) in benches.iter_mut().enumerate() {
            progress(round * samples.len() + i, total, &b.name);
            samples[i].push((b.sample)()?);
        }
    }
    Ok(benches
        .into_iter()
        .zip(samples)
        .map(|(b, samples)| Figure {
            name: b.name,
            value: median(&samples),
            unit: b.unit,
            samples,
        })
        .collect())
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

fn benches(exe: &WorkerExe, quick: bool) -> Vec<Bench<'_>> {
    let n: u64 = if quick { 2_000_000 } else { 20_000_000 };
    let frames: u64 = n / 4;
    let trips: u64 = if quick { 20_000 } else { 200_000 };
    // About 1 M msgs/s: a tenth of the rings' count keeps a round of it well under a second.
    let socket_msgs: u64 = n / 10;
    let long = Duration::from_secs(300);
    let mut v: Vec<Bench<'_>> = Vec::new();
    let mut add = |name: String, unit, sample: Box<dyn FnMut() -> Result<f64, String>>| {
        v.push(Bench { name, unit, sample })
    };
    add(
        "synclab spsc, 2 processes, batches of 256".into(),
        MSGS,
        Box::new(move || transfer(spsc_transfer(exe, n, 4096, 256, long), "spsc transfer")),
    );
    for w in [Wakeups::Futex, Wakeups::FutexFenced, Wakeups::Spin] {
        add(
            format!("synclab spsc ({}), 2 processes, single push/pop", label(w)),
            MSGS,
            Box::new(move || {
                transfer(
                    spsc_transfer_with(exe, n, 4096, 1, w, long),
                    "spsc transfer",
                )
            }),
        );
    }
    for w in [Wakeups::Futex, Wakeups::FutexFenced] {
        add(
            format!("synclab frames ({}), 2 processes, 8-256 B", label(w)),
            MSGS,
            Box::new(move || {
                transfer(
                    frames_transfer_with(exe, frames, 1 << 16, w, long),
                    "frames",
                )
            }),
        );
    }
    add(
        unix_socket::THROUGHPUT.into(),
        MSGS,
        Box::new(move || unix_socket::throughput(exe, socket_msgs)),
    );
    add(
        "synclab spsc, 2 threads, batches of 256".into(),
        MSGS,
        Box::new(move || inproc::spsc_threads(n, 256)),
    );
    for w in [Wakeups::Futex, Wakeups::FutexFenced, Wakeups::Spin] {
        add(
            format!("synclab spsc ({}), 2 threads, single push/pop", label(w)),
            MSGS,
            Box::new(move || inproc::spsc_threads_with(n, 1, w)),
        );
    }
    add(
        "synclab spsc, 2 threads, try_push/try_pop spinning".into(),
        MSGS,
        Box::new(move || inproc::spsc_threads_try(n)),
    );
    add(
        "rtrb, 2 threads, single push/pop".into(),
        MSGS,
        Box::new(move || inproc::rtrb_threads(n)),
    );
    add(
        "crossbeam ArrayQueue, 2 threads".into(),
        MSGS,
        Box::new(move || inproc::crossbeam_threads(n)),
    );
    add(
        "synclab spsc round trip, 2 processes (Wakeups::Spin)".into(),
        NS_TRIP,
        Box::new(move || pingpong::round_trip(exe, pingpong::Kind::Rings, trips)),
    );
    add(
        "bare cache-line ping-pong, 2 processes".into(),
        NS_TRIP,
        Box::new(move || pingpong::round_trip(exe, pingpong::Kind::CacheLine, trips)),
    );
    add(
        unix_socket::ROUND_TRIP.into(),
        NS_TRIP,
        Box::new(move || pingpong::round_trip(exe, pingpong::Kind::UnixSocket, trips)),
    );
    v
}

/// How a figure names a ring's waiting discipline. A `Futex` ring falls back to the fenced path
/// where `membarrier` is unavailable, and then says so.
pub fn label(w: Wakeups) -> &'static str {
    match w {
        Wakeups::Futex if RealMemory::join_asymmetric() => "Futex, membarrier",
        Wakeups::Futex => "Futex, no membarrier here: fenced",
        Wakeups::FutexFenced => "FutexFenced",
        Wakeups::Spin => "Spin",
    }
}
