//! The same algorithm code (`synclab_core::model` generic types) under the `shuttle` crate's
//! randomised schedulers, at configurations loom cannot reach (more threads, more items).
//!
//! - [`memory`]: [`ShuttleMemory`], the `Memory` trait on shuttle's atomics with a futex
//!   emulated by a shuttle `Mutex` + `Condvar` per word (as `models::loom_memory` does for loom),
//!   and a mutant switch (`ShuttleMemory<MUTANT>`).
//! - [`run`]: runs a test body under the random or the PCT scheduler with a fixed seed and a
//!   stated number of iterations; a failure comes back with shuttle's replayable schedule, and
//!   [`run::replay`] runs that schedule again.
//! - [`record`]: an operation history with a logical clock, checked by `synclab-lin` (also used
//!   by the real-thread property tests).
//! - [`scenarios`]: the test bodies (one per object, at sizes loom cannot reach).
//! - [`column`](mod@column): the kill matrix's shuttle column: each hand-written mutant run under the
//!   scenario of its object.
//!
//! What shuttle can and cannot find: it runs one thread at a time and switches only at atomic
//! operations and blocking calls, so every execution is **sequentially consistent**. It finds
//! interleaving bugs (a claim without a compare-and-swap, a lost wakeup, an off-by-one that
//! needs many items in flight) at sizes loom's exhaustive search cannot afford. It cannot find a
//! bug that needs a weak-memory outcome (a `Relaxed` publish, a missing fence): those mutants
//! pass under shuttle and are loom's job. Its payload cells are plain memory: no data-race
//! detection (loom's `UnsafeCell` tracking has no counterpart); a torn or stale payload shows
//! only through the content checks.

pub mod column;
pub mod memory;
pub mod record;
pub mod run;
pub mod scenarios;

pub use memory::ShuttleMemory;
