//! The fast FIFO checker, O(n log n), for queue histories with distinct values.
//!
//! **When it decides** (answers [`FastResult::Linearizable`] or [`FastResult::Violation`]): every
//! operation returned with `ok: true`, except dequeues with `ok: false` (no effect, ignored); no
//! value is enqueued twice; and, for a bounded queue, the capacity cannot have been reached (for
//! every enqueue, the enqueues invoked before it returned minus the dequeues that returned before
//! it was invoked stay below the capacity), so the bound is irrelevant.
//!
//! **Outside that class** (refused enqueues, a full bounded queue, operations that never returned
//! or have unknown outcomes) it still reports the violations below that hold whatever the
//! capacity and the unknown operations did — counting only enqueues that completed as certainly
//! present, and "never dequeued" as certain only when no dequeue has an unknown outcome — and
//! otherwise answers [`FastResult::NotApplicable`] so the general checker decides. This catches
//! the common bugs (loss, duplication, reordering, values from nowhere) in histories where an
//! exhaustive search would take exponential time to refute.
//!
//! **What it checks.** Write `a <h b` when `a` returned before `b` was invoked. The history is
//! linearizable exactly when none of these holds:
//! 1. *repeat*: a value is dequeued twice;
//! 2. *fresh*: a value is dequeued that was never enqueued, or whose dequeue `<h` its enqueue;
//! 3. *order*: `enq(a) <h enq(b)`, `b` is dequeued, and `a` is not dequeued or `deq(b) <h deq(a)`
//!    (a was in front of b, so must leave first);
//! 4. *empty*: a dequeue `d` returned empty, yet at every instant of `[d.invoke, d.return]` some
//!    value `u` was certainly in the queue: `enq(u).return < t < deq(u).invoke` (or `u` is never
//!    dequeued).
//!
//! **Why these suffice.** Without empty dequeues, 1–3 characterize linearizable queue histories
//! with distinct values (Henzinger, Sezgin, Vafeiadis, "Aspect-oriented linearizability proofs",
//! CONCUR 2013: VRepet, VFresh, VOrd). An empty dequeue at instant `p` needs every value enqueued
//! before `p` to be dequeued before `p`; a value `u` forbids exactly the instants of
//! `(enq(u).return, deq(u).invoke)`. If 4 does not hold, pick for every empty dequeue an instant
//! that no value forbids; these instants cut the history into segments, each value's operations fit
//! in one segment, restricting operations to a segment creates no new `<h` pairs, and each segment
//! has no empty dequeues and inherits freedom from 1–3, so each is linearizable and their
//! concatenation is a linearization. Each of 1–4 exhibits operations that no linearization can
//! order, so a violation is real. The property tests `prop_lin_fast_queue_*` cross-check this
//! against the general checker on random histories.

use super::history::{Op, OpKind, Value};

/// The answer of a fast checker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FastResult {
    /// The history is outside the checker's class; the reason, for the report.
    NotApplicable(String),
    /// Linearizable.
    Linearizable,
    /// Not linearizable: what is wrong, and a few operations (indices into the ops) showing it.
    Violation {
        /// The violation in words.
        what: String,
        /// A small non-linearizable candidate witness.
        ops: Vec<usize>,
    },
}

/// "No operation" in the compact `u32` operation indices below.
const NONE: u32 = u32::MAX;

/// One value's operations: its enqueue and its first two dequeues (a third adds nothing: two
/// already make a repeat). Indices into the ops as `u32` (24 bytes per value, no allocation of its
/// own), so that ten million operations fit in a few hundred megabytes.
#[derive(Clone, Copy)]
struct Value1 {
    value: Value,
    enq: u32,
    d1: u32,
    d2: u32,
}

fn some(i: u32) -> Option<usize> {
    (i != NONE).then_some(i as usize)
}

/// What the first pass over the operations found.
struct Scan {
    /// The values, sorted by their first dequeue (or their enqueue when never dequeued).
    values: Vec<Value1>,
    /// The dequeues that completed and found the queue empty.
    empties: Vec<u32>,
    /// Why the history is outside the decided class (violations are still reported).
    outside: Option<&'static str>,
    /// Whether a dequeue has an unknown outcome.
    unknown_dequeue: bool,
}

