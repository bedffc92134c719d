//! Errors from creating, opening and validating regions.

/// Why a region could not be created, opened or trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShmError {
    /// The shm name is not acceptable.
    #[error("invalid shared-memory name {name:?}: {reason}")]
    InvalidName {
        /// The rejected name.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `create` found a region of that name already.
    #[error("shared-memory region {0} already exists")]
    AlreadyExists(String),
    /// `open` found no region of that name.
    #[error("shared-memory region {0} does not exist")]
    NotFound(String),
    /// A system call failed.
    #[error("{op} failed for {what}: {source}")]
    Os {
        /// The failing call.
        op: &'static str,
        /// The region (name or description).
        what: String,
        /// The OS error.
        #[source]
        source: nix::Error,
    },
    /// The mapping is smaller than the header or the layout needs.
    #[error("region is {len} bytes, but {need} bytes are needed ({what})")]
    TooSmall {
        /// Mapping length.
        len: usize,
        /// Bytes needed.
        need: usize,
        /// For what.
        what: &'static str,
    },
    /// The header's magic is wrong: not a synclab region, or corrupt.
    #[error("not a synclab region: magic is {found:#018x}, expected {expected:#018x}")]
    BadMagic {
        /// Found magic.
        found: u64,
        /// Expected magic.
        expected: u64,
    },
    /// The region was made by an incompatible format version.
    #[error(
        "region format version {found} is not supported (this build reads version {supported})"
    )]
    UnsupportedVersion {
        /// Found version.
        found: u32,
        /// Supported version.
        supported: u32,
    },
    /// The region is of another kind than the caller expected.
    #[error("region holds a {found}, expected a {expected}")]
    WrongKind {
        /// Found kind (name, or the raw number if unknown).
        found: String,
        /// Expected kind.
        expected: String,
    },
    /// A layout parameter in the header does not match the caller's expectation or is invalid.
    #[error("region header field `{field}` is {found}, expected {expected}")]
    LayoutMismatch {
        /// The header field.
        field: &'static str,
        /// Its value.
        found: u64,
        /// What was expected (a value or a rule).
        expected: String,
    },
    /// The region's record type is not the caller's (see [`super::TypeFingerprint`]).
    #[error("region holds records of type {found}, but this handle is for {expected}")]
    WrongType {
        /// The recorded type: name, size, alignment.
        found: String,
        /// The caller's type.
        expected: String,
    },
    /// The region exists but its creator has not finished creating it (not yet sized, or not
    /// yet initialised): one state, whatever stage the creator is at. Retry, or use
    /// `open_timeout`, which waits while this lasts.
    #[error("shared-memory region {0} is being created")]
    BeingCreated(String),
    /// The region was never finished: its recorded creator died while creating it. Remove it
    /// (`synclab clean`, or [`crate::shm::stale::clean`]) and create it again.
    #[error("shared-memory region {what} was abandoned unfinished: its creator (pid {pid}) died")]
    CreatorDied {
        /// The region.
        what: String,
        /// The creator's pid.
        pid: u32,
    },
}

impl ShmError {
    pub(crate) fn os(op: &'static str, what: impl Into<String>, source: nix::Error) -> Self {
        ShmError::Os {
            op,
            what: what.into(),
            source,
        }
    }
}
