//! The fast semaphore checker, O(n log n).
//!
//! **When it applies** (otherwise the general checker runs): every operation returned with
//! `ok: true`; the operations of each process are strictly ordered (`return < next invoke`); and
//! each process releases only permits it holds (its own running balance of acquired minus
//! released permits never goes below zero).
//!
//! **What it checks.** Let `held(t)` = permits of acquires that returned at or before `t` minus
//! permits of releases invoked at or before `t`. The history is linearizable exactly when
//! `held(t) <= permits` at every `t`.
//!
//! **Why.** In any linearization, the prefix of operations placed at or before instant `t`
//! contains every acquire that returned by `t` and no release invoked after `t`, so it holds at
//! least `held(t)` permits: if `held(t) > permits`, no linearization exists. Conversely, place
//! every acquire at its return and every release at its invocation (releases first at equal
//! instants): this respects real time and each process's order, every prefix holds at most
//! `max held(t) <= permits`, and never fewer than zero because each process's own balance stays
//! non-negative, so each release finds enough held permits. The property tests
//! `prop_lin_fast_semaphore_*` cross-check it against the general checker.

use super::fast_queue::FastResult;
use super::history::{Op, OpKind};

/// Checks a semaphore history (see the module docs for the class it decides).
pub fn check_semaphore(ops: &[Op], permits: u64) -> FastResult {
    let na = |s: &str| FastResult::NotApplicable(s.to_string());
    if ops
        .iter()
        .any(|op| op.ok != Some(true) || op.return_ns.is_none())
    {
        return na("an operation was refused, never returned or has an unknown outcome");
    }
    let ret = |i: usize| ops[i].return_ns.unwrap_or(i64::MAX);
    let mut order: Vec<usize> = (0..ops.len()).collect();
    order.sort_by_key(|&i| (ops[i].process, ops[i].invoke_ns, i));
    // per process: strict order, non-negative balance; remember where each process's current
    // holding session began (for the witness)
    let mut balance: i128 = 0;
    for (k, &i) in order.iter().enumerate() {
        let op = &ops[i];
        if k > 0 && ops[order[k - 1]].process == op.process {
            if ret(order[k - 1]) >= op.invoke_ns {
                return na("two operations of one process share an instant");
            }
        } else {
            balance = 0;
        }
        balance += delta(op);
        if balance < 0 {
            return na("a process released permits it did not hold");
        }
    }
    // sweep: releases at invoke (first at equal instants), acquires at return
    let mut events: Vec<(i64, u8, usize)> = ops
        .iter()
        .enumerate()
        .map(|(i, op)| match op.kind {
            OpKind::Release { .. } => (op.invoke_ns, 0, i),
            _ => (ret(i), 1, i),
        })
        .collect();
    events.sort_unstable();
    let mut held: i128 = 0;
    for (k, &(t, _, i)) in events.iter().enumerate() {
        held += delta(&ops[i]);
        let last_at_t = events.get(k + 1).is_none_or(|&(t2, _, _)| t2 != t);
        if last_at_t && held > i128::from(permits) {
            return FastResult::Violation {
                what: format!(
                    "{held} permits were certainly held at {t} ns, but the semaphore has {permits}"
                ),
                ops: holders_at(ops, &order, t),
            };
        }
    }
    FastResult::Linearizable
}

/// +n for an acquire, -n for a release.
fn delta(op: &Op) -> i128 {
    match op.kind {
        OpKind::Acquire { n } => i128::from(n),
        OpKind::Release { n } => -i128::from(n),
        _ => 0,
    }
}

/// For each process, its operations since it last held nothing, among those placed by `t`
/// (acquires returned by `t`, releases invoked by `t`).
fn holders_at(ops: &[Op], order: &[usize], t: i64) -> Vec<usize> {
    let mut out = Vec::new();
    let mut session: Vec<usize> = Vec::new();
    let mut balance: i128 = 0;
    let mut process = None;
    for &i in order {
        let op = &ops[i];
        if process != Some(op.process) {
            out.append(&mut session);
            balance = 0;
            process = Some(op.process);
        }
        let placed = match op.kind {
            OpKind::Release { .. } => op.invoke_ns <= t,
            _ => op.return_ns.is_some_and(|r| r <= t),
        };
        if !placed {
            continue;
        }
        session.push(i);
        balance += delta(op);
        if balance == 0 {
            session.clear();
        }
    }
    out.append(&mut session);
    out
}
