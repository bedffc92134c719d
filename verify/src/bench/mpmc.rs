//! mpmc throughput with K producers and K consumers: our `Mpmc` between 2K processes
//! (re-executed `bench-mpmc-produce` / `bench-mpmc-consume` workers, blocking `push_until` /
//! `pop_until`, or with `--batch` [`BATCH`] `push_slice_until` / `pop_slice_until`) beside crossbeam's `ArrayQueue` between 2K threads (spinning with `yield_now`
//! on full/empty, since 2K threads share 2 cores here).
//!
//! Producer `id` pushes the [`Record`]s `id << 40 | i`, `i` in `0..n`. Every consumer, ours and
//! crossbeam's, checks each record it pops ([`MultiCheck`]: intact check word, and for each
//! producer strictly increasing sequence numbers, which a FIFO queue guarantees per consumer),
//! and the parent requires the consumers' counts and sums of sequence numbers to add up to
//! exactly what was pushed. The workers start together (see `start_gate.rs`). The rate is all records over the time from the first pop (any
//! consumer) to the last (any consumer, to within 63 pops), on `CLOCK_MONOTONIC`, the same clock in every process.

use crate::procs::{reap_all, WorkerExe};
use crate::record::Record;
use serde_json::{json, Value};
use std::time::Duration;
use synclab_core::shm::ShmName;
use synclab_core::{Deadline, Mpmc, RingError};

/// Slots of either queue.
const CAPACITY: usize = 4096;
/// Records per batch in the batch figure.
pub const BATCH: usize = 64;
/// How long one worker may take.
const WORKER_DEADLINE: Duration = Duration::from_secs(120);

/// `CLOCK_MONOTONIC` in nanoseconds.
fn now_ns() -> u64 {
    let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .expect("CLOCK_MONOTONIC is always available");
    t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64
}

/// A consumer's tally over records from up to 64 producers.
#[derive(Clone, Debug)]
pub struct MultiCheck {
    last: [Option<u64>; 64],
    received: u64,
    bad: u64,
    sum: u64,
    first_ns: u64,
    last_ns: u64,
}

impl Default for MultiCheck {
    fn default() -> Self {
        MultiCheck {
            last: [None; 64],
            received: 0,
            bad: 0,
            sum: 0,
            first_ns: u64::MAX,
            last_ns: 0,
        }
    }
}

impl MultiCheck {
    /// Records one popped record.
    #[inline]
    pub fn see(&mut self, r: Record) {
        self.received += 1;
        self.sum = self.sum.wrapping_add(r.seq);
        let id = (r.seq >> 40) as usize;
        let i = r.seq & ((1 << 40) - 1);
        match self.last.get_mut(id) {
            Some(last) if r.intact() && last.is_none_or(|l| l < i) => *last = Some(i),
            _ => self.bad += 1,
        }
    }

    /// Marks the time of a pop, every 64th only (a clock read costs about as much as a pop):
    /// the first is kept, and the last stamp is at most 63 pops before the last pop.
    #[inline]
    fn stamp(&mut self) {
        if self.received % 64 != 0 {
            return;
        }
        let t = now_ns();
        self.first_ns = self.first_ns.min(t);
        self.last_ns = t;
    }

    fn json(&self) -> Value {
        json!({"received": self.received, "bad": self.bad, "sum": self.sum,
               "first_ns": self.first_ns, "last_ns": self.last_ns})
    }

    fn from_json(v: &Value) -> Option<MultiCheck> {
        let get = |k: &str| v.get(k).and_then(Value::as_u64);
        Some(MultiCheck {
            last: [None; 64],
            received: get("received")?,
            bad: get("bad")?,
            sum: get("sum")?,
            first_ns: get("first_ns")?,
            last_ns: get("last_ns")?,
        })
    }
}

/// The sum of every sequence number `k` producers of `n` records push.
fn expected_sum(k: u64, n: u64) -> u64 {
    (0..k).fold(0u64, |acc, id| {
        acc.wrapping_add((id << 40).wrapping_mul(n))
            .wrapping_add(n.wrapping_mul(n.wrapping_sub(1)) / 2)
    })
}

