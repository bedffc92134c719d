//! spsc transfer roles: the producer pushes `Record`s `0..count` in batches; the consumer pops
//! them in batches and checks the sequence.

use super::{Record, SequenceCheck, Transfer};
use crate::runs::history_buffers::op;
use serde_json::{json, Value};
use std::time::Instant;
use synclab_core::shm::ShmName;
use synclab_core::Spsc;

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
    let batch = t.batch.max(1);
    let mut buf = vec![Record::new(0); batch];
    let start = Instant::now();
    let mut seq = 0u64;
    while seq < t.count {
        let n = (t.count - seq).min(batch as u64) as usize;
        for (i, r) in buf[..n].iter_mut().enumerate() {
            *r = Record::new(seq + i as u64);
        }
        let mut sent = 0;
        while sent < n {
            match p.push_slice(&buf[sent..n]) {
                Ok(0) => {
                    if let Err(e) = p.push_until(buf[sent], Some(deadline)) {
                        return failed("spsc-produce", e);
                    }
                    sent += 1;
                }
                Ok(k) => sent += k,
                Err(e) => return failed("spsc-produce", e),
            }
        }
        seq += n as u64;
    }
    let seconds = start.elapsed().as_secs_f64();
    json!({"role": "spsc-produce", "ok": true, "sent": seq, "seconds": seconds})
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
    let mut buf = vec![Record::new(0); t.batch.max(1)];
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
        match c.pop_slice_blocking(&mut buf, Some(deadline)) {
            Ok(n) => {
                start.get_or_insert_with(Instant::now);
                for r in &buf[..n] {
                    check.see(r.seq, r.intact());
                }
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
