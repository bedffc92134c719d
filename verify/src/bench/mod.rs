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

mod frames;
#[cfg(feature = "iceoryx2")]
mod iceoryx2;
mod inproc;
mod mpmc;
pub mod pingpong;
mod pipe;
mod private_dir;
pub mod ratios;
pub mod roles;
mod sem;
mod start_gate;
mod stream;
pub mod svg;
pub mod unix_socket;

pub use mpmc::MultiCheck;

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
    /// `msgs/s`, `ns/round-trip`, `GB/s` or `ns/op`.
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

/// Unit of message throughput figures.
pub const MSGS: &str = "msgs/s";
/// Unit of round-trip figures.
pub const NS_TRIP: &str = "ns/round-trip";
/// Unit of byte throughput figures.
pub const GBS: &str = "GB/s";
/// Unit of per-operation cost figures.
pub const NS_OP: &str = "ns/op";

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

/// How large the counts are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// The default counts (tens of seconds per round).
    Full,
    /// A tenth of them (`--quick`, a few seconds per round).
    Quick,
    /// A thousandth (tests: the machinery runs and checks, the figures mean nothing).
    Smoke,
}

impl Scale {
    /// `full` scaled down.
    fn of(self, full: u64) -> u64 {
        match self {
            Scale::Full => full,
            Scale::Quick => full / 10,
            Scale::Smoke => full / 1000,
        }
    }
}

