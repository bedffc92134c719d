//! The atomic-integer interface that `Memory` implementations provide (std or loom).

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// An atomic integer of type `V`, with the subset of operations the algorithms use.
pub trait Atomic<V: Copy>: Send + Sync {
    /// A new atomic holding `v`.
    fn new(v: V) -> Self;
    /// Atomic load.
    fn load(&self, order: Ordering) -> V;
    /// Atomic store.
    fn store(&self, v: V, order: Ordering);
    /// Atomic swap.
    fn swap(&self, v: V, order: Ordering) -> V;
    /// Wrapping add; returns the previous value.
    fn fetch_add(&self, v: V, order: Ordering) -> V;
    /// Wrapping subtract; returns the previous value.
    fn fetch_sub(&self, v: V, order: Ordering) -> V;
    /// Bitwise or; returns the previous value.
    fn fetch_or(&self, v: V, order: Ordering) -> V;
    /// Strong compare-and-exchange.
    fn compare_exchange(
        &self,
        current: V,
        new: V,
        success: Ordering,
        failure: Ordering,
    ) -> Result<V, V>;
    /// Weak compare-and-exchange (may fail spuriously).
    fn compare_exchange_weak(
        &self,
        current: V,
        new: V,
        success: Ordering,
        failure: Ordering,
    ) -> Result<V, V>;
}

macro_rules! impl_std_atomic {
    ($atomic:ty, $v:ty) => {
        impl Atomic<$v> for $atomic {
            #[inline(always)]
            fn new(v: $v) -> Self {
                <$atomic>::new(v)
            }
            #[inline(always)]
            fn load(&self, order: Ordering) -> $v {
                <$atomic>::load(self, order)
            }
            #[inline(always)]
            fn store(&self, v: $v, order: Ordering) {
                <$atomic>::store(self, v, order)
            }
            #[inline(always)]
            fn swap(&self, v: $v, order: Ordering) -> $v {
                <$atomic>::swap(self, v, order)
            }
            #[inline(always)]
            fn fetch_add(&self, v: $v, order: Ordering) -> $v {
                <$atomic>::fetch_add(self, v, order)
            }
            #[inline(always)]
            fn fetch_sub(&self, v: $v, order: Ordering) -> $v {
                <$atomic>::fetch_sub(self, v, order)
            }
            #[inline(always)]
            fn fetch_or(&self, v: $v, order: Ordering) -> $v {
                <$atomic>::fetch_or(self, v, order)
            }
            #[inline(always)]
            fn compare_exchange(
                &self,
                current: $v,
                new: $v,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$v, $v> {
                <$atomic>::compare_exchange(self, current, new, success, failure)
            }
            #[inline(always)]
            fn compare_exchange_weak(
                &self,
                current: $v,
                new: $v,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$v, $v> {
                <$atomic>::compare_exchange_weak(self, current, new, success, failure)
            }
        }
    };
}

impl_std_atomic!(AtomicU32, u32);
impl_std_atomic!(AtomicU64, u64);
