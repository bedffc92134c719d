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
use std::collections::VecDeque;

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

    /// An enqueue of `v` and the dequeues that returned `v` go together.
    fn deletion_units(&self, ops: &[Op], subset: &[usize]) -> Vec<Vec<usize>> {
        units_by_value(ops, subset, |op| match (&op.kind, op.ok) {
            (OpKind::Enqueue { value }, _) => vec![(None, *value)],
            (OpKind::Dequeue { value: Some(v) }, Some(true)) => vec![(None, *v)],
            _ => vec![],
        })
    }
}
