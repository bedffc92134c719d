//! `synclab bench`: our rings measured beside the peers a user would pick instead, in the same
//! run (this machine is noisy; only ratios measured together mean anything).
//!
//! - throughput: our `spsc` across two processes (batches) vs `rtrb` and crossbeam's
//!   `ArrayQueue` between two threads, and our `spsc` between two threads;
//! - round trip: a request/response over two `spsc` rings between two processes (spinning
//!   `try_pop`, no parking) vs a bare cache-line ping-pong between the same two processes.

mod inproc;
pub mod pingpong;

use crate::procs::WorkerExe;
use crate::runs::{spsc_transfer, spsc_transfer_with};
use serde::Serialize;
use std::time::Duration;
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

/// Runs every benchmark; `quick` uses smaller counts.
pub fn run_all(exe: &WorkerExe, quick: bool) -> Result<Vec<Figure>, String> {
    let n: u64 = if quick { 2_000_000 } else { 20_000_000 };
    let trips: u64 = if quick { 20_000 } else { 200_000 };
    let mut figures = Vec::new();
    let t = spsc_transfer(exe, n, 4096, 256, Duration::from_secs(300))?;
    if !t.ok {
        return Err(format!("spsc transfer failed: {:?}", t.errors));
    }
    figures.push(Figure {
        name: "synclab spsc, 2 processes, batches of 256".into(),
        value: t.msgs_per_sec,
        unit: "msgs/s",
    });
    let t = spsc_transfer_with(exe, n, 4096, 1, Wakeups::Spin, Duration::from_secs(300))?;
    if !t.ok {
        return Err(format!("spsc (spin) transfer failed: {:?}", t.errors));
    }
    figures.push(Figure {
        name: "synclab spsc (Wakeups::Spin), 2 processes, single push/pop".into(),
        value: t.msgs_per_sec,
        unit: "msgs/s",
    });
    figures.push(Figure {
        name: "synclab spsc, 2 threads, batches of 256".into(),
        value: inproc::spsc_threads(n, 256),
        unit: "msgs/s",
    });
    figures.push(Figure {
        name: "synclab spsc, 2 threads, single push/pop".into(),
        value: inproc::spsc_threads(n, 1),
        unit: "msgs/s",
    });
    figures.push(Figure {
        name: "synclab spsc (Wakeups::Spin), 2 threads, single push/pop".into(),
        value: inproc::spsc_threads_spin(n),
        unit: "msgs/s",
    });
    figures.push(Figure {
        name: "synclab spsc, 2 threads, try_push/try_pop spinning".into(),
        value: inproc::spsc_threads_try(n),
        unit: "msgs/s",
    });
    figures.push(Figure {
        name: "rtrb, 2 threads, single push/pop".into(),
        value: inproc::rtrb_threads(n),
        unit: "msgs/s",
    });
    figures.push(Figure {
        name: "crossbeam ArrayQueue, 2 threads".into(),
        value: inproc::crossbeam_threads(n),
        unit: "msgs/s",
    });
    figures.push(Figure {
        name: "synclab spsc round trip, 2 processes (Wakeups::Spin)".into(),
        value: pingpong::round_trip(exe, pingpong::Kind::Rings, trips)?,
        unit: "ns/round-trip",
    });
    figures.push(Figure {
        name: "bare cache-line ping-pong, 2 processes".into(),
        value: pingpong::round_trip(exe, pingpong::Kind::CacheLine, trips)?,
        unit: "ns/round-trip",
    });
    Ok(figures)
}
