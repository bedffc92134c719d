//! Lock-free rings that live in a region and work across processes.
//!
//! - [`Spsc`]: one producer, one consumer, fixed-size `Pod` records.
//! - [`Mpmc`]: many producers and consumers (Vyukov's bounded queue).
//! - [`Frames`]: one producer, one consumer, variable-length byte frames, zero-copy.
//!
//! Each is created and opened through its builder (`Spsc::<T>::builder()…`, see
//! [`crate::object`]). The blocking forms park on a futex-based eventcount.
//!
//! A record type aligned to more than 128 bytes (what a region's body guarantees) is refused at
//! compile time when a ring of it is placed in a region:
//!
//! ```compile_fail
//! #[derive(Clone, Copy, bytemuck::Zeroable, bytemuck::Pod)]
//! #[repr(C, align(256))]
//! struct Wide([u8; 256]);
//! let _ = synclab_core::Spsc::<Wide>::builder().anonymous();
//! ```
//!
//! while the same ring of a 128-aligned type builds (this is the control for the test above):
//!
//! ```
//! #[derive(Clone, Copy, bytemuck::Zeroable, bytemuck::Pod)]
//! #[repr(C, align(128))]
//! struct Line([u8; 128]);
//! let _ = synclab_core::Spsc::<Line>::builder().capacity(2).anonymous().unwrap();
//! ```

mod error;
pub(crate) mod eventcount;
pub(crate) mod frames;
mod line;
pub(crate) mod mpmc;
mod pair;
pub(crate) mod spsc;
mod storage;

use crate::mem::RealMemory;

pub use error::RingError;
pub use frames::FramesParams;
pub use mpmc::{MpmcParams, MpmcRepairs};
pub use pair::Wakeups;
pub use spsc::SpscParams;

/// A single-producer single-consumer ring of `T` in shared memory (see [`Spsc::builder`]).
pub type Spsc<T> = spsc::Spsc<T, RealMemory>;
/// The producing end of an [`Spsc`] ring.
pub type Producer<T> = spsc::Producer<T, RealMemory>;
/// The consuming end of an [`Spsc`] ring.
pub type Consumer<T> = spsc::Consumer<T, RealMemory>;
/// Free slots of an [`Spsc`] ring granted to its producer ([`Producer::write_chunk`]).
pub type WriteChunk<'a, T> = spsc::WriteChunk<'a, T, RealMemory>;
/// Published records of an [`Spsc`] ring granted to its consumer ([`Consumer::read_chunk`]).
pub type ReadChunk<'a, T> = spsc::ReadChunk<'a, T, RealMemory>;
/// A many-producer many-consumer queue of `T` in shared memory (see [`Mpmc::builder`]).
pub type Mpmc<T> = mpmc::Mpmc<T, RealMemory>;
/// A single-producer single-consumer ring of byte frames (see [`Frames::builder`]).
pub type Frames = frames::Frames<RealMemory>;
/// The producing end of a [`Frames`] ring.
pub type FrameProducer = frames::FrameProducer<RealMemory>;
/// The consuming end of a [`Frames`] ring.
pub type FrameConsumer = frames::FrameConsumer<RealMemory>;
/// Room reserved in a [`Frames`] ring for one frame: fill it, then commit.
pub type Grant<'a> = frames::Grant<'a, RealMemory>;

/// Capacity limits, per ring.
pub mod limits {
    pub use super::frames::{
        DEFAULT_CAPACITY as FRAMES_DEFAULT_CAPACITY, HEADER as FRAME_HEADER,
        MAX_CAPACITY as FRAMES_MAX_CAPACITY, MIN_CAPACITY as FRAMES_MIN_CAPACITY,
    };
    pub use super::mpmc::{
        DEFAULT_CAPACITY as MPMC_DEFAULT_CAPACITY, MAX_CAPACITY as MPMC_MAX_CAPACITY,
    };
    pub use super::spsc::{
        DEFAULT_CAPACITY as SPSC_DEFAULT_CAPACITY, MAX_CAPACITY as SPSC_MAX_CAPACITY,
    };
}

#[cfg(test)]
mod tests;
