//! Witness minimization: shrink a non-linearizable set of operations by deletion (ddmin style:
//! large chunks first, then single units) while it stays non-linearizable. The units come from
//! [`SequentialModel::deletion_units`], so that, for the built-in models, the result is not only
//! non-linearizable on its own but also a proof about the whole history (deleting a unit from a
//! linearizable history keeps it linearizable).

use super::history::Op;
use super::model::SequentialModel;
use super::search::{search, SearchResult};
use std::time::Instant;

/// Minimizes `candidate` (indices into `ops`, known non-linearizable). Returns the smaller set,
/// sorted by invocation, and whether it is 1-minimal (no unit can be dropped); `false` when the
/// deadline cut the minimization short.
pub fn minimize<M: SequentialModel>(
    model: &M,
    ops: &[Op],
    candidate: &[usize],
    deadline: Option<Instant>,
) -> (Vec<usize>, bool) {
    let mut units = model.deletion_units(ops, candidate);
    let mut minimal = true;
    let mut chunk = (units.len() / 2).max(1);
    'outer: loop {
        let mut removed_any = false;
        let mut i = 0;
        while i < units.len() {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                minimal = false;
                break 'outer;
            }
            let end = (i + chunk).min(units.len());
            let trial: Vec<usize> = units[..i]
                .iter()
                .chain(&units[end..])
                .flatten()
                .copied()
                .collect();
            match search(model, ops, &trial, deadline) {
                SearchResult::NotLinearizable { .. } => {
                    units.drain(i..end);
                    removed_any = true;
                }
                SearchResult::Linearizable => i = end,
                SearchResult::GaveUp => {
                    minimal = false;
                    i = end;
                }
            }
        }
        if chunk == 1 && !removed_any {
            break;
        }
        chunk = (chunk / 2).max(1);
    }
    let mut out: Vec<usize> = units.into_iter().flatten().collect();
    out.sort_by_key(|&i| (ops[i].invoke_ns, ops[i].return_ns.unwrap_or(i64::MAX), i));
    (out, minimal)
}
