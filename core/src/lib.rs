//! synclab-core: lock-free rings and a counting semaphore that live in shared memory and work
//! between real OS processes.
//!
//! What a user sees:
//! - the objects: [`Spsc`] (one producer, one consumer, fixed-size records), [`Mpmc`] (many of
//!   each), [`Frames`] (variable-length byte frames, zero-copy) and [`Semaphore`];
//! - one [`Builder`] for all of them (`Spsc::<u64>::builder().capacity(1024).create(&name)`, then
//!   `.open(&name)` elsewhere; see [`object`]);
//! - names ([`ShmName`]), deadlines ([`Deadline`]) and errors ([`RingError`], [`SemError`],
//!   [`ShmError`]), each `Debug + Display + PartialEq`.
//!
//! Every algorithm is written once, generic over a memory model that the `verify` crate also runs
//! under loom (so the shipped code is the modelled code); that machinery is in the hidden
//! [`model`] module, and the public types above are aliases on real memory.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, missing_debug_implementations)]

mod mem;
pub mod model;
pub mod object;
mod process;
mod ring;
mod sem;
pub mod shm;

pub use mem::Deadline;
pub use object::Builder;
pub use process::{ProcessError, ProcessKey};
pub use ring::{
    limits, Consumer, FrameConsumer, FrameProducer, Frames, FramesParams, Grant, Mpmc, MpmcParams,
    MpmcRepairs, Producer, ReadChunk, RingError, Spsc, SpscParams, Wakeups, WriteChunk,
};
pub use sem::{SemError, SemParams, MAX_LEDGER_SLOTS, MAX_PERMITS};
pub use shm::{ShmError, ShmName};

/// A counting semaphore in shared memory (see [`Semaphore::builder`]).
pub type Semaphore = sem::Semaphore<mem::RealMemory>;
/// Permits acquired from a [`Semaphore`], released when dropped.
pub type Permit<'a> = sem::Permit<'a, mem::RealMemory>;
/// A [`Semaphore`] handle for one thread at a time, with a ledger slot of its own
/// (see [`Semaphore::local`]).
pub type LocalSemaphore = sem::LocalSemaphore<mem::RealMemory>;
/// Permits acquired from a [`LocalSemaphore`], released when dropped.
pub type LocalPermit<'a> = sem::LocalPermit<'a, mem::RealMemory>;
