//! The one-step weakenings of an access: what each (operation, ordering) may be weakened to.
//!
//! Only orderings valid for the operation are produced (a load is never `Release`, a fence never
//! `Relaxed`): loom panics on an invalid one, which would look like a catch.

use super::hooks::{Op, Strength};
use Strength::*;

/// Every one-step weakening of `original` for `op` (empty when there is none, e.g. `Relaxed`).
pub fn weakenings(op: Op, original: Strength) -> &'static [Strength] {
    match (op, original) {
        (Op::Load | Op::CasFailure, SeqCst) => &[Acquire],
        (Op::Load | Op::CasFailure, Acquire) => &[Relaxed],
        (Op::Store, SeqCst) => &[Release],
        (Op::Store, Release) => &[Relaxed],
        (Op::Rmw | Op::Cas, SeqCst) => &[AcqRel],
        (Op::Rmw | Op::Cas, AcqRel) => &[Acquire, Release],
        (Op::Rmw | Op::Cas, Acquire | Release) => &[Relaxed],
        // A fence one step weaker, and the fence removed outright.
        (Op::Fence, SeqCst) => &[AcqRel, Removed],
        (Op::Fence, AcqRel) => &[Acquire, Release, Removed],
        (Op::Fence, Acquire | Release) => &[Removed],
        (Op::FenceLight | Op::FenceHeavy, _) => &[Removed],
        // Weakening by removal on the spin-then-park paths: the wake dropped; the wait no longer
        // re-checks its word under the futex lock before sleeping.
        (Op::Wake | Op::Wait, Call) => &[Removed],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    /// Every weakening is a valid ordering for its operation (std would panic otherwise).
    #[test]
    fn weakenings_are_valid_for_their_operation() {
        for op in [Op::Load, Op::Store, Op::Rmw, Op::Cas, Op::CasFailure] {
            for from in [Relaxed, Acquire, Release, AcqRel, SeqCst] {
                for to in weakenings(op, from) {
                    let o = to.ordering().expect("an ordering");
                    let ok = match op {
                        Op::Load | Op::CasFailure => {
                            !matches!(o, Ordering::Release | Ordering::AcqRel)
                        }
                        Op::Store => !matches!(o, Ordering::Acquire | Ordering::AcqRel),
                        _ => true,
                    };
                    assert!(ok, "{op:?} {from:?} -> {to:?}");
                    assert!(*to < from, "{op:?}: {to:?} is not weaker than {from:?}");
                }
            }
        }
        assert!(weakenings(Op::Load, Relaxed).is_empty());
        assert_eq!(weakenings(Op::Wake, Call), &[Removed]);
    }
}
