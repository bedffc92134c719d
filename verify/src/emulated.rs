//! What the emulated memories (`models::loom_memory` on loom, `shuttle::memory` on shuttle) share:
//! the [`Atomic`](synclab_core::model::Atomic) impl of a wrapped atomic with a hook on every
//! ordering ([`hooked_atomic!`](crate::hooked_atomic)), the futex word (an atomic with a
//! `Mutex` + `Condvar`, `futex_word!`), and the byte views of
//! payload cells ([`CellBytes`], [`CellBytesMut`]).

use std::ops::{Deref, DerefMut};
use std::sync::atomic::Ordering;
use synclab_core::model::SlotCell;

/// The access an ordering belongs to, as a [`hooked_atomic!`](crate::hooked_atomic) hook sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// `load`.
    Load,
    /// `store`.
    Store,
    /// A read-modify-write (`swap`, `fetch_add`, `fetch_sub`, `fetch_or`: the method's name).
    Rmw(&'static str),
    /// The success ordering of `compare_exchange` or `compare_exchange_weak` (the name).
    Cas(&'static str),
    /// The failure ordering of the same (asked right after its success ordering).
    CasFailure(&'static str),
}

impl Access {
    /// The method's name.
    pub fn name(self) -> &'static str {
        match self {
            Access::Load => "load",
            Access::Store => "store",
            Access::Rmw(n) | Access::Cas(n) | Access::CasFailure(n) => n,
        }
    }
}

/// A hook that leaves every ordering as it is.
pub fn unchanged(_access: Access, order: Ordering) -> Ordering {
    order
}

/// `impl Atomic<$v> for $word`: every operation passes its ordering(s) through
/// `$hook(Access, Ordering) -> Ordering` and then runs on `self.$field` (an atomic with the
/// std-like methods, inherent or through `Atomic`); `new(v)` builds `$new`. Every method is
/// `#[track_caller]`, so a `#[track_caller]` hook sees the algorithm's line.
#[macro_export]
macro_rules! hooked_atomic {
    (@rmw $v:ty, $field:tt, $hook:path, $($rmw:ident),+) => {
        $(
            #[track_caller]
            fn $rmw(&self, v: $v, o: std::sync::atomic::Ordering) -> $v {
                let o = $hook($crate::emulated::Access::Rmw(stringify!($rmw)), o);
                self.$field.$rmw(v, o)
            }
        )+
    };
    (@cas $v:ty, $field:tt, $hook:path, $($cas:ident),+) => {
        $(
            #[track_caller]
            fn $cas(
                &self,
                c: $v,
                n: $v,
                s: std::sync::atomic::Ordering,
                f: std::sync::atomic::Ordering,
            ) -> Result<$v, $v> {
                let s = $hook($crate::emulated::Access::Cas(stringify!($cas)), s);
                let f = $hook($crate::emulated::Access::CasFailure(stringify!($cas)), f);
                self.$field.$cas(c, n, s, f)
            }
        )+
    };
    ($word:ty, $v:ty, field = $field:tt, new($nv:ident) = $new:expr, hook = $hook:path) => {
        impl synclab_core::model::Atomic<$v> for $word {
            fn new($nv: $v) -> Self {
                $new
            }
            #[track_caller]
            fn load(&self, o: std::sync::atomic::Ordering) -> $v {
                let o = $hook($crate::emulated::Access::Load, o);
                self.$field.load(o)
            }
            #[track_caller]
            fn store(&self, v: $v, o: std::sync::atomic::Ordering) {
                let o = $hook($crate::emulated::Access::Store, o);
                self.$field.store(v, o)
            }
            $crate::hooked_atomic!(@rmw $v, $field, $hook, swap, fetch_add, fetch_sub, fetch_or);
            $crate::hooked_atomic!(@cas $v, $field, $hook, compare_exchange, compare_exchange_weak);
        }
    };
}

/// Defines `pub struct $name<A>`: an atomic `value` that can also be waited on like a futex,
/// with the `Mutex` and `Condvar` in scope where it is invoked (loom's or shuttle's), and its
/// `Atomic` impls for `AtomicU32`/`AtomicU64` in scope, ordering hook `$hook`. `futex_wait`
/// re-checks the word under the lock and sleeps on the condvar; `futex_wake` notifies under the
/// lock, so a waker that changed the word first cannot slip between a waiter's check and its
/// sleep (the kernel futex's hash-bucket lock gives the same). A wait with a deadline never
/// sleeps: it returns `TimedOut` at once if the word still holds the expected value, which lets
/// the scheduler place the timeout anywhere.
macro_rules! futex_word {
    ($(#[$doc:meta])* $name:ident, hook = $hook:path) => {
        $(#[$doc])*
        pub struct $name<A> {
            value: A,
            lock: Mutex<()>,
            cv: Condvar,
        }

        impl<A> $name<A> {
            fn futex_wait(
                &self,
                still: impl Fn() -> bool,
                deadline: Option<Deadline>,
            ) -> WaitOutcome {
                let guard = self.lock.lock().unwrap();
                if !still() {
                    return WaitOutcome::ValueChanged;
                }
                if deadline.is_some() {
                    return WaitOutcome::TimedOut;
                }
                drop(self.cv.wait(guard).unwrap());
                WaitOutcome::Woken
            }

            fn futex_wake(&self, count: u32) {
                let _guard = self.lock.lock().unwrap();
                if count == 1 {
                    self.cv.notify_one();
                } else {
                    self.cv.notify_all();
                }
            }
        }

        $crate::hooked_atomic!($name<AtomicU32>, u32, field = value, new(v) = $name {
            value: AtomicU32::new(v),
            lock: Mutex::new(()),
            cv: Condvar::new(),
        }, hook = $hook);
        $crate::hooked_atomic!($name<AtomicU64>, u64, field = value, new(v) = $name {
            value: AtomicU64::new(v),
            lock: Mutex::new(()),
            cv: Condvar::new(),
        }, hook = $hook);
    };
}
pub(crate) use futex_word;

/// Read view of byte cells: a copy, each byte read through its cell.
pub struct CellBytes(Vec<u8>);

impl CellBytes {
    /// Copies `cells`.
    ///
    /// # Safety
    /// As `Memory::bytes`: no write to `cells` is in progress.
    pub unsafe fn read<C: SlotCell<u8>>(cells: &[C]) -> Self {
        // SAFETY: forwarded: the caller guarantees no write is in progress.
        CellBytes(cells.iter().map(|c| unsafe { c.read() }).collect())
    }
}

impl Deref for CellBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

/// Write view of byte cells: a scratch buffer written back through the cells on drop.
pub struct CellBytesMut<'a, C: SlotCell<u8>> {
    cells: &'a [C],
    buf: Vec<u8>,
}

impl<'a, C: SlotCell<u8>> CellBytesMut<'a, C> {
    /// A zeroed scratch buffer for `cells`.
    ///
    /// # Safety
    /// As `Memory::bytes_mut`: the caller has exclusive access to `cells` while the view lives.
    pub unsafe fn new(cells: &'a [C]) -> Self {
        CellBytesMut {
            cells,
            buf: vec![0; cells.len()],
        }
    }
}

impl<C: SlotCell<u8>> Deref for CellBytesMut<'_, C> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.buf
    }
}

impl<C: SlotCell<u8>> DerefMut for CellBytesMut<'_, C> {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.buf
    }
}

impl<C: SlotCell<u8>> Drop for CellBytesMut<'_, C> {
    fn drop(&mut self) {
        for (cell, b) in self.cells.iter().zip(&self.buf) {
            // SAFETY: the creator of this view was granted exclusive access to these cells.
            unsafe { cell.write(*b) };
        }
    }
}
