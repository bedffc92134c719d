//! The FIFO queue model (`model: "queue"`), bounded or unbounded.
//!
//! - `enqueue v` ok:true: room left, `v` goes to the tail; ok:false: a bounded queue was full
//!   (on an unbounded queue: failed without effect, allowed anywhere).
//! - `dequeue` ok:true: returns the head (`Some(v)`) or finds the queue empty (`None`); ok:false:
//!   failed without effect.
//! - outcome unknown: an enqueue that took effect added its value; a dequeue that took effect
//!   removed the head, if any.

use super::history::{Op, OpKind, Value};
use super::model::{units_by_value, SequentialModel};
use std::collections::{HashMap, VecDeque};

/// A FIFO queue with an optional capacity.
#[derive(Clone, Debug)]
pub struct QueueModel {
    /// Maximum length, or `None` for unbounded.
    pub capacity: Option<u64>,
}

impl SequentialModel for QueueModel {
    type State = VecDeque<Value>;

    fn init(&self) -> Self::State {
        VecDeque::new()
    }

    fn state_bytes(&self, s: &Self::State) -> usize {
        std::mem::size_of::<Self::State>() + s.capacity() * std::mem::size_of::<Value>()
    }

    fn step(&self, s: &Self::State, op: &Op) -> Option<Self::State> {
        let full = self.capacity.is_some_and(|c| s.len() as u64 >= c);
        match (&op.kind, op.ok) {
            (OpKind::Enqueue { value }, Some(true) | None) => {
                if full {
                    return None;
                }
                let mut n = s.clone();
                n.push_back(*value);
                Some(n)
            }
            (OpKind::Enqueue { .. }, Some(false)) => {
                (full || self.capacity.is_none()).then(|| s.clone())
            }
            (OpKind::Dequeue { value }, Some(true)) => match (value, s.front()) {
                (None, None) => Some(s.clone()),
                (Some(v), Some(h)) if v == h => {
                    let mut n = s.clone();
                    n.pop_front();
                    Some(n)
                }
                _ => None,
            },
            (OpKind::Dequeue { .. }, Some(false)) => Some(s.clone()),
            (OpKind::Dequeue { .. }, None) => {
                let mut n = s.clone();
                n.pop_front();
                Some(n)
            }
            _ => None,
        }
    }

    /// Enqueues in the order their values were dequeued (FIFO: the dequeue order reveals the
    /// enqueue order), each as late as possible (just before its dequeue); an enqueue whose value
    /// no dequeue reported (never dequeued, or taken by a dequeue of unknown outcome) right behind
    /// the values enqueued before it; other operations at their midpoint. Without this,
    /// overlapping enqueues are tried in invocation order and a wrong guess shows only when the
    /// value reaches the head, after an exponential detour.
    fn hints(&self, ops: &[&Op]) -> Vec<i64> {
        let mid = |op: &Op| match op.return_ns {
            Some(r) => op.invoke_ns / 2 + r / 2,
            None => op.invoke_ns,
        };
        let mut dequeued: HashMap<Value, i64> = HashMap::new();
        for op in ops {
            // A value recorded by a dequeue of unknown outcome is ignored by the check, but it is
            // still the best guess of what that dequeue took.
            if let (OpKind::Dequeue { value: Some(v) }, Some(true) | None) = (&op.kind, op.ok) {
                dequeued.entry(*v).or_insert_with(|| mid(op));
            }
        }
        let mut keys: Vec<i64> = ops
            .iter()
            .map(|op| match &op.kind {
                OpKind::Enqueue { value } => match dequeued.get(value) {
                    Some(&m) => m.saturating_mul(2),
                    None => mid(op).saturating_mul(2),
                },
                _ => mid(op).saturating_mul(2).saturating_add(1),
            })
            .collect();
        // (invoke, running maximum key) of enqueues whose dequeue is known, by invocation
        let mut known: Vec<(i64, i64)> = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            if let OpKind::Enqueue { value } = op.kind {
                if dequeued.contains_key(&value) {
                    let best = known.last().map_or(keys[i], |&(_, k)| k.max(keys[i]));
                    known.push((op.invoke_ns, best));
                }
            }
        }
        for (i, op) in ops.iter().enumerate() {
            if let OpKind::Enqueue { value } = op.kind {
                if !dequeued.contains_key(&value) {
                    let k = known.partition_point(|&(t, _)| t <= op.invoke_ns);
                    if k > 0 {
                        keys[i] = known[k - 1].1;
                    }
                }
            }
        }
        keys
    }

    /// An enqueue of `v` and the dequeues that returned `v` go together.
    fn deletion_units(&self, ops: &[Op], subset: &[usize]) -> Vec<Vec<usize>> {
        units_by_value(ops, subset, |op| match (&op.kind, op.ok) {
            (OpKind::Enqueue { value }, _) => vec![(None, *value)],
            (OpKind::Dequeue { value: Some(v) }, Some(true)) => vec![(None, *v)],
            _ => vec![],
        })
    }
}
