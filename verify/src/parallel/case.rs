//! The generated programs of the parallel property tests: a sequential prefix and parallel
//! branches of operations on a ring or the semaphore, and their proptest strategies.

use proptest::prelude::*;
use std::ops::RangeInclusive;

/// A queue operation; pushed values are numbered by the runner, so every value is distinct.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum QOp {
    /// `try_push` of the next value.
    Push,
    /// `try_pop`.
    Pop,
}

/// A semaphore operation of one actor, which tracks the permits it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SOp {
    /// `try_acquire_many(n)`.
    TryAcquire(u32),
    /// Blocking `acquire_many(n)`: only in cases where another branch releases what it waits
    /// for (the generated cases never contain it: a branch could wait forever).
    Acquire(u32),
    /// `release(1)` of a permit the actor holds (nothing if it holds none).
    Release,
}

/// A sequential prefix and parallel branches.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Case<Op> {
    /// Run first, by one actor.
    pub prefix: Vec<Op>,
    /// Run together, one actor each, after the prefix.
    pub branches: Vec<Vec<Op>>,
}

impl<Op> Case<Op> {
    /// Operations in the prefix and all branches.
    pub fn len(&self) -> usize {
        self.prefix.len() + self.branches.iter().map(Vec::len).sum::<usize>()
    }

    /// No operation at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `Push` or `Pop`.
pub fn qop() -> impl Strategy<Value = QOp> + Clone {
    prop_oneof![Just(QOp::Push), Just(QOp::Pop)]
}

/// `TryAcquire(1..=2)` or `Release`.
pub fn sop() -> impl Strategy<Value = SOp> + Clone {
    prop_oneof![(1..=2u32).prop_map(SOp::TryAcquire), Just(SOp::Release)]
}

/// A prefix of 0-5 operations and `branches` branches of 1-7 operations.
pub fn case<Op: Clone + std::fmt::Debug>(
    op: impl Strategy<Value = Op> + Clone,
    branches: RangeInclusive<usize>,
) -> impl Strategy<Value = Case<Op>> {
    case_sized(op, branches, 1..8)
}

/// As [`case`], with branch lengths drawn from `ops`.
pub fn case_sized<Op: Clone + std::fmt::Debug>(
    op: impl Strategy<Value = Op> + Clone,
    branches: RangeInclusive<usize>,
    ops: std::ops::Range<usize>,
) -> impl Strategy<Value = Case<Op>> {
    (
        prop::collection::vec(op.clone(), 0..6),
        prop::collection::vec(prop::collection::vec(op, ops), branches),
    )
        .prop_map(|(prefix, branches)| Case { prefix, branches })
}
