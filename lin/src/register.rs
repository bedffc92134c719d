//! The key-value register model (`model: "register"`): independent registers, one per key, each
//! starting as `null`. Histories are split per key (P-compositionality) and each key is checked
//! alone, so a state is one register's value.
//!
//! - `read` ok:true: returns the current value; ok:false: failed without effect.
//! - `write v` ok:true: sets `v`; ok:false: failed without effect.
//! - `cas expected -> v` ok:true: the register held `expected`, now `v`; ok:false: it did not
//!   hold `expected`.
//! - outcome unknown: a write or cas that took effect succeeded; a read has no effect.

use super::history::{Op, OpKind, Value};
use super::model::{key_label, partition_by_key, units_by_value, SequentialModel};

/// A map of independent registers.
#[derive(Clone, Debug, Default)]
pub struct RegisterModel;

impl SequentialModel for RegisterModel {
    /// The value of the one register (key) being checked.
    type State = Option<Value>;

    fn init(&self) -> Option<Value> {
        None
    }

    fn describe_state(&self, s: &Option<Value>) -> String {
        s.map_or_else(|| "null".to_string(), |v| v.to_string())
    }

    fn step(&self, s: &Option<Value>, op: &Op) -> Option<Option<Value>> {
        match (&op.kind, op.ok) {
            (OpKind::Read { value, .. }, Some(true)) => (value == s).then_some(*s),
            (OpKind::Read { .. }, _) => Some(*s),
            (OpKind::Write { value, .. }, Some(true) | None) => Some(Some(*value)),
            (OpKind::Write { .. }, Some(false)) => Some(*s),
            (
                OpKind::Cas {
                    expected, value, ..
                },
                Some(true) | None,
            ) => (expected == s).then_some(Some(*value)),
            (OpKind::Cas { expected, .. }, Some(false)) => (expected != s).then_some(*s),
            _ => None,
        }
    }

    /// Invocation order, except that operations that never returned come last: they may stay
    /// unlinearized for good, so the search places them only when nothing else fits.
    fn hints(&self, ops: &[&Op]) -> Vec<i64> {
        ops.iter()
            .map(|op| op.return_ns.map_or(i64::MAX, |_| op.invoke_ns))
            .collect()
    }

    /// One part per key, in order of first appearance.
    fn partition(&self, ops: &[Op]) -> Vec<Vec<usize>> {
        partition_by_key(ops)
    }

    fn partition_label(&self, ops: &[Op], part: &[usize]) -> String {
        key_label(ops, part)
    }

    /// Operations mentioning the same value (written, read, expected) go together.
    fn deletion_units(&self, ops: &[Op], subset: &[usize]) -> Vec<Vec<usize>> {
        units_by_value(ops, subset, |op| {
            let k = op.kind.key();
            match &op.kind {
                OpKind::Write { value, .. } => vec![(k, *value)],
                OpKind::Read { value: Some(v), .. } if op.ok == Some(true) => vec![(k, *v)],
                OpKind::Cas {
                    expected, value, ..
                } => {
                    let mut v = vec![(k, *value)];
                    v.extend(expected.map(|e| (k, e)));
                    v
                }
                _ => vec![],
            }
        })
    }
}
