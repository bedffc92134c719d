//! frames transfer roles: frame `i` is `8 + (i * 31) % 249` bytes: `i` little-endian, then a
//! pattern derived from `i`; the consumer checks sequence, length and every byte.

use super::{SequenceCheck, Transfer};
use crate::runs::history_buffers::op;
use serde_json::{json, Value};
use std::time::Instant;
use synclab_core::shm::ShmName;
use synclab_core::Frames;
use synclab_core::RingError;

/// Length of frame `i`.
pub fn frame_len(i: u64) -> usize {
    8 + ((i * 31) % 249) as usize
}

fn fill(i: u64, buf: &mut [u8]) {
    buf[..8].copy_from_slice(&i.to_le_bytes());
    for (k, b) in buf[8..].iter_mut().enumerate() {
        *b = (i as u8).wrapping_add(k as u8) ^ 0xa5;
    }
}

fn intact(i: u64, buf: &[u8]) -> bool {
    buf.len() == frame_len(i)
        && buf[8..]
            .iter()
            .enumerate()
            .all(|(k, b)| *b == (i as u8).wrapping_add(k as u8) ^ 0xa5)
}

fn open(t: &Transfer) -> Result<Frames, String> {
    let name = ShmName::new(&t.name).map_err(|e| e.to_string())?;
    Frames::builder().open(&name).map_err(|e| e.to_string())
}

fn failed(role: &str, error: impl std::fmt::Display) -> Value {
    json!({"role": role, "ok": false, "error": error.to_string()})
}

/// Sends `count` frames, written in place.
pub(super) fn produce(t: &Transfer) -> Value {
    let ring = match open(t) {
        Ok(r) => r,
        Err(e) => return failed("frames-produce", e),
    };
    let mut p = match ring.producer() {
        Ok(p) => p,
        Err(e) => return failed("frames-produce", e),
    };
    let deadline = t.deadline();
    let history = match t.history_buffers() {
        Ok(h) => h,
        Err(e) => return failed("frames-produce", e),
    };
    let mut rec = history.as_ref().map(|h| h.recorder(t.worker));
    let start = Instant::now();
    let mut frame = Vec::new();
    for i in 0..t.count {
        frame.resize(frame_len(i).max(frame.len()), 0);
        // Untrusted mode: the frame is built here and copied into the ring.
        fill(i, &mut frame[..frame_len(i)]);
        let mut send = || p.send(&frame[..frame_len(i)], Some(deadline));
        let result = match rec.as_mut() {
            Some(rec) => rec
                .record(op::ENQUEUE, Some(i), send, |r| (r.is_ok(), None))
                .unwrap_or_else(|| Err(RingError::Corrupt("history buffer full".into()))),
            None => send(),
        };
        if let Err(e) = result {
            return failed("frames-produce", e);
        }
    }
    json!({"role": "frames-produce", "ok": true, "sent": t.count,
           "seconds": start.elapsed().as_secs_f64()})
}

/// Receives `count` frames, copied out of the ring (untrusted mode), and checks them.
pub(super) fn consume(t: &Transfer) -> Value {
    let ring = match open(t) {
        Ok(r) => r,
        Err(e) => return failed("frames-consume", e),
    };
    let mut c = match ring.consumer() {
        Ok(c) => c,
        Err(e) => return failed("frames-consume", e),
    };
    let deadline = t.deadline();
    let mut check = SequenceCheck::default();
    let mut start = None;
    let mut error = None;
    let mut bytes = 0u64;
    let history = match t.history_buffers() {
        Ok(h) => h,
        Err(e) => return failed("frames-consume", e),
    };
    let mut rec = history.as_ref().map(|h| h.recorder(t.worker));
    while check.received < t.count {
        let mut receive = || {
            c.read(Some(deadline), |b| {
                if b.len() < 8 {
                    return (u64::MAX, false, b.len());
                }
                let seq = u64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
                (seq, intact(seq, b), b.len())
            })
        };
        let got = match rec.as_mut() {
            Some(rec) => rec
                .record(op::DEQUEUE, None, receive, |r| match r {
                    Ok((seq, _, _)) => (true, Some(*seq)),
                    Err(_) => (false, None),
                })
                .unwrap_or_else(|| Err(RingError::Corrupt("history buffer full".into()))),
            None => receive(),
        };
        match got {
            Ok((seq, ok, len)) => {
                start.get_or_insert_with(Instant::now);
                bytes += len as u64;
                check.see(seq, ok);
            }
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
    }
    let mut report = check.json(t.count);
    report["role"] = json!("frames-consume");
    report["bytes"] = json!(bytes);
    report["seconds"] = json!(start.map_or(0.0, |s| s.elapsed().as_secs_f64()));
    if let Some(e) = error {
        report["ok"] = json!(false);
        report["error"] = json!(e);
    }
    report
}
