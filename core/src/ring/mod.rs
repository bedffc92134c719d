//! Lock-free rings that live in a region and work across processes.
//!
//! - [`spsc`]: one producer, one consumer, fixed-size `Pod` records.
//! - [`mpmc`]: many producers and consumers (Vyukov's bounded queue).
//! - [`frames`]: one producer, one consumer, variable-length byte frames, zero-copy.
//! - [`eventcount`]: the futex-based parking lot the blocking forms use.

mod error;
pub mod eventcount;
pub mod frames;
mod line;
pub mod mpmc;
mod pair;
pub mod spsc;
mod storage;

pub use error::RingError;
pub use frames::{FrameConsumer, FrameProducer, Frames, Grant};
pub use mpmc::Mpmc;
pub use pair::Wakeups;
pub use spsc::{Consumer, Producer, Spsc};
pub use storage::Placement;

#[cfg(test)]
mod tests;