/// Checks the consumers' tallies add up to `k` producers × `n` records; returns the rate.
pub fn verdict(what: &str, k: u64, n: u64, tallies: &[MultiCheck]) -> Result<f64, String> {
    let received: u64 = tallies.iter().map(|t| t.received).sum();
    let bad: u64 = tallies.iter().map(|t| t.bad).sum();
    let sum = tallies.iter().fold(0u64, |a, t| a.wrapping_add(t.sum));
    if received != k * n || bad != 0 || sum != expected_sum(k, n) {
        return Err(format!(
            "{what}: the consumers received {received} of {} records, {bad} torn, foreign or \
             out of order, sequence sum {sum} (expected {})",
            k * n,
            expected_sum(k, n)
        ));
    }
    let first = tallies.iter().map(|t| t.first_ns).min().unwrap_or(0);
    let last = tallies.iter().map(|t| t.last_ns).max().unwrap_or(0);
    Ok(received as f64 / (last.saturating_sub(first).max(1) as f64 / 1e9))
}

/// Records per second through our `Mpmc` with `k` producer and `k` consumer processes, `n`
/// records per producer, moved `batch` at a time (1: single operations).
pub fn processes(exe: &WorkerExe, k: u64, n: u64, batch: usize) -> Result<f64, String> {
    let name = ShmName::unique("bmpmc");
    let q = Mpmc::<Record>::builder()
        .capacity(CAPACITY)
        .create(&name)
        .map_err(|e| format!("cannot create the mpmc queue {name}: {e}"))?;
    let gate = super::start_gate::Gate::new()?;
    let spawn = |args: Vec<String>| {
        exe.spawn(&args)
            .map_err(|e| format!("cannot start an mpmc worker: {e}"))
    };
    let mut consumers = Vec::new();
    let mut producers = Vec::new();
    let started: Result<(), String> = (|| {
        for _ in 0..k {
            consumers.push(spawn(vec![
                "bench-mpmc-consume".into(),
                name.to_string(),
                gate.name(),
                format!("--batch={batch}"),
            ])?);
        }
        for id in 0..k {
            producers.push(spawn(vec![
                "bench-mpmc-produce".into(),
                name.to_string(),
                gate.name(),
                id.to_string(),
                n.to_string(),
                format!("--batch={batch}"),
            ])?);
        }
        gate.open_when_ready(2 * k, WORKER_DEADLINE)
    })();
    let timeout = if started.is_ok() {
        WORKER_DEADLINE
    } else {
        Duration::ZERO
    };
    let produced = reap_all(producers, timeout);
    q.close();
    let consumed = reap_all(consumers, timeout);
    started?;
    let mut tallies = Vec::new();
    for e in produced.iter().chain(&consumed) {
        if !e.success() {
            return Err(format!(
                "an mpmc worker failed: {}: {}",
                e.describe(),
                e.stdout.trim()
            ));
        }
    }
    for e in &consumed {
        let v: Value = e
            .stdout
            .lines()
            .last()
            .and_then(|l| serde_json::from_str(l).ok())
            .unwrap_or_default();
        tallies.push(
            MultiCheck::from_json(&v)
                .ok_or_else(|| format!("an mpmc consumer's report is malformed: {v}"))?,
        );
    }
    verdict(&format!("synclab mpmc (batch {batch})"), k, n, &tallies)
}

