//! Errors of ring operations.

use crate::shm::ShmError;

/// Why a ring operation did not complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RingError {
    /// Non-blocking push: no free slot (or bytes) now.
    #[error("ring is full")]
    Full,
    /// Non-blocking pop: nothing to read now.
    #[error("ring is empty")]
    Empty,
    /// The other side closed (dropped its handle) or the ring was closed, and nothing is left.
    #[error("ring is closed")]
    Closed,
    /// A blocking operation reached its deadline.
    #[error("timed out")]
    TimedOut,
    /// A frame is larger than the ring can ever hold.
    #[error("message of {len} bytes exceeds this ring's maximum of {max} bytes")]
    Oversize {
        /// Requested length.
        len: usize,
        /// Largest length this ring accepts.
        max: usize,
    },
    /// The role (producer or consumer) of a single-producer/single-consumer ring is already taken.
    #[error("the {0} of this ring is already attached")]
    RoleTaken(&'static str),
    /// A blocked operation's peer role is held by a process that has died (noticed within
    /// `PEER_CHECK_INTERVAL`, 100 ms). A new process may take the role over; retrying waits
    /// for it.
    #[error("the {role} of this ring (pid {pid}) died")]
    PeerGone {
        /// The dead peer's role.
        role: &'static str,
        /// Its pid.
        pid: u32,
    },
    /// `/proc` could not tell who this process is (needed to record a role's owner).
    #[error("cannot identify this process: {0}")]
    Process(String),
    /// The shared state breaks an invariant: the peer is corrupt or hostile. Nothing was read from
    /// or written to memory outside the ring.
    #[error("ring state is corrupt: {0}")]
    Corrupt(String),
    /// A capacity that cannot be used.
    #[error("invalid capacity {capacity}: {reason}")]
    BadCapacity {
        /// Requested capacity.
        capacity: usize,
        /// Why not.
        reason: &'static str,
    },
    /// The ring needs a facility this process cannot use.
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
    /// Creating or opening the region failed.
    #[error(transparent)]
    Shm(#[from] ShmError),
}

impl RingError {
    /// The region error inside, if this is one.
    pub fn shm(&self) -> Option<&ShmError> {
        match self {
            RingError::Shm(e) => Some(e),
            _ => None,
        }
    }
}