/// Groups the operations by value: sorts (value, index) pairs rather than filling a hash map of
/// vectors (which cost five times the memory and most of the time on 10M operations).
fn scan(ops: &[Op]) -> Result<Scan, FastResult> {
    let na = |s: &str| Err(FastResult::NotApplicable(s.to_string()));
    if ops.len() >= (NONE >> 1) as usize {
        return na("more than 2 billion operations");
    }
    // (value, index << 1 | is-dequeue): the kind travels with the index, so grouping does not
    // reach back into the operations
    let mut occ: Vec<(Value, u32)> = Vec::new();
    let mut empties = Vec::new();
    let mut outside: Option<&'static str> = None;
    let mut unknown_dequeue = false;
    for (i, op) in ops.iter().enumerate() {
        let i = i as u32; // fits, with a bit to spare: checked above
        match (&op.kind, op.ok) {
            (OpKind::Dequeue { .. }, Some(false)) => {}
            (OpKind::Enqueue { .. }, Some(false)) => {
                outside.get_or_insert("an enqueue was refused (full)");
            }
            (OpKind::Enqueue { value }, ok) => {
                if ok.is_none() {
                    outside.get_or_insert("an operation never returned or has an unknown outcome");
                }
                occ.push((*value, i << 1));
            }
            (OpKind::Dequeue { .. }, None) => {
                outside.get_or_insert("an operation never returned or has an unknown outcome");
                unknown_dequeue = true;
            }
            (OpKind::Dequeue { value: Some(x) }, Some(true)) => occ.push((*x, i << 1 | 1)),
            (OpKind::Dequeue { value: None }, Some(true)) => empties.push(i),
            _ => return na("an operation of another model"),
        }
    }
    occ.sort_unstable();
    let mut values: Vec<Value1> = Vec::new();
    for group in occ.chunk_by(|a, b| a.0 == b.0) {
        let mut v = Value1 {
            value: group[0].0,
            enq: NONE,
            d1: NONE,
            d2: NONE,
        };
        // within a group the indices are increasing: the dequeues come in file order
        for &(_, tagged) in group {
            let i = tagged >> 1;
            if tagged & 1 == 0 {
                if v.enq != NONE {
                    return na("a value is enqueued twice");
                }
                v.enq = i;
            } else if v.d1 == NONE {
                v.d1 = i;
            } else if v.d2 == NONE {
                v.d2 = i;
            }
        }
        values.push(v);
    }
    drop(occ);
    // Deterministic reporting order: by the first dequeue's index (indices are distinct).
    values.sort_unstable_by_key(|v| if v.d1 != NONE { v.d1 } else { v.enq });
    Ok(Scan {
        values,
        empties,
        outside,
        unknown_dequeue,
    })
}

