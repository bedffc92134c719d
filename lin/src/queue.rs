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

    /// `[1, 2, 3]`, head first.
    fn describe_state(&self, s: &Self::State) -> String {
        let items: Vec<String> = s.iter().map(|v| v.to_string()).collect();
        format!("[{}]", items.join(", "))
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
        // An enqueue whose value no dequeue reported: FIFO puts its dequeue after those of the
        // values enqueued before it and before those of the values enqueued after it. If a
        // dequeue of unknown outcome lies in that window, guess it took the value; otherwise put
        // the enqueue behind the values invoked before it.
        let mut by_ret: Vec<(i64, i64)> = Vec::new(); // (enqueue return, its dequeue's midpoint)
        let mut by_inv: Vec<(i64, i64)> = Vec::new(); // (enqueue invoke, its dequeue's midpoint)
        for op in ops {
            if let OpKind::Enqueue { value } = op.kind {
                if let Some(&m) = dequeued.get(&value) {
                    by_ret.push((op.return_ns.unwrap_or(i64::MAX), m));
                    by_inv.push((op.invoke_ns, m));
                }
            }
        }
        by_ret.sort_unstable();
        by_inv.sort_unstable();
        let mut prefix_max = by_ret.clone();
        for k in 1..prefix_max.len() {
            prefix_max[k].1 = prefix_max[k].1.max(prefix_max[k - 1].1);
        }
        let mut suffix_min = by_inv.clone();
        for k in (0..suffix_min.len().saturating_sub(1)).rev() {
            suffix_min[k].1 = suffix_min[k].1.min(suffix_min[k + 1].1);
        }
        let mut unknown_deqs: Vec<(i64, bool)> = ops
            .iter()
            .filter(|op| op.ok.is_none() && matches!(op.kind, OpKind::Dequeue { value: None }))
            .map(|op| (mid(op), false))
            .collect();
        unknown_deqs.sort_unstable();
        for (i, op) in ops.iter().enumerate() {
            let OpKind::Enqueue { value } = op.kind else {
                continue;
            };
            if dequeued.contains_key(&value) {
                continue;
            }
            let k = prefix_max.partition_point(|&(r, _)| r < op.invoke_ns);
            let lo = if k > 0 { prefix_max[k - 1].1 } else { i64::MIN };
            let ret = op.return_ns.unwrap_or(i64::MAX);
            let k = suffix_min.partition_point(|&(inv, _)| inv <= ret);
            let hi = suffix_min.get(k).map_or(i64::MAX, |&(_, m)| m);
            let from = unknown_deqs.partition_point(|&(m, _)| m <= lo);
            let taker = unknown_deqs[from..]
                .iter_mut()
                .take_while(|(m, _)| *m < hi)
                .find(|(_, used)| !used);
            keys[i] = match taker {
                Some((m, used)) => {
                    *used = true;
                    m.saturating_mul(2)
                }
                None => lo.max(mid(op)).saturating_mul(2),
            };
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
