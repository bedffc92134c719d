//! Operation histories with a logical clock, for `synclab-lin`.
//!
//! Each operation takes a tick before it starts and one after it returns from one shared
//! `SeqCst` counter. Under shuttle (one thread at a time) and on real threads alike, "A returned
//! before B was invoked" in the ticks implies it in the execution, so checking the history for
//! linearizability against these ticks is sound. The counter is a std atomic, not a shuttle
//! one: it adds no scheduling point of its own.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;
use synclab_lin::{check, CheckOptions, History, Model, Op, OpKind, Verdict};

/// A history being recorded by several threads.
pub struct Recorder {
    clock: AtomicI64,
    ops: Mutex<Vec<Op>>,
    model: Model,
}

impl Recorder {
    /// An empty history of `model`.
    pub fn new(model: Model) -> Recorder {
        Recorder {
            clock: AtomicI64::new(0),
            ops: Mutex::new(Vec::new()),
            model,
        }
    }

    fn tick(&self) -> i64 {
        // SeqCst: the ticks of all threads form one order that agrees with real time.
        self.clock.fetch_add(1, Ordering::SeqCst)
    }

    /// Runs `op` as process `process` and records it: `what` maps its result to what it did
    /// and whether it took effect (`false`: refused without effect, e.g. a failed try-acquire).
    pub fn record<R>(
        &self,
        process: u64,
        op: impl FnOnce() -> R,
        what: impl FnOnce(&R) -> (OpKind, bool),
    ) -> R {
        self.record_if(process, op, |r| Some(what(r)))
    }

    /// As [`Recorder::record`], but `what` may return `None`: the call is then left out of the
    /// history (an answer the object does not promise to be linearizable, such as a `Vyukov`
    /// queue's `Empty` while a peer is between claiming and publishing).
    pub fn record_if<R>(
        &self,
        process: u64,
        op: impl FnOnce() -> R,
        what: impl FnOnce(&R) -> Option<(OpKind, bool)>,
    ) -> R {
        let invoke = self.tick();
        let r = op();
        let ret = self.tick();
        if let Some((kind, ok)) = what(&r) {
            let mut entry = Op::new(process, kind, invoke, ret);
            entry.ok = Some(ok);
            self.ops.lock().unwrap().push(entry);
        }
        r
    }

    /// Records an operation whose result is already known (invoked and returned now).
    pub fn push(&self, op: Op) {
        self.ops.lock().unwrap().push(op);
    }

    /// How many pairs of operations of different processes overlap in time (neither returned
    /// before the other was invoked): how much concurrency a run actually had.
    pub fn overlapping_pairs(&self) -> usize {
        let ops = self.ops.lock().unwrap();
        let mut n = 0;
        for (i, a) in ops.iter().enumerate() {
            for b in &ops[i + 1..] {
                if a.process != b.process && !a.precedes(b) && !b.precedes(a) {
                    n += 1;
                }
            }
        }
        n
    }

    /// The history recorded so far.
    pub fn history(&self) -> History {
        let mut h = History::new(self.model.clone());
        h.ops = self.ops.lock().unwrap().clone();
        h
    }

    /// Checks the history for linearizability; `Err` with the checker's explanation if not.
    pub fn check(&self) -> Result<usize, String> {
        let h = self.history();
        h.validate().map_err(|e| format!("invalid history: {e}"))?;
        let report = check(&h, &CheckOptions::default());
        match report.verdict {
            Verdict::Linearizable => Ok(h.ops.len()),
            other => Err(format!(
                "history of {} operations is {other:?}: witness {:?}",
                h.ops.len(),
                report
                    .witness
                    .iter()
                    .map(|&i| &h.ops[i])
                    .collect::<Vec<_>>()
            )),
        }
    }
}
