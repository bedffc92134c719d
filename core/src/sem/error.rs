//! Errors of the semaphore.

use crate::shm::ShmError;

/// Why a semaphore operation did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SemError {
    /// `try_acquire*`: not enough permits right now (or a multi-permit waiter holds the priority
    /// token, which reserves released permits for it).
    #[error("not enough permits available")]
    WouldBlock,
    /// `acquire_timeout`/`acquire_until`: the deadline passed first.
    #[error("timed out waiting for permits")]
    TimedOut,
    /// The semaphore was closed: every acquire returns this from then on.
    #[error("semaphore is closed")]
    Closed,
    /// `release` would raise the count above the declared maximum; nothing was changed.
    #[error(
        "releasing {released} permit(s) onto a count of {value} would exceed the maximum {max}"
    )]
    Overflow {
        /// The count before the attempted release.
        value: u32,
        /// How many permits the caller tried to release.
        released: u32,
        /// The declared maximum.
        max: u32,
    },
    /// A caller-supplied argument is out of range.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Ledger mode: this process tried to release more permits than it holds.
    #[error("this process holds {held} permit(s) and cannot release {requested}")]
    NotHeld {
        /// Permits this process holds according to the ledger.
        held: u64,
        /// Permits it tried to release.
        requested: u32,
    },
    /// Ledger mode: every ledger slot is taken by a live process.
    #[error("all {slots} holder-ledger slots are in use by live processes")]
    LedgerFull {
        /// Number of slots.
        slots: u32,
    },
    /// `recover` (or ledger bookkeeping) on a semaphore created without a ledger.
    #[error("this semaphore was created without a holder ledger")]
    NoLedger,
    /// Shared memory holds a value no correct peer could have written (a count above the
    /// maximum, a waiter count that would wrap, a ledger entry above the maximum...).
    #[error("corrupt semaphore region: {what} is {found}, {rule}")]
    Corrupt {
        /// The field.
        what: &'static str,
        /// The value found.
        found: u64,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// Ledger mode: `recover` could not decide the count because a live process (`pid`) stayed
    /// inside an operation's window (between announcing a count change in its ledger entry and
    /// recording it) for a whole `PEER_CHECK_INTERVAL`, e.g. because it is stopped. Nothing was
    /// changed; try again later.
    #[error("process {pid} is inside a semaphore operation; recovery deferred, try again")]
    InFlight {
        /// The process found inside its window.
        pid: u32,
    },
    /// Creating, opening or validating the region failed.
    #[error(transparent)]
    Shm(#[from] ShmError),
    /// Reading process information (`/proc/PID/stat`) failed unexpectedly.
    #[error("{0}")]
    Io(String),
}

impl From<crate::process::ProcessError> for SemError {
    fn from(e: crate::process::ProcessError) -> Self {
        SemError::Io(e.0)
    }
}
