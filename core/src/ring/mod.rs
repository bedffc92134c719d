//! Lock-free rings that live in a region and work across processes.
//!
//! - [`spsc`]: one producer, one consumer, fixed-size `Pod` records.
//! - [`mpmc`]: many producers and consumers (Vyukov's bounded queue).
//! - [`frames`]: one producer, one consumer, variable-length byte frames, zero-copy.
//! - [`eventcount`]: the futex-based parking lot the blocking forms use.
