//! The fast semaphore checker, O(n log n).
//!
//! **When it applies** (otherwise the general checker runs): no operation was refused
//! (`ok: false`); the operations of each process are strictly ordered (`return < next invoke`;
//! so an operation that never returned is its process's last); and the canonical order below
//! never holds fewer than zero permits (it does not when each process releases only permits it
//! holds; a process may also release permits others acquired, e.g. a recoverer returning a
//! dead holder's permits).
//!
//! **What it checks.** Operations of unknown outcome (`ok: null`, returned or not) are allowed:
//! an unknown `acquire` is left out (it may never have taken effect), an unknown `release` is
//! taken to have taken effect at its invocation. Let `held(t)` = permits of the acquires that
//! returned `ok: true` at or before `t` minus permits of the releases (`ok: true` or unknown)
//! invoked at or before `t`. The history is linearizable exactly when `held(t) <= permits` at
//! every `t`.
//!
//! **Why.** Necessary: in any linearization, the prefix of operations placed at or before
//! instant `t` contains every successful acquire that returned by `t`, perhaps some unknown
//! acquires (which only add), and no release invoked after `t` (perhaps not all invoked before),
//! so it holds at least `held(t)` permits: if `held(t) > permits`, no linearization exists.
//! Sufficient: place every successful acquire at its return and every release at its invocation
//! (releases first at equal instants), and leave the unknown acquires out. This respects real
//! time (each operation is placed inside its interval) and each process's order; every prefix
//! holds at most `max held(t) <= permits`, and, by the applicability condition, never fewer than
//! zero, so each step is legal. The property tests `prop_lin_fast_semaphore_*` cross-check it
//! against the general checker.

use super::fast_queue::FastResult;
use super::history::{Op, OpKind};

/// Checks a semaphore history (see the module docs for the class it decides).
pub fn check_semaphore(ops: &[Op], permits: u64) -> FastResult {
    let na = |s: &str| FastResult::NotApplicable(s.to_string());
    if ops.iter().any(|op| op.ok == Some(false)) {
        return na("an operation was refused");
    }
    let ret = |i: usize| ops[i].return_ns.unwrap_or(i64::MAX);
    let mut order: Vec<usize> = (0..ops.len()).collect();
    order.sort_by_key(|&i| (ops[i].process, ops[i].invoke_ns, i));
    for pair in order.windows(2) {
        if ops[pair[0]].process == ops[pair[1]].process && ret(pair[0]) >= ops[pair[1]].invoke_ns {
            return na("two operations of one process share an instant");
        }
    }
    // sweep: releases at invoke (first at equal instants), successful acquires at return
    let mut events: Vec<(i64, u8, usize)> = ops
        .iter()
        .enumerate()
        .filter_map(|(i, op)| match op.kind {
            OpKind::Release { .. } => Some((op.invoke_ns, 0, i)),
            _ if placed_acquire(op) => Some((ret(i), 1, i)),
            _ => None,
        })
        .collect();
    events.sort_unstable();
    let mut held: i128 = 0;
    for (k, &(t, _, i)) in events.iter().enumerate() {
        held += delta(&ops[i]);
        if held < 0 {
            return na("releases outpace acquires in the canonical order");
        }
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

/// An acquire that certainly took effect (returned `ok: true`).
fn placed_acquire(op: &Op) -> bool {
    matches!(op.kind, OpKind::Acquire { .. }) && op.ok == Some(true) && op.return_ns.is_some()
}

/// +n for an acquire, -n for a release.
fn delta(op: &Op) -> i128 {
    match op.kind {
        OpKind::Acquire { n } => i128::from(n),
        OpKind::Release { n } => -i128::from(n),
        _ => 0,
    }
}

/// For each process, its operations since it last held nothing (a running balance that drops to
/// zero or below starts afresh), among those placed by `t` (successful acquires returned by `t`,
/// releases invoked by `t`). Their sum of held permits is at least `held(t)`, so they alone admit
/// no linearization.
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
            _ => placed_acquire(op) && op.return_ns.is_some_and(|r| r <= t),
        };
        if !placed {
            continue;
        }
        session.push(i);
        balance += delta(op);
        if balance <= 0 {
            session.clear();
            balance = 0;
        }
    }
    out.append(&mut session);
    out
}
