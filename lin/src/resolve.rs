//! Proving a queue history with unknown outcomes linearizable by choosing the outcomes.
//!
//! An operation that never returned (or whose outcome is unknown) may have taken effect at any
//! instant after its invocation, or never. If some *choice* of those outcomes gives a history of
//! completed operations that is linearizable, the original history is linearizable: that
//! linearization is one of the original's. So, for a queue with distinct values, this module
//! makes the natural choice — an unknown enqueue took effect exactly when its value was
//! dequeued by someone; an unknown dequeue took one of the values that were enqueued and that
//! no dequeue reported (oldest enqueues first, earliest unknown dequeues first), or had no
//! effect — and lets the O(n log n) checker judge the result. A "yes" is final; a "no" proves
//! nothing (another choice might work), and the caller falls back to the general search.
//!
//! This is what lets a run in which consumer processes were SIGKILLed mid-dequeue be checked in
//! seconds at a million operations.

use super::history::{Op, OpKind};
use std::collections::{HashMap, HashSet};

/// The completed history the natural choice gives, or `None` when nothing is unknown or values
/// are not distinct (then this strategy does not apply).
pub fn resolve_queue_unknowns(ops: &[Op]) -> Option<Vec<Op>> {
    if ops.iter().all(|o| o.ok.is_some() && o.return_ns.is_some()) {
        return None;
    }
    let end = ops
        .iter()
        .map(|o| o.return_ns.unwrap_or(o.invoke_ns).max(o.invoke_ns))
        .max()
        .unwrap_or(0)
        .saturating_add(1);
    let mut enqueued: HashMap<i64, usize> = HashMap::new();
    let mut dequeued: HashSet<i64> = HashSet::new();
    for (i, o) in ops.iter().enumerate() {
        match (&o.kind, o.ok) {
            // Not distinct: this strategy does not apply.
            (OpKind::Enqueue { value }, _) if enqueued.insert(*value, i).is_some() => return None,
            // Dequeued twice: let the checkers report it as it is.
            (OpKind::Dequeue { value: Some(v) }, Some(true)) if !dequeued.insert(*v) => {
                return None
            }
            _ => {}
        }
    }
    // Values enqueued (certainly, or possibly) that no completed dequeue reported, oldest first.
    let mut unreported: Vec<(i64, usize)> = enqueued
        .iter()
        .filter(|(v, &i)| !dequeued.contains(v) && ops[i].ok != Some(false))
        .map(|(v, &i)| (*v, i))
        .collect();
    unreported.sort_by_key(|&(_, i)| (ops[i].invoke_ns, i));
    let mut unknown_deqs: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, o)| matches!(o.kind, OpKind::Dequeue { .. }) && o.ok.is_none())
        .map(|(i, _)| i)
        .collect();
    unknown_deqs.sort_by_key(|&i| (ops[i].invoke_ns, i));
    let mut taken: HashMap<usize, i64> = HashMap::new();
    let mut next = unreported.iter().filter(|(_, i)| ops[*i].ok == Some(true));
    for &d in &unknown_deqs {
        match next.next() {
            Some(&(v, _)) => {
                taken.insert(d, v);
            }
            None => break,
        }
    }
    let taken_values: HashSet<i64> = taken.values().copied().collect();
    let mut out = Vec::with_capacity(ops.len());
    for (i, o) in ops.iter().enumerate() {
        let mut o = o.clone();
        match (&o.kind, o.ok) {
            (OpKind::Enqueue { value }, None) => {
                if !dequeued.contains(value) && !taken_values.contains(value) {
                    continue; // never took effect
                }
                o.ok = Some(true);
            }
            (OpKind::Dequeue { .. }, None) => match taken.get(&i) {
                Some(&v) => {
                    o.kind = OpKind::Dequeue { value: Some(v) };
                    o.ok = Some(true);
                }
                None => continue, // no effect
            },
            _ => {}
        }
        if o.return_ns.is_none() {
            o.return_ns = Some(end);
        }
        out.push(o);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{check, CheckOptions, History, Model, Verdict};

    fn op(p: u64, kind: OpKind, inv: i64, ret: Option<i64>) -> Op {
        Op {
            process: p,
            kind,
            ok: ret.map(|_| true),
            invoke_ns: inv,
            return_ns: ret,
            line: 0,
        }
    }

    fn history(ops: Vec<Op>) -> History {
        let mut h = History::new(Model::Queue { capacity: None });
        h.ops = ops;
        h
    }

    /// A consumer killed mid-dequeue took value 2 with it; the survivor then found the queue
    /// empty. Only the resolution "the unknown dequeue took 2" makes this linearizable.
    #[test]
    fn killed_dequeue_that_took_a_value_is_resolved() {
        let h = history(vec![
            op(0, OpKind::Enqueue { value: 1 }, 0, Some(10)),
            op(0, OpKind::Enqueue { value: 2 }, 20, Some(30)),
            op(1, OpKind::Dequeue { value: Some(1) }, 40, Some(50)),
            op(2, OpKind::Dequeue { value: None }, 45, None),
            op(1, OpKind::Dequeue { value: None }, 100, Some(110)),
        ]);
        let resolved = resolve_queue_unknowns(&h.ops).expect("has unknowns");
        assert!(resolved
            .iter()
            .any(|o| o.process == 2 && o.kind == OpKind::Dequeue { value: Some(2) }));
        let r = check(&h, &CheckOptions::default());
        assert_eq!(r.verdict, Verdict::Linearizable);
        assert_eq!(r.checker, "fast-queue (unknown outcomes resolved)");
    }

    /// Value 2 vanished and no unknown operation can explain it: not linearizable, found by the
    /// fallback (the resolution fails, which alone proves nothing).
    #[test]
    fn a_loss_no_unknown_op_explains_is_still_a_violation() {
        let h = history(vec![
            op(0, OpKind::Enqueue { value: 1 }, 0, Some(10)),
            op(0, OpKind::Enqueue { value: 2 }, 20, Some(30)),
            op(1, OpKind::Dequeue { value: Some(1) }, 40, Some(50)),
            op(2, OpKind::Dequeue { value: None }, 5, None),
            op(1, OpKind::Dequeue { value: None }, 100, Some(110)),
        ]);
        // The unknown dequeue was invoked at 5, before 2 was enqueued... but it never returned,
        // so it may still have taken 2 later: linearizable after all.
        assert_eq!(
            check(&h, &CheckOptions::default()).verdict,
            Verdict::Linearizable
        );
        let h = history(vec![
            op(0, OpKind::Enqueue { value: 1 }, 0, Some(10)),
            op(0, OpKind::Enqueue { value: 2 }, 20, Some(30)),
            op(1, OpKind::Dequeue { value: Some(1) }, 40, Some(50)),
            op(1, OpKind::Dequeue { value: None }, 100, Some(110)),
        ]);
        assert_eq!(resolve_queue_unknowns(&h.ops), None);
        assert_eq!(
            check(&h, &CheckOptions::default()).verdict,
            Verdict::NotLinearizable
        );
    }
}