/// Checks a queue history (see the module docs for the class it decides, and for the violations
/// it reports in any history with distinct values).
pub fn check_queue(ops: &[Op], capacity: Option<u64>) -> FastResult {
    let Scan {
        values,
        mut empties,
        outside,
        unknown_dequeue,
    } = match scan(ops) {
        Ok(s) => s,
        Err(na) => return na,
    };
    let inv = |i: usize| ops[i].invoke_ns;
    let ret = |i: usize| ops[i].return_ns.unwrap_or(i64::MAX);
    // An enqueue certainly took effect by its return only if it completed as recorded.
    let certain = |e: usize| ops[e].ok == Some(true);
    // When a value is never dequeued, it certainly stays in the queue only if no dequeue of
    // unknown outcome could have taken it.
    let never = if unknown_dequeue { i64::MIN } else { i64::MAX };
    // 1 and 2: repeat and fresh, in the order of the first dequeues.
    for v in &values {
        let x = v.value;
        if let (Some(d1), Some(d2)) = (some(v.d1), some(v.d2)) {
            let mut w: Vec<usize> = some(v.enq).into_iter().collect();
            w.extend([d1, d2]);
            return FastResult::Violation {
                what: format!("value {x} was dequeued twice"),
                ops: w,
            };
        }
        if let Some(d) = some(v.d1) {
            match some(v.enq) {
                None => {
                    return FastResult::Violation {
                        what: format!("value {x} was dequeued but never enqueued"),
                        ops: vec![d],
                    }
                }
                Some(e) if ret(d) < inv(e) => {
                    return FastResult::Violation {
                        what: format!("value {x} was dequeued before its enqueue began"),
                        ops: vec![e, d],
                    }
                }
                _ => {}
            }
        }
    }
    // the operations showing a value's presence: its enqueue and its dequeue
    let ops_of = |r: u32| {
        let v = &values[r as usize];
        some(v.enq).into_iter().chain(some(v.d1))
    };
    // 3: order. Values sorted by enqueue return; prefix maximum of "the instant by which the
    // value's dequeue may begin" (never dequeued = infinity). Entries: (enqueue return, dequeue
    // invoke, value, record).
    let mut enqs: Vec<(i64, i64, Value, u32)> = values
        .iter()
        .enumerate()
        .filter_map(|(r, v)| {
            some(v.enq).filter(|&e| certain(e)).map(|e| {
                let di = some(v.d1).map_or(never, inv);
                (ret(e), di, v.value, r as u32)
            })
        })
        .collect();
    enqs.sort_unstable();
    let mut prefix_max: Vec<(i64, u32)> = Vec::with_capacity(enqs.len());
    for &(_, deq_inv, _, r) in &enqs {
        let best = match prefix_max.last() {
            Some(&(m, y)) if m >= deq_inv => (m, y),
            _ => (deq_inv, r),
        };
        prefix_max.push(best);
    }
    // (dequeue invoke, enqueue invoke, record) of the values both enqueued and dequeued
    let mut dequeued: Vec<(i64, i64, u32)> = values
        .iter()
        .enumerate()
        .filter_map(|(r, v)| Some((inv(some(v.d1)?), inv(some(v.enq)?), r as u32)))
        .collect();
    dequeued.sort_unstable();
    for &(_, e_inv, rb) in &dequeued {
        let vb = &values[rb as usize];
        // values whose enqueue returned before enq(b) was invoked
        let k = enqs.partition_point(|&(r, ..)| r < e_inv);
        if k == 0 {
            continue;
        }
        let (m, ra) = prefix_max[k - 1];
        if m > ret(vb.d1 as usize) {
            let (a, b) = (values[ra as usize].value, vb.value);
            let mut w: Vec<usize> = ops_of(ra).collect();
            w.extend(ops_of(rb));
            let what = if values[ra as usize].d1 == NONE {
                format!("{a} was enqueued before {b}, {b} was dequeued, {a} never was")
            } else {
                format!("{a} was enqueued before {b} but dequeued after it")
            };
            return FastResult::Violation { what, ops: w };
        }
    }
    drop(dequeued);
    drop(prefix_max);
    // 4: empty. Open intervals where a value is certainly present, merged.
    if !empties.is_empty() {
        // already sorted: `enqs` is
        let present: Vec<(i64, i64, u32)> = enqs
            .iter()
            .filter(|&&(r, di, ..)| r < di)
            .map(|&(r, di, _, rec)| (r, di, rec))
            .collect();
        let mut merged: Vec<(i64, i64)> = Vec::new();
        for &(a, b, _) in &present {
            match merged.last_mut() {
                Some(last) if a < last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        empties.sort_unstable_by_key(|&d| (inv(d as usize), d));
        for &d in &empties {
            let d = d as usize;
            let k = merged.partition_point(|&(a, _)| a < inv(d));
            if k > 0 && merged[k - 1].1 > ret(d) {
                let mut w = vec![d];
                for r in cover(&present, inv(d), ret(d)) {
                    w.extend(ops_of(r));
                }
                return FastResult::Violation {
                    what: "a dequeue found the queue empty while it certainly held a value"
                        .to_string(),
                    ops: w,
                };
            }
        }
    }
    if let Some(why) = outside {
        return FastResult::NotApplicable(why.to_string());
    }
    if let Some(cap) = capacity {
        if !capacity_irrelevant(ops, cap) {
            return FastResult::NotApplicable("the bounded queue may have been full".to_string());
        }
    }
    FastResult::Linearizable
}

/// A few values whose presence intervals (sorted by start) together cover `[lo, hi]`.
fn cover(present: &[(i64, i64, u32)], lo: i64, hi: i64) -> Vec<u32> {
    let mut out = Vec::new();
    let mut at = lo;
    loop {
        let best = present
            .iter()
            .filter(|&&(a, b, _)| a < at && b > at)
            .max_by_key(|&&(_, b, _)| b);
        let Some(&(_, b, x)) = best else {
            return out;
        };
        out.push(x);
        if b > hi {
            return out;
        }
        at = b;
    }
}

/// Whether no successful enqueue can have found a queue of `cap` elements.
fn capacity_irrelevant(ops: &[Op], cap: u64) -> bool {
    let mut enq_inv: Vec<i64> = Vec::new();
    let mut deq_ret: Vec<i64> = Vec::new();
    for op in ops {
        match (&op.kind, op.ok) {
            (OpKind::Enqueue { .. }, Some(true)) => enq_inv.push(op.invoke_ns),
            (OpKind::Dequeue { value: Some(_) }, Some(true)) => {
                deq_ret.push(op.return_ns.unwrap_or(i64::MAX))
            }
            _ => {}
        }
    }
    enq_inv.sort_unstable();
    deq_ret.sort_unstable();
    ops.iter().all(|op| {
        if !matches!(op.kind, OpKind::Enqueue { .. }) {
            return true;
        }
        let r = op.return_ns.unwrap_or(i64::MAX);
        // other enqueues that may come first, minus dequeues that certainly came first
        let before = enq_inv.partition_point(|&t| t <= r) as i64 - 1;
        let gone = deq_ret.partition_point(|&t| t < op.invoke_ns) as i64;
        before - gone < cap as i64
    })
}
