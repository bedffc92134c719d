//! Round trips between two processes: over two spsc rings created with `Wakeups::Spin`
//! (request, response; both sides spin on `try_pop`), over one bare cache line (each side waits
//! for the other's value), the floor any shared-memory round trip pays, over two bare lines per
//! direction (a data word and a flag word on lines of their own, the data stored before the
//! flag: the floor of any ring whose index and records live on different lines, as spsc's
//! do), and over a Unix socket (both sides block in `read`; see `unix_socket.rs`), what a user
//! would use instead.

use crate::procs::{reap_all, WorkerExe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use synclab_core::shm::{Region, RegionKind, RegionLayout, ShmError, ShmName};
use synclab_core::{RingError, Spsc, Wakeups};

/// Which round trip.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// Two spsc rings.
    Rings,
    /// One cache line.
    CacheLine,
    /// A data line and a flag line per direction.
    TwoLines,
    /// A Unix-domain stream socket.
    UnixSocket,
}

/// Bytes between the words of the two-line ping-pong: two 128-byte pairs of lines apart, so the
/// adjacent-line prefetcher never pairs them.
const LINE_STRIDE: usize = 256;
/// The words: request data, request flag, response data, response flag (the one-line ping-pong
/// uses the first only).
const WORDS: usize = 4;
const LINE_BODY: u64 = (LINE_STRIDE * WORDS) as u64;

fn line_layout() -> RegionLayout {
    RegionLayout {
        kind: RegionKind::Bytes,
        capacity: 1,
        elem_size: 8,
        elem_align: 8,
        params: [0; 4],
        body_len: LINE_BODY,
    }
}

/// Word `i` (< `WORDS`) of the ping-pong region.
fn word(region: &Region, i: usize) -> &AtomicU64 {
    assert!(i < WORDS);
    // SAFETY: the body is `LINE_BODY` bytes (validated layout), 128-aligned, so `i *
    // LINE_STRIDE` is in bounds and 8-aligned; AtomicU64 is plain u64 in memory; the region
    // outlives the reference.
    unsafe {
        &*region
            .body()
            .as_ptr()
            .add(i * LINE_STRIDE)
            .cast::<AtomicU64>()
    }
}

/// Opens the ping-pong lines in a worker.
pub fn open_line(name: &ShmName) -> Result<Region, ShmError> {
    Region::open_named(name, RegionKind::Bytes, |_| Ok(line_layout()))
}

