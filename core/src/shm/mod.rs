//! Shared-memory regions: named POSIX shm, anonymous memfd, or plain heap (for in-process use and
//! Miri), each starting with a versioned [`RegionHeader`] that `open` validates.
//!
//! Everything read from a region is untrusted: another process may have written anything there.
//! `open` checks the header against the mapping and the caller's expectation and returns a typed
//! [`ShmError`] naming what was wrong. [`stale`] finds and removes regions whose creator and
//! every attached process are dead.

mod error;
mod fingerprint;
mod header;
mod name;
mod region;
pub mod stale;

pub use error::ShmError;
pub use fingerprint::TypeFingerprint;
pub use header::{RegionHeader, RegionKind, RegionLayout, FORMAT_VERSION, HEADER_LEN, MAGIC};
pub use name::ShmName;
pub use region::{Backing, Region};
