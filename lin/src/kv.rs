//! The key-value model (`model: "kv"`, an optional addition to HISTORY.md): independent string
//! keys, each starting as `""` — porcupine's key-value model. Histories are split per key
//! (P-compositionality), so a state is one key's string.
//!
//! - `get` ok:true: returns the current string; otherwise no effect.
//! - `put v` ok:true or unknown: sets `v`; ok:false: failed without effect.
//! - `append v` ok:true or unknown: appends `v`; ok:false: failed without effect.
//!
//! Witnesses are minimized one operation at a time: such a witness admits no linearization on
//! its own, but (unlike the other models' value groups) dropping a `put` or `append` can make a
//! linearizable history non-linearizable, so it is a pointer to the problem, not a proof about
//! the whole history.

use super::history::{Op, OpKind};
use super::model::{key_label, partition_by_key, SequentialModel};

/// A map of independent string keys.
#[derive(Clone, Debug, Default)]
pub struct KvModel;

impl SequentialModel for KvModel {
    /// The string of the one key being checked.
    type State = String;

    fn init(&self) -> String {
        String::new()
    }

    fn state_bytes(&self, s: &String) -> usize {
        std::mem::size_of::<String>() + s.capacity()
    }

    fn describe_state(&self, s: &String) -> String {
        format!("{s:?}")
    }

    fn step(&self, s: &String, op: &Op) -> Option<String> {
        match (&op.kind, op.ok) {
            (OpKind::Get { value, .. }, Some(true)) => {
                (value.as_deref().unwrap_or("") == s).then(|| s.clone())
            }
            (OpKind::Get { .. }, _) => Some(s.clone()),
            (OpKind::Put { value, .. }, Some(true) | None) => Some(value.clone()),
            (OpKind::Append { value, .. }, Some(true) | None) => {
                let mut n = String::with_capacity(s.len() + value.len());
                n.push_str(s);
                n.push_str(value);
                Some(n)
            }
            (OpKind::Put { .. } | OpKind::Append { .. }, Some(false)) => Some(s.clone()),
            _ => None,
        }
    }

    /// One part per key, in order of first appearance.
    fn partition(&self, ops: &[Op]) -> Vec<Vec<usize>> {
        partition_by_key(ops)
    }

    fn partition_label(&self, ops: &[Op], part: &[usize]) -> String {
        key_label(ops, part)
    }
}
