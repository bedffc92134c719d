//! The sequential specification the general checker searches against.

use super::history::Op;
use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::Hash;

/// A sequential object: an initial state and a transition per operation.
///
/// The general checker ([`crate::search`](mod@crate::search)) looks for an order of the operations, consistent
/// with real time, in which every step is allowed. It handles "outcome unknown" itself: for an
/// operation with `ok: None` it tries both "took no effect" (skipping `step`) and `step`, so
/// `step` on such an operation answers only "could it have taken effect here, with some result?".
pub trait SequentialModel {
    /// A state of the object. Cloned on each step and hashed for memoization: keep it small.
    /// (`Send + 'static` so that a search that gives up can free its memo table in the background.)
    type State: Clone + Hash + Eq + Debug + Send + 'static;

    /// Approximate bytes a state occupies (inline and on the heap), to bound the memo table.
    fn state_bytes(&self, state: &Self::State) -> usize {
        let _ = state;
        std::mem::size_of::<Self::State>()
    }

    /// The initial state.
    fn init(&self) -> Self::State;

    /// A state in words, for people (the viewer's tooltips). The default is its `Debug` form.
    fn describe_state(&self, state: &Self::State) -> String {
        format!("{state:?}")
    }

    /// The state after `op` takes effect in `state` with its recorded outcome, or `None` if `op`
    /// cannot do so here (for example a dequeue of 5 when the head is 3).
    fn step(&self, state: &Self::State, op: &Op) -> Option<Self::State>;

    /// A priority per operation of `ops` (one part's operations, sorted by invocation): among the
    /// operations that could take effect next, the search tries lower values first. Any order is
    /// correct; a good guess of the linearization order avoids deep wrong turns. The default is
    /// the invocation time (Wing & Gong's order).
    fn hints(&self, ops: &[&Op]) -> Vec<i64> {
        ops.iter().map(|op| op.invoke_ns).collect()
    }

    /// Splits `ops` into independent sub-histories that may be checked separately
    /// (P-compositionality: the whole is linearizable exactly when every part is). The default
    /// is one part. A model whose parts are independent objects (the keys of `register`) defines
    /// `State` as the state of one part: `step` only ever sees operations of one part.
    fn partition(&self, ops: &[Op]) -> Vec<Vec<usize>> {
        vec![(0..ops.len()).collect()]
    }

    /// A name for the part `part` (indices into `ops`) of [`partition`](Self::partition), for
    /// reports and the viewer: `key "x"` for a register. The default is `all operations`.
    fn partition_label(&self, ops: &[Op], part: &[usize]) -> String {
        let _ = (ops, part);
        "all operations".to_string()
    }

    /// Groups `subset` (indices into `ops`) into units that witness minimization deletes together,
    /// chosen so that deleting a unit from a linearizable history leaves it linearizable; then a
    /// minimized witness still proves the whole history wrong. The default is one unit per op.
    fn deletion_units(&self, ops: &[Op], subset: &[usize]) -> Vec<Vec<usize>> {
        let _ = ops;
        subset.iter().map(|&i| vec![i]).collect()
    }
}

/// Groups `subset` into units: operations mentioning the same value (as returned by `values`) end
/// up in the same unit (union–find); operations mentioning no value are units of their own.
pub(crate) fn units_by_value(
    ops: &[Op],
    subset: &[usize],
    values: impl Fn(&Op) -> Vec<(Option<&str>, i64)>,
) -> Vec<Vec<usize>> {
    use std::collections::HashMap;
    let mut parent: Vec<usize> = (0..subset.len()).collect();
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    let mut first: HashMap<(Option<&str>, i64), usize> = HashMap::new();
    for (slot, &i) in subset.iter().enumerate() {
        for v in values(&ops[i]) {
            match first.get(&v) {
                Some(&other) => {
                    let (a, b) = (find(&mut parent, slot), find(&mut parent, other));
                    parent[a] = b;
                }
                None => {
                    first.insert(v, slot);
                }
            }
        }
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut order = Vec::new();
    for (slot, &i) in subset.iter().enumerate() {
        let root = find(&mut parent, slot);
        groups
            .entry(root)
            .or_insert_with(|| {
                order.push(root);
                Vec::new()
            })
            .push(i);
    }
    order
        .into_iter()
        .map(|r| groups.remove(&r).unwrap_or_default())
        .collect()
}

/// One part per key (`Op::kind.key()`, no key = ""), in order of first appearance: the
/// P-compositional split of the keyed models (`register`, `kv`).
pub(crate) fn partition_by_key(ops: &[Op]) -> Vec<Vec<usize>> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut parts: Vec<Vec<usize>> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let key = op.kind.key().unwrap_or("");
        let p = *index.entry(key).or_insert_with(|| {
            parts.push(Vec::new());
            parts.len() - 1
        });
        parts[p].push(i);
    }
    parts
}

/// The label of a part made by [`partition_by_key`]: `key "NAME"`.
pub(crate) fn key_label(ops: &[Op], part: &[usize]) -> String {
    let key = part.first().and_then(|&i| ops[i].kind.key()).unwrap_or("");
    format!("key {}", serde_json::Value::String(key.to_string()))
}
