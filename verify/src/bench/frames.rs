//! Frames at memory speed: our `frames` ring between two processes moving fixed-size messages
//! (64 B, 1 KiB, 64 KiB) in GB/s, beside the physical limit measured in the same run, a
//! single-threaded `memcpy` of the same sizes over the same footprint (source and destination
//! each as large as the ring, walked in order as the ring walks its buffer).
//!
//! The producer (`bench-frames-produce NAME SIZE COUNT`) fills each frame in place from a
//! prepared buffer (one `copy_from_slice`, as a user copying a message in would) and stamps its
//! sequence number in the first 8 bytes and the [`Record`] check word in the last 8; the consumer
//! (`bench-frames-consume NAME SIZE COUNT`) copies each frame out (one copy, as a user taking a
//! message would) and checks length, sequence and check word with [`SequenceCheck`]. So a frame
//! costs two copies of its bytes; `memcpy` is one. Both use the ring's trusted (zero-copy) mode,
//! since both peers are this program. With `--copying` they use the default (untrusted) API
//! instead: `Grant::copy_from_slice` in, `FrameConsumer::recv_into` out (volatile reads, 8
//! bytes at a time); still two copies of each byte.

use crate::procs::{reap_all, WorkerExe};
use crate::record::{Record, SequenceCheck};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use synclab_core::shm::ShmName;
use synclab_core::{Deadline, Frames};

/// The measured message sizes.
pub const SIZES: [usize; 3] = [64, 1024, 64 * 1024];
/// The frames ring's capacity in bytes (and the `memcpy` footprint).
pub const RING_BYTES: usize = 1 << 20;
/// How long one worker may take.
const WORKER_DEADLINE: Duration = Duration::from_secs(120);

/// How a size is named in figures: `64 B`, `1 KiB`, `64 KiB`.
pub fn size_label(size: usize) -> String {
    if size >= 1024 {
        format!("{} KiB", size / 1024)
    } else {
        format!("{size} B")
    }
}

fn stamp(frame: &mut [u8], seq: u64) {
    let n = frame.len();
    frame[..8].copy_from_slice(&seq.to_le_bytes());
    frame[n - 8..].copy_from_slice(&Record::new(seq).check.to_le_bytes());
}

fn read_stamp(frame: &[u8]) -> (u64, bool) {
    let n = frame.len();
    let seq = u64::from_le_bytes(frame[..8].try_into().expect("8 bytes"));
    let check = u64::from_le_bytes(frame[n - 8..].try_into().expect("8 bytes"));
    (seq, check == Record::new(seq).check)
}

/// Bytes per second of a single-threaded `memcpy` of `count` messages of `size` bytes.
pub fn memcpy(size: usize, count: u64) -> f64 {
    let src: Vec<u8> = (0..RING_BYTES).map(|i| i as u8).collect();
    let mut dst = vec![0u8; RING_BYTES];
    let per_pass = (RING_BYTES / size) as u64;
    // One untimed pass first: the destination's pages are faulted in, as the ring's are.
    dst.copy_from_slice(&src);
    std::hint::black_box(&mut dst);
    let start = Instant::now();
    for i in 0..count {
        let at = (i % per_pass) as usize * size;
        dst[at..at + size].copy_from_slice(&src[at..at + size]);
        // The copy's result must exist: the optimiser may not drop or merge the copies.
        std::hint::black_box(&mut dst);
    }
    (count * size as u64) as f64 / start.elapsed().as_secs_f64()
}