/// Runs every benchmark `rounds` times, interleaved (round 1 of every benchmark, then round 2,
/// ...), so that a burst of machine noise hits all of them alike; each figure is the median of
/// its rounds. `quick` uses smaller counts. `progress` is told each sample's number and name.
pub fn run_all(
    exe: &WorkerExe,
    scale: Scale,
    rounds: usize,
    only: Option<&[String]>,
    mut progress: impl FnMut(usize, usize, &str),
) -> Result<Vec<Figure>, String> {
    let mut benches = benches(exe, scale);
    if let Some(names) = only {
        benches.retain(|b| names.contains(&b.name));
    }
    let total = benches.len() * rounds.max(1);
    let mut samples = vec![Vec::new(); benches.len()];
    for round in 0..rounds.max(1) {
        for (i, b) in benches.iter_mut().enumerate() {
            if let Some(signal) = crate::procs::signals::received() {
                // Stop between measurements: every earlier one has reaped its workers and
                // dropped (unlinked) its regions; the caller reports the signal.
                return Err(format!(
                    "interrupted by {}",
                    crate::procs::signals::name(signal)
                ));
            }
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

/// The median of `v` (NaN if empty).
pub fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

fn benches(exe: &WorkerExe, scale: Scale) -> Vec<Bench<'_>> {
    let n: u64 = scale.of(20_000_000);
    let frames: u64 = n / 4;
    let trips: u64 = scale.of(200_000);
    // About 1 M msgs/s: a tenth of the rings' count keeps a round of it well under a second.
    let socket_msgs: u64 = n / 10;
    let long = Duration::from_secs(300);
    let mut l = List(Vec::new());
    l.add(
        names::SPSC_BATCH.into(),
        MSGS,
        Box::new(move || transfer(spsc_transfer(exe, n, 4096, 256, long), "spsc transfer")),
    );
    for w in [Wakeups::Futex, Wakeups::FutexFenced, Wakeups::Spin] {
        l.add(
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
        l.add(
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
    l.add(
        unix_socket::THROUGHPUT.into(),
        MSGS,
        Box::new(move || unix_socket::throughput(exe, socket_msgs)),
    );
    l.add(
        "synclab spsc, 2 threads, batches of 256".into(),
        MSGS,
        Box::new(move || inproc::spsc_threads(n, 256)),
    );
    for w in [Wakeups::Futex, Wakeups::FutexFenced, Wakeups::Spin] {
        l.add(
            format!("synclab spsc ({}), 2 threads, single push/pop", label(w)),
            MSGS,
            Box::new(move || inproc::spsc_threads_with(n, 1, w)),
        );
    }
    l.add(
        "synclab spsc, 2 threads, try_push/try_pop spinning".into(),
        MSGS,
        Box::new(move || inproc::spsc_threads_try(n)),
    );
    l.add(
        names::RTRB_SINGLE.into(),
        MSGS,
        Box::new(move || inproc::rtrb_threads(n)),
    );
    l.add(
        "crossbeam ArrayQueue, 2 threads".into(),
        MSGS,
        Box::new(move || inproc::crossbeam_threads(n)),
    );
    l.add(
        names::RTT_RINGS.into(),
        NS_TRIP,
        Box::new(move || pingpong::round_trip(exe, pingpong::Kind::Rings, trips)),
    );
    l.add(
        names::RTT_LINE.into(),
        NS_TRIP,
        Box::new(move || pingpong::round_trip(exe, pingpong::Kind::CacheLine, trips)),
    );
    l.add(
        names::RTT_TWO_LINES.into(),
        NS_TRIP,
        Box::new(move || pingpong::round_trip(exe, pingpong::Kind::TwoLines, trips)),
    );
    l.add(
        unix_socket::ROUND_TRIP.into(),
        NS_TRIP,
        Box::new(move || pingpong::round_trip(exe, pingpong::Kind::UnixSocket, trips)),
    );
    add_peers(&mut l, exe, scale, n, trips);
    l.0
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

/// The benchmarks being listed.
struct List<'a>(Vec<Bench<'a>>);

impl<'a> List<'a> {
    fn add(
        &mut self,
        name: String,
        unit: &'static str,
        sample: Box<dyn FnMut() -> Result<f64, String> + 'a>,
    ) {
        self.0.push(Bench { name, unit, sample });
    }
}

/// The peers of issue 13: rtrb chunks, a pipe, crossbeam `ArrayQueue` against our mpmc with
/// K+K workers, frames of fixed sizes against `memcpy`, our semaphore against glibc's, iceoryx2.
fn add_peers<'a>(l: &mut List<'a>, exe: &'a WorkerExe, scale: Scale, n: u64, trips: u64) {
    l.add(
        names::RTRB_CHUNK.into(),
        MSGS,
        Box::new(move || inproc::rtrb_chunk_threads(n, 256)),
    );
    l.add(
        pipe::THROUGHPUT.into(),
        MSGS,
        Box::new(move || pipe::throughput(exe, n / 10)),
    );
    // A quarter of the spsc count in all, split among the producers.
    for k in [1u64, 2, 4] {
        let per_producer = n / 4 / k;
        l.add(
            names::mpmc(k),
            MSGS,
            Box::new(move || mpmc::processes(exe, k, per_producer, 1)),
        );
        if k == 2 {
            l.add(
                names::mpmc_batch(k),
                MSGS,
                Box::new(move || mpmc::processes(exe, k, per_producer, mpmc::BATCH)),
            );
        }
        l.add(
            names::arrayqueue(k),
            MSGS,
            Box::new(move || mpmc::arrayqueue_threads(k, per_producer)),
        );
    }
    let bytes: u64 = scale.of(640 << 20);
    for size in frames::SIZES {
        let count = bytes / size as u64;
        l.add(
            names::frames(size),
            GBS,
            Box::new(move || frames::processes(exe, size, count, false).map(|b| b / 1e9)),
        );
        if size == frames::SIZES[2] {
            l.add(
                names::frames_copying(size),
                GBS,
                Box::new(move || frames::processes(exe, size, count, true).map(|b| b / 1e9)),
            );
        }
        l.add(
            names::memcpy(size),
            GBS,
            Box::new(move || Ok(frames::memcpy(size, count) / 1e9)),
        );
    }
    let ops: u64 = scale.of(10_000_000);
    for (op, what) in [(sem::Op::Acquire, "acquire"), (sem::Op::TryAcquire, "try")] {
        for ledger in [false, true] {
            l.add(
                names::sem(what, ledger),
                NS_OP,
                Box::new(move || sem::ours(op, ledger, ops)),
            );
        }
        l.add(
            names::sem_local(what),
            NS_OP,
            Box::new(move || sem::ours_local(op, ops)),
        );
        l.add(
            names::glibc(what),
            NS_OP,
            Box::new(move || sem::glibc(op, ops)),
        );
    }
    add_iceoryx2(l, exe, n, trips);
}

#[cfg(feature = "iceoryx2")]
fn add_iceoryx2<'a>(l: &mut List<'a>, exe: &'a WorkerExe, n: u64, trips: u64) {
    // iceoryx2 runs at a few M samples/s here: a tenth of the rings' count.
    l.add(
        iceoryx2::THROUGHPUT.into(),
        MSGS,
        Box::new(move || iceoryx2::throughput(exe, n / 10)),
    );
    l.add(
        iceoryx2::ROUND_TRIP.into(),
        NS_TRIP,
        Box::new(move || iceoryx2::round_trips(exe, trips).map(pingpong::median_after_warmup)),
    );
}

#[cfg(not(feature = "iceoryx2"))]
fn add_iceoryx2<'a>(_: &mut List<'a>, _: &'a WorkerExe, _: u64, _: u64) {}

/// Whether this build has the iceoryx2 peer (`--features iceoryx2`).
pub const ICEORYX2_BUILT: bool = cfg!(feature = "iceoryx2");

/// The exact names of figures the ratios refer to.
pub mod names {
    use super::{label, Wakeups};

    /// Our spsc between processes in batches of 256.
    pub const SPSC_BATCH: &str = "synclab spsc, 2 processes, batches of 256";
    /// rtrb's single push/pop between threads.
    pub const RTRB_SINGLE: &str = "rtrb, 2 threads, single push/pop";
    /// rtrb's chunk API between threads.
    pub const RTRB_CHUNK: &str = "rtrb, 2 threads, chunks of 256 (write_chunk_uninit/read_chunk)";
    /// Our round trip over two rings.
    pub const RTT_RINGS: &str = "synclab spsc round trip, 2 processes (Wakeups::Spin)";
    /// The cache-line ping-pong.
    pub const RTT_LINE: &str = "bare cache-line ping-pong, 2 processes";
    /// The two-line ping-pong (data and flag on their own lines, as a ring's record and index).
    pub const RTT_TWO_LINES: &str = "bare two-line ping-pong (data line + flag line), 2 processes";

    /// Our spsc single push/pop (default `Futex` wakeups) between processes.
    pub fn spsc_single() -> String {
        format!(
            "synclab spsc ({}), 2 processes, single push/pop",
            label(Wakeups::Futex)
        )
    }

    /// Our spsc single push/pop (default `Futex` wakeups) between threads.
    pub fn spsc_single_threads() -> String {
        format!(
            "synclab spsc ({}), 2 threads, single push/pop",
            label(Wakeups::Futex)
        )
    }

    /// Our mpmc with `k` producer and `k` consumer processes.
    pub fn mpmc(k: u64) -> String {
        format!("synclab mpmc, {k}+{k} processes")
    }

    /// Our mpmc with `k` + `k` processes moving records in `push_slice`/`pop_slice` batches.
    pub fn mpmc_batch(k: u64) -> String {
        format!(
            "synclab mpmc, {k}+{k} processes, batches of {}",
            super::mpmc::BATCH
        )
    }

    /// crossbeam's ArrayQueue with `k` + `k` threads.
    pub fn arrayqueue(k: u64) -> String {
        format!("crossbeam ArrayQueue, {k}+{k} threads")
    }

    /// Our frames of `size` bytes between processes.
    pub fn frames(size: usize) -> String {
        format!(
            "synclab frames, 2 processes, {} messages (copied in and out)",
            super::frames::size_label(size)
        )
    }

    /// Our frames of `size` bytes between processes through the default (untrusted) API.
    pub fn frames_copying(size: usize) -> String {
        format!(
            "synclab frames, 2 processes, {} messages (default API: copy_from_slice, recv_into)",
            super::frames::size_label(size)
        )
    }

    /// memcpy of `size` bytes.
    pub fn memcpy(size: usize) -> String {
        format!(
            "memcpy, 1 thread, {} at a time",
            super::frames::size_label(size)
        )
    }

    /// Our semaphore, `what` = `acquire` or `try`, holder ledger on or off.
    pub fn sem(what: &str, ledger: bool) -> String {
        let op = if what == "try" {
            "try_acquire"
        } else {
            "acquire"
        };
        let ledger = if ledger { "ledger on" } else { "ledger off" };
        format!("synclab semaphore {op}+release, uncontended ({ledger})")
    }

    /// Our semaphore with a ledger through a `LocalSemaphore`, `what` = `acquire` or `try`.
    pub fn sem_local(what: &str) -> String {
        sem(what, true).replace("(ledger on)", "(ledger on, LocalSemaphore)")
    }

    /// glibc's pshared semaphore, `what` = `acquire` or `try`.
    pub fn glibc(what: &str) -> String {
        let op = if what == "try" {
            "sem_trywait"
        } else {
            "sem_wait"
        };
        format!("glibc pshared sem_t {op}+sem_post, uncontended")
    }
}
