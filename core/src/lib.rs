//! synclab-core: lock-free rings and a counting semaphore that live in shared memory and work
//! between real OS processes.
//!
//! Every algorithm here is written once, generic over the [`mem::Memory`] trait: [`mem::RealMemory`]
//! runs it on std atomics inside an mmap'd region with a process-shared futex, and the `verify`
//! crate runs the very same code under loom. `core` never depends on loom.
//!
//! - [`shm`]: named POSIX shm, memfd and heap regions with a validated, versioned header.
//! - [`mem`]: the `Memory` trait and its real implementation.
//! - [`ring`]: `spsc`, `mpmc` and `frames` rings, and the futex-based eventcount they park on.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod mem;
pub mod ring;
pub mod sem;
pub mod shm;