/// Bytes per second through a frames ring between two processes, `count` messages of `size`.
pub fn processes(exe: &WorkerExe, size: usize, count: u64, copying: bool) -> Result<f64, String> {
    let name = ShmName::unique("bframes");
    let ring = Frames::builder()
        .capacity(RING_BYTES)
        .create(&name)
        .map_err(|e| format!("cannot create the frames ring {name}: {e}"))?;
    if size > ring.max_message() {
        return Err(format!(
            "frames of {size} B exceed the ring's largest message, {} B",
            ring.max_message()
        ));
    }
    let args = |role: &str| {
        let mut v = vec![
            role.to_string(),
            name.to_string(),
            size.to_string(),
            count.to_string(),
        ];
        if copying {
            v.push("--copying".into());
        }
        v
    };
    let consumer = exe
        .spawn(&args("bench-frames-consume"))
        .map_err(|e| format!("cannot start the frames consumer: {e}"))?;
    let producer = match exe.spawn(&args("bench-frames-produce")) {
        Ok(p) => p,
        Err(e) => {
            reap_all(vec![consumer], Duration::ZERO);
            return Err(format!("cannot start the frames producer: {e}"));
        }
    };
    let exits = reap_all(vec![consumer, producer], WORKER_DEADLINE);
    for e in &exits {
        if !e.success() {
            return Err(format!(
                "a frames worker failed: {}: {}",
                e.describe(),
                e.stdout.trim()
            ));
        }
    }
    let report: Value = exits[0]
        .stdout
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_default();
    let bytes = report.get("bytes").and_then(Value::as_u64);
    let seconds = report.get("seconds").and_then(Value::as_f64);
    match (bytes, seconds) {
        (Some(b), Some(s)) if b == count * size as u64 && s > 0.0 => Ok(b as f64 / s),
        _ => Err(format!("the frames consumer's report is wrong: {report}")),
    }
}

fn open(name: &str) -> Result<Frames, String> {
    Frames::builder()
        .open(&ShmName::new(name).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())
}

/// Worker side: send `count` frames of `size` bytes (`copying`: with the default API).
pub fn produce(name: &str, size: usize, count: u64, copying: bool) -> Result<(), String> {
    let ring = open(name)?;
    let mut p = ring.producer().map_err(|e| e.to_string())?;
    let mut src: Vec<u8> = (0..size).map(|i| (i as u8) ^ 0xa5).collect();
    let deadline = Deadline::after(WORKER_DEADLINE);
    for seq in 0..count {
        let mut g = p
            .reserve(size, Some(deadline))
            .map_err(|e| format!("reserve of frame {seq}: {e}"))?;
        if copying {
            stamp(&mut src, seq);
            g.copy_from_slice(&src);
        } else {
            // SAFETY: trusted mode (zero-copy): the consumer is this bench's own worker, which
            // follows the protocol.
            let frame = unsafe { g.as_mut_trusted() };
            frame.copy_from_slice(&src);
            stamp(frame, seq);
        }
        g.commit();
    }
    Ok(())
}

/// Worker side: receive `count` frames of `size` bytes, copy each out and check it
/// (`copying`: with the default API).
pub fn consume(name: &str, size: usize, count: u64, copying: bool) -> Result<Value, String> {
    let ring = open(name)?;
    let mut c = ring.consumer().map_err(|e| e.to_string())?;
    let mut dst = vec![0u8; size];
    let mut check = SequenceCheck::default();
    let deadline = Deadline::after(WORKER_DEADLINE);
    let mut bytes = 0u64;
    let mut start = None;
    for _ in 0..count {
        let got = if copying {
            c.recv_into(&mut dst, Some(deadline))
        } else {
            // SAFETY: trusted mode (zero-copy): the producer is this bench's own worker, which
            // follows the protocol.
            unsafe {
                c.read_trusted(Some(deadline), |b| {
                    if b.len() == size {
                        dst.copy_from_slice(b);
                    }
                    b.len()
                })
            }
        };
        let len = got.map_err(|e| format!("read: {e}; the consumer saw {}", check.json(count)))?;
        start.get_or_insert_with(Instant::now);
        let (seq, intact) = read_stamp(&dst);
        check.see(seq, intact && len == size);
        bytes += len as u64;
    }
    let seconds = start.map_or(0.0, |t| t.elapsed().as_secs_f64());
    if !check.ok(count) {
        return Err(format!("the consumer saw {}", check.json(count)));
    }
    Ok(json!({"bytes": bytes, "seconds": seconds}))
}