/// Median nanoseconds per round trip over `trips` round trips (after a warm-up tenth).
pub fn round_trip(exe: &WorkerExe, kind: Kind, trips: u64) -> Result<f64, String> {
    let req = ShmName::unique("ping");
    let resp = ShmName::unique("pong");
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let mut samples = Vec::with_capacity(trips as usize);
    match kind {
        Kind::Rings => {
            // Spin-only rings: both sides spin on `try_pop` anyway, so the notify fence would be
            // pure overhead here.
            let spin = |n| {
                Spsc::<u64>::builder()
                    .capacity(64)
                    .wakeups(Wakeups::Spin)
                    .create(n)
            };
            let a = spin(&req).map_err(|e| err(&e))?;
            let b = spin(&resp).map_err(|e| err(&e))?;
            let child = exe
                .spawn(&[
                    "echo-rings".into(),
                    req.to_string(),
                    resp.to_string(),
                    trips.to_string(),
                ])
                .map_err(|e| err(&e))?;
            let mut tx = a.producer().map_err(|e| err(&e))?;
            let mut rx = b.consumer().map_err(|e| err(&e))?;
            for i in 0..trips {
                let t0 = Instant::now();
                tx.try_push(i).map_err(|e| err(&e))?;
                loop {
                    match rx.try_pop() {
                        Ok(_) => break,
                        Err(RingError::Empty) => std::hint::spin_loop(),
                        Err(e) => return Err(e.to_string()),
                    }
                }
                samples.push(t0.elapsed().as_nanos() as u64);
            }
            drop(tx);
            reap_all(vec![child], Duration::from_secs(30));
        }
        Kind::CacheLine | Kind::TwoLines => {
            let two = matches!(kind, Kind::TwoLines);
            let region =
                Region::create_named(&req, &line_layout(), |_, _| {}).map_err(|e| err(&e))?;
            let mut args = vec!["echo-line".to_string(), req.to_string(), trips.to_string()];
            if two {
                args.push("--two-lines".into());
            }
            let child = exe.spawn(&args).map_err(|e| err(&e))?;
            let (w, data, back) = (word(&region, 0), word(&region, 1), word(&region, 3));
            for i in 0..trips {
                let t0 = Instant::now();
                if two {
                    // Relaxed data, then the Release flag: as a ring's record and index.
                    w.store(i, Ordering::Relaxed);
                    data.store(i + 1, Ordering::Release);
                    while back.load(Ordering::Acquire) != i + 1 {
                        std::hint::spin_loop();
                    }
                    // Relaxed: ordered by the Acquire load of the flag above.
                    if word(&region, 2).load(Ordering::Relaxed) != i {
                        return Err(format!("two-line ping-pong: wrong answer to {i}"));
                    }
                } else {
                    // Release/Acquire: the ping-pong needs no more than the value itself.
                    w.store(2 * i + 1, Ordering::Release);
                    while w.load(Ordering::Acquire) != 2 * i + 2 {
                        std::hint::spin_loop();
                    }
                }
                samples.push(t0.elapsed().as_nanos() as u64);
            }
            reap_all(vec![child], Duration::from_secs(30));
        }
        Kind::UnixSocket => samples = super::unix_socket::round_trips(exe, trips)?,
    }
    Ok(median_after_warmup(samples))
}

/// The median of `samples` after dropping the first tenth (warm-up).
pub fn median_after_warmup(mut samples: Vec<u64>) -> f64 {
    let mut s: Vec<u64> = samples.split_off(samples.len() / 10);
    s.sort_unstable();
    s.get(s.len() / 2).copied().unwrap_or(0) as f64
}

/// Worker side: echo every request on ring `req` back on ring `resp`, `trips` times.
pub fn echo_rings(req: &str, resp: &str, trips: u64) -> Result<(), String> {
    let a = Spsc::<u64>::builder()
        .open(&ShmName::new(req).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let b = Spsc::<u64>::builder()
        .open(&ShmName::new(resp).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let mut rx = a.consumer().map_err(|e| e.to_string())?;
    let mut tx = b.producer().map_err(|e| e.to_string())?;
    for _ in 0..trips {
        let v = loop {
            match rx.try_pop() {
                Ok(v) => break v,
                Err(RingError::Empty) => std::hint::spin_loop(),
                Err(e) => return Err(e.to_string()),
            }
        };
        tx.try_push(v).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Worker side: answer each odd value on the cache line with the next even one, or (`two`)
/// each request flag `i + 1` by copying the request's data word to the response's and raising
/// the response flag to `i + 1`.
pub fn echo_line(name: &str, trips: u64, two: bool) -> Result<(), String> {
    let region =
        open_line(&ShmName::new(name).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let w = word(&region, 0);
    let (flag, resp, back) = (word(&region, 1), word(&region, 2), word(&region, 3));
    let deadline = Instant::now() + Duration::from_secs(60);
    for i in 0..trips {
        let (watched, want) = if two { (flag, i + 1) } else { (w, 2 * i + 1) };
        // Acquire/Release: as on the parent's side.
        while watched.load(Ordering::Acquire) != want {
            std::hint::spin_loop();
            if i % 1024 == 0 && Instant::now() > deadline {
                return Err("timed out".into());
            }
        }
        if two {
            // Relaxed: the data words are ordered by the flags' Acquire/Release.
            resp.store(w.load(Ordering::Relaxed), Ordering::Relaxed);
            back.store(i + 1, Ordering::Release);
        } else {
            w.store(2 * i + 2, Ordering::Release);
        }
    }
    Ok(())
}
