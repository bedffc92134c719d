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
///
/// Refused operations (`ok: false`: a full queue, a failed try-acquire or CAS) are constraints
/// that deleting other operations can break (with fewer holders, a refused acquire has no excuse),
/// which would give a witness that fails alone but says nothing about the history. So:
/// 1. if the candidate without its refused operations is still non-linearizable, that is
///    minimized (the usual case: loss, duplication, reordering, over-admission, stale reads);
/// 2. otherwise the violation needs a refusal: units that start before some remaining refused
///    operation returns are kept unless that refusal goes with them.
pub fn minimize<M: SequentialModel>(
    model: &M,
    ops: &[Op],
    candidate: &[usize],
    deadline: Option<Instant>,
) -> (Vec<usize>, bool) {
    let plain: Vec<usize> = candidate
        .iter()
        .copied()
        .filter(|&i| ops[i].ok != Some(false))
        .collect();
    if plain.len() < candidate.len()
        && matches!(
            search(model, ops, &plain, deadline),
            SearchResult::NotLinearizable { .. }
        )
    {
        return ddmin(model, ops, &plain, deadline, false);
    }
    ddmin(model, ops, candidate, deadline, true)
}

fn ddmin<M: SequentialModel>(
    model: &M,
    ops: &[Op],
    candidate: &[usize],
    deadline: Option<Instant>,
    guard_refusals: bool,
) -> (Vec<usize>, bool) {
    let mut units = model.deletion_units(ops, candidate);
    let refused = |u: &[usize]| u.iter().all(|&i| ops[i].ok == Some(false));
    let start = |u: &[usize]| {
        u.iter()
            .map(|&i| ops[i].invoke_ns)
            .min()
            .unwrap_or(i64::MAX)
    };
    // May units[i..end] go, given the refused operations that stay?
    let allowed = |units: &[Vec<usize>], i: usize, end: usize| {
        if !guard_refusals {
            return true;
        }
        let last_refusal_return = units[..i]
            .iter()
            .chain(&units[end..])
            .flatten()
            .filter(|&&k| ops[k].ok == Some(false))
            .map(|&k| ops[k].return_ns.unwrap_or(i64::MAX))
            .max();
        match last_refusal_return {
            None => true,
            Some(r) => units[i..end].iter().all(|u| refused(u) || start(u) > r),
        }
    };
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
            if !allowed(&units, i, end) {
                i = end;
                continue;
            }
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