/// Worker side: push `count` records `id << 40 | i` into the queue `name`, `batch` at a time.
pub fn produce(
    name: &str,
    gate: &str,
    (id, count): (u64, u64),
    batch: usize,
) -> Result<(), String> {
    let q = Mpmc::<Record>::builder()
        .open(&ShmName::new(name).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    super::start_gate::pass(gate, WORKER_DEADLINE)?;
    let deadline = Some(Deadline::after(WORKER_DEADLINE));
    if batch <= 1 {
        for i in 0..count {
            q.push_until(Record::new(id << 40 | i), deadline)
                .map_err(|e| format!("push of record {i}: {e}"))?;
        }
        return Ok(());
    }
    let mut buf = vec![Record::new(0); batch];
    let mut i = 0;
    while i < count {
        let m = (count - i).min(batch as u64) as usize;
        for (j, r) in buf[..m].iter_mut().enumerate() {
            *r = Record::new(id << 40 | (i + j as u64));
        }
        let mut done = 0;
        while done < m {
            done += q
                .push_slice_until(&buf[done..m], deadline)
                .map_err(|e| format!("push_slice of record {}: {e}", i + done as u64))?;
        }
        i += m as u64;
    }
    Ok(())
}

/// Worker side: pop and check records from the queue `name` until it is closed and empty,
/// `batch` at a time.
pub fn consume(name: &str, gate: &str, batch: usize) -> Result<Value, String> {
    let q = Mpmc::<Record>::builder()
        .open(&ShmName::new(name).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    super::start_gate::pass(gate, WORKER_DEADLINE)?;
    let deadline = Some(Deadline::after(WORKER_DEADLINE));
    let mut check = MultiCheck::default();
    let mut buf = vec![Record::new(0); batch.max(1)];
    loop {
        let got = if batch <= 1 {
            q.pop_until(deadline).map(|r| {
                buf[0] = r;
                1
            })
        } else {
            q.pop_slice_until(&mut buf, deadline)
        };
        match got {
            Ok(m) => {
                for &r in &buf[..m] {
                    check.stamp();
                    check.see(r);
                }
            }
            Err(RingError::Closed) => break,
            Err(e) => return Err(format!("pop: {e}")),
        }
    }
    Ok(check.json())
}

/// Records per second through crossbeam's `ArrayQueue` with `k` producer and `k` consumer
/// threads, `n` records per producer.
pub fn arrayqueue_threads(k: u64, n: u64) -> Result<f64, String> {
    use std::sync::atomic::{AtomicU64, Ordering};
    let q = crossbeam::queue::ArrayQueue::<Record>::new(CAPACITY);
    let producers_done = AtomicU64::new(0);
    let tallies = std::thread::scope(|s| {
        for id in 0..k {
            let (q, done) = (&q, &producers_done);
            s.spawn(move || {
                for i in 0..n {
                    let mut r = Record::new(id << 40 | i);
                    while let Err(back) = q.push(r) {
                        r = back;
                        std::thread::yield_now();
                    }
                }
                // Release: a consumer that sees the count also sees every push before it.
                done.fetch_add(1, Ordering::Release);
            });
        }
        let consumers: Vec<_> = (0..k)
            .map(|_| {
                let (q, done) = (&q, &producers_done);
                s.spawn(move || {
                    let mut check = MultiCheck::default();
                    loop {
                        if let Some(r) = q.pop() {
                            check.stamp();
                            check.see(r);
                            continue;
                        }
                        // Acquire: pairs with the producers' Release; after it, an empty queue
                        // stays empty.
                        if done.load(Ordering::Acquire) == k && q.is_empty() {
                            break;
                        }
                        std::thread::yield_now();
                    }
                    check
                })
            })
            .collect();
        consumers
            .into_iter()
            .map(|c| c.join().expect("consumer thread"))
            .collect::<Vec<_>>()
    });
    verdict("crossbeam ArrayQueue", k, n, &tallies)
}

#[cfg(test)]
mod tests {
    use super::{verdict, MultiCheck};
    use crate::record::Record;

    /// Two producers of `n` records, consumed by one consumer, minus whatever `skip` says.
    fn tally(n: u64, skip: impl Fn(u64, u64) -> bool) -> MultiCheck {
        let mut c = MultiCheck::default();
        for id in 0..2u64 {
            for i in (0..n).filter(|&i| !skip(id, i)) {
                c.see(Record::new(id << 40 | i));
            }
        }
        c
    }

    #[test]
    fn a_complete_run_passes() {
        assert!(verdict("t", 2, 100, &[tally(100, |_, _| false)]).is_ok());
    }

    #[test]
    fn a_planted_lost_record_is_caught() {
        let e = verdict("t", 2, 100, &[tally(100, |id, i| id == 1 && i == 37)]).unwrap_err();
        assert!(e.contains("received 199 of 200"), "{e}");
    }

    #[test]
    fn a_duplicate_a_reordering_and_a_torn_record_are_caught() {
        let mut dup = tally(100, |_, _| false);
        dup.see(Record::new(5));
        assert!(verdict("t", 2, 100, &[dup]).is_err());
        let mut reordered = MultiCheck::default();
        for i in [0u64, 2, 1] {
            reordered.see(Record::new(i));
        }
        assert!(verdict("t", 1, 3, &[reordered]).is_err());
        let mut torn = MultiCheck::default();
        torn.see(Record::new(0));
        torn.see(Record { seq: 1, check: 0 });
        assert!(verdict("t", 1, 2, &[torn]).is_err());
    }
}
