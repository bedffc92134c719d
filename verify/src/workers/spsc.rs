//! spsc transfer roles: the producer pushes `Record`s `0..count` one at a time (batch 1:
//! `push_until`/`pop_until`) or in chunks filled and read in place (`write_chunk_until` /
//! `read_chunk_until`); the consumer checks the sequence.

use super::{Record, SequenceCheck, Transfer};
use crate::runs::history_buffers::op;
use serde_json::{json, Value};
use std::time::Instant;
use synclab_core::shm::ShmName;
use synclab_core::{Deadline, Producer, RingError, Spsc};

fn open(t: &Transfer) -> Result<Spsc<Record>, String> {
    let name = ShmName::new(&t.name).map_err(|e| e.to_string())?;
    Spsc::<Record>::builder()
        .open(&name)
        .map_err(|e| e.to_string())
}

fn failed(role: &str, error: impl std::fmt::Display) -> Value {
    json!({"role": role, "ok": false, "error": error.to_string()})
}

/// Pushes `count` records.
pub(super) fn produce(t: &Transfer) -> Value {
    let ring = match open(t) {
        Ok(r) => r,
        Err(e) => return failed("spsc-produce", e),
    };
    let mut p = match ring.producer() {
        Ok(p) => p,
        Err(e) => return failed("spsc-produce", e),
    };
    let deadline = t.deadline();
    let history = match t.history_buffers() {
        Ok(h) => h,
        Err(e) => return failed("spsc-produce", e),
    };
    if let Some(h) = history {
        let mut rec = h.recorder(t.worker);
        let start = Instant::now();
        for seq in 0..t.count {
            let r = rec.record(
                op::ENQUEUE,
                Some(seq),
                || p.push_until(Record::new(seq), Some(deadline)),
                |r| (r.is_ok(), None),
            );
            match r {
                Some(Ok(())) => {}
                Some(Err(e)) => return failed("spsc-produce", e),
                None => return failed("spsc-produce", "history buffer full"),
            }
        }
        let seconds = start.elapsed().as_secs_f64();
        return json!({"role": "spsc-produce", "ok": true, "sent": t.count, "seconds": seconds});
    }
    let start = Instant::now();
    let sent = if t.batch <= 1 {
        produce_single(&mut p, t.count, deadline)
    } else {
        produce_chunks(&mut p, t.count, t.batch, deadline)
    };
    let seq = match sent {
        Ok(seq) => seq,
        Err(e) => return failed("spsc-produce", e),
    };
    let seconds = start.elapsed().as_secs_f64();
    json!({"role": "spsc-produce", "ok": true, "sent": seq, "seconds": seconds})
}

/// Pushes `0..count` one record at a time (`push_until`); returns how many.
fn produce_single(
    p: &mut Producer<Record>,
    count: u64,
    deadline: Deadline,
) -> Result<u64, RingError> {
    for seq in 0..count {
        p.push_until(Record::new(seq), Some(deadline))?;
    }
    Ok(count)
}

/// Pushes `0..count` in write chunks of up to `batch` records, filled in place; returns how
/// many.
fn produce_chunks(
    p: &mut Producer<Record>,
    count: u64,
    batch: usize,
    deadline: Deadline,
) -> Result<u64, RingError> {
    let mut seq = 0u64;
    while seq < count {
        let want = (count - seq).min(batch as u64) as usize;
        let mut chunk = p.write_chunk_until(want, Some(deadline))?;
        let k = chunk.fill_from_iter((seq..).map(Record::new));
        chunk.commit(k);
        seq += k as u64;
    }
    Ok(seq)
}

/// Pops `count` records and checks them.
pub(super) fn consume(t: &Transfer) -> Value {
    let ring = match open(t) {
        Ok(r) => r,
        Err(e) => return failed("spsc-consume", e),
    };
    let mut c = match ring.consumer() {
        Ok(c) => c,
        Err(e) => return failed("spsc-consume", e),
    };
    let deadline = t.deadline();
    let mut check = SequenceCheck::default();
    let mut start = None;
    let mut error = None;
    let history = match t.history_buffers() {
        Ok(h) => h,
        Err(e) => return failed("spsc-consume", e),
    };
    if let Some(h) = &history {
        let mut rec = h.recorder(t.worker);
        while check.received < t.count {
            let r = rec.record(
                op::DEQUEUE,
                None,
                || c.pop_until(Some(deadline)),
                |r| match r {
                    Ok(x) => (true, Some(x.seq)),
                    Err(_) => (false, None),
                },
            );
            match r {
                Some(Ok(x)) => {
                    start.get_or_insert_with(Instant::now);
                    check.see(x.seq, x.intact());
                }
                Some(Err(e)) => {
                    error = Some(e.to_string());
                    break;
                }
                None => {
                    error = Some("history buffer full".into());
                    break;
                }
            }
        }
    }
    while history.is_none() && check.received < t.count {
        let got = if t.batch <= 1 {
            c.pop_until(Some(deadline))
                .map(|r| check.see(r.seq, r.intact()))
        } else {
            // In place, like rtrb's `read_chunk` in the bench: the producer is our own worker
            // (trusted, see the chunk API's trust model).
            c.read_chunk_until(t.batch, Some(deadline)).map(|chunk| {
                let (a, b) = chunk.as_slices();
                for r in a.iter().chain(b) {
                    check.see(r.seq, r.intact());
                }
                chunk.release_all();
            })
        };
        match got {
            Ok(()) => {
                start.get_or_insert_with(Instant::now);
            }
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
    }
    let seconds = start.map_or(0.0, |s| s.elapsed().as_secs_f64());
    let mut report = check.json(t.count);
    report["role"] = json!("spsc-consume");
    report["seconds"] = json!(seconds);
    if let Some(e) = error {
        report["ok"] = json!(false);
        report["error"] = json!(e);
    }
    report
}
