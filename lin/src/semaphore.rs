//! The counting semaphore model (`model: "semaphore"`). The state is the number of available
//! permits, starting at `permits`; it never exceeds `permits` (no more releases than holders).
//!
//! - `acquire n` ok:true: at least `n` available, take them; ok:false: fewer than `n` available
//!   (a try/timed acquire gave up).
//! - `release n` ok:true: `available + n <= permits`, give them back; ok:false: refused because
//!   it would overflow (`available + n > permits`).
//! - outcome unknown: if it took effect, it succeeded.

use super::history::{Op, OpKind};
use super::model::SequentialModel;

/// A counting semaphore with `permits` permits.
#[derive(Clone, Debug)]
pub struct SemaphoreModel {
    /// Initial and maximum number of available permits.
    pub permits: u64,
}

impl SequentialModel for SemaphoreModel {
    /// Available permits.
    type State = u64;

    fn init(&self) -> u64 {
        self.permits
    }

    fn describe_state(&self, avail: &u64) -> String {
        format!("{avail} of {} permits available", self.permits)
    }

    fn step(&self, &avail: &u64, op: &Op) -> Option<u64> {
        match (&op.kind, op.ok) {
            (&OpKind::Acquire { n }, Some(true) | None) => avail.checked_sub(n),
            (&OpKind::Acquire { n }, Some(false)) => (avail < n).then_some(avail),
            (&OpKind::Release { n }, Some(true) | None) => {
                avail.checked_add(n).filter(|&a| a <= self.permits)
            }
            (&OpKind::Release { n }, Some(false)) => avail
                .checked_add(n)
                .is_none_or(|a| a > self.permits)
                .then_some(avail),
            _ => None,
        }
    }

    /// Per process, the operations from a moment it held nothing to the next such moment go
    /// together (an acquire with the releases that give its permits back); refused operations
    /// are units of their own.
    fn deletion_units(&self, ops: &[Op], subset: &[usize]) -> Vec<Vec<usize>> {
        let mut order = subset.to_vec();
        order.sort_by_key(|&i| (ops[i].process, ops[i].invoke_ns, i));
        let mut units = Vec::new();
        let mut session: Vec<usize> = Vec::new();
        let mut balance: i128 = 0;
        let mut process = None;
        for i in order {
            let op = &ops[i];
            if process != Some(op.process) {
                if !session.is_empty() {
                    units.push(std::mem::take(&mut session));
                }
                balance = 0;
                process = Some(op.process);
            }
            if op.ok == Some(false) {
                units.push(vec![i]);
                continue;
            }
            session.push(i);
            balance += match op.kind {
                OpKind::Acquire { n } => i128::from(n),
                OpKind::Release { n } => -i128::from(n),
                _ => 0,
            };
            if balance <= 0 {
                units.push(std::mem::take(&mut session));
                balance = 0;
            }
        }
        if !session.is_empty() {
            units.push(session);
        }
        units
    }
}
