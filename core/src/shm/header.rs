//! The versioned header at the start of every region, and the layout it describes: what the
//! region holds (kind, capacity, record type), who created it (pid and start time, so a reused pid
//! is not mistaken for the creator) and whether it is ready.

use super::{ShmError, TypeFingerprint};
use crate::process::ProcessKey;
use std::fmt;

/// `"SYNCLAB1"` as a little-endian u64.
pub const MAGIC: u64 = u64::from_le_bytes(*b"SYNCLAB1");
/// The region format this build writes and reads.
pub const FORMAT_VERSION: u32 = 2;
/// Bytes reserved for the header; the body starts here, 128-byte aligned.
pub const HEADER_LEN: usize = 128;

/// `state` value once the creator has fully initialised the region.
pub(crate) const STATE_READY: u32 = 0x5245_4459; // "READ"+"Y"-ish, unlikely as garbage

/// What a region holds.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegionKind {
    /// A single-producer single-consumer ring of fixed-size records.
    SpscRing = 1,
    /// A multi-producer multi-consumer ring of fixed-size records.
    MpmcRing = 2,
    /// A single-producer single-consumer ring of variable-length byte frames.
    FrameRing = 3,
    /// A counting semaphore.
    Semaphore = 4,
    /// Plain bytes whose layout the application defines and checks (its `params` are the
    /// application's; e.g. the verification harness's run control blocks and history buffers).
    Bytes = 5,
}

impl RegionKind {
    /// The kind with this number, if any.
    pub fn from_u32(v: u32) -> Option<Self> {
        use RegionKind::*;
        [SpscRing, MpmcRing, FrameRing, Semaphore, Bytes]
            .into_iter()
            .find(|k| *k as u32 == v)
    }

    /// Human name.
    pub fn name(self) -> &'static str {
        match self {
            RegionKind::SpscRing => "spsc ring",
            RegionKind::MpmcRing => "mpmc ring",
            RegionKind::FrameRing => "frame ring",
            RegionKind::Semaphore => "semaphore",
            RegionKind::Bytes => "byte region",
        }
    }
}

impl fmt::Display for RegionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The layout a region is created with, and that `open` recomputes and compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegionLayout {
    /// What the region holds.
    pub kind: RegionKind,
    /// Number of elements (slots, bytes, permits… per kind).
    pub capacity: u64,
    /// `size_of` the element type (0 if none).
    pub elem_size: u32,
    /// `align_of` the element type (1 if none).
    pub elem_align: u32,
    /// Kind-specific parameters.
    pub params: [u64; 4],
    /// Bytes after the header.
    pub body_len: u64,
}

impl RegionLayout {
    /// Total mapping length: header plus body.
    pub fn total_len(&self) -> u64 {
        HEADER_LEN as u64 + self.body_len
    }
}

/// The header as stored at offset 0 of every region (`#[repr(C)]`, 128 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RegionHeader {
    /// [`MAGIC`].
    pub magic: u64,
    /// [`FORMAT_VERSION`].
    pub version: u32,
    /// [`RegionKind`] as a number.
    pub kind: u32,
    /// Header plus body, bytes; must equal the mapping's length.
    pub total_len: u64,
    /// See [`RegionLayout::capacity`].
    pub capacity: u64,
    /// See [`RegionLayout::elem_size`].
    pub elem_size: u32,
    /// See [`RegionLayout::elem_align`].
    pub elem_align: u32,
    /// See [`RegionLayout::params`].
    pub params: [u64; 4],
    /// Pid of the creator.
    pub creator_pid: u32,
    /// `STATE_READY` once initialised; written last, with `Release`.
    pub state: u32,
    /// Low 32 bits of the creator's start time (clock ticks since boot), 0 if unknown: with
    /// `creator_pid`, a [`ProcessKey`] that survives pid reuse.
    pub creator_start: u32,
    /// Reserved, zero.
    pub reserved: u32,
    /// [`TypeFingerprint::hash`] of the record type, 0 when the object opts out (byte frames,
    /// semaphores, byte regions).
    pub type_hash: u64,
    /// The record type's name (`core::any::type_name`), truncated to 32 bytes, zero-padded:
    /// only for error messages.
    pub type_name: [u8; 32],
}

const _: () = assert!(std::mem::size_of::<RegionHeader>() == HEADER_LEN);

impl RegionHeader {
    pub(crate) fn new(layout: &RegionLayout, record: &TypeFingerprint) -> Self {
        // A creator that cannot read its own /proc entry records start 0 ("unknown"): the
        // region then never counts as abandoned by its creator (see `creator`).
        let me = ProcessKey::current().unwrap_or(ProcessKey {
            pid: std::process::id(),
            start: 0,
        });
        RegionHeader {
            magic: MAGIC,
            version: FORMAT_VERSION,
            kind: layout.kind as u32,
            total_len: layout.total_len(),
            capacity: layout.capacity,
            elem_size: layout.elem_size,
            elem_align: layout.elem_align,
            params: layout.params,
            creator_pid: me.pid,
            state: 0,
            creator_start: me.start,
            reserved: 0,
            type_hash: record.hash,
            type_name: record.name_bytes(),
        }
    }

    /// The creator, as recorded at creation (start 0: unknown).
    pub fn creator(&self) -> ProcessKey {
        ProcessKey {
            pid: self.creator_pid,
            start: self.creator_start,
        }
    }

    /// The record type's name as recorded (lossy, possibly truncated).
    pub fn type_name(&self) -> String {
        let end = self.type_name.iter().position(|&b| b == 0).unwrap_or(32);
        String::from_utf8_lossy(&self.type_name[..end]).into_owned()
    }

    /// Checks the recorded record type against `expected` (skipped when either side opted out).
    pub fn check_type(&self, expected: &TypeFingerprint) -> Result<(), ShmError> {
        if expected.hash == 0 || self.type_hash == expected.hash {
            return Ok(());
        }
        Err(ShmError::WrongType {
            found: format!(
                "{} ({} bytes, align {})",
                self.type_name(),
                self.elem_size,
                self.elem_align
            ),
            expected: expected.to_string(),
        })
    }

    /// The layout this header describes (kind must be known).
    pub fn layout(&self) -> Result<RegionLayout, ShmError> {
        let kind = RegionKind::from_u32(self.kind).ok_or_else(|| ShmError::WrongKind {
            found: format!("unknown kind {}", self.kind),
            expected: "a known region kind".into(),
        })?;
        Ok(RegionLayout {
            kind,
            capacity: self.capacity,
            elem_size: self.elem_size,
            elem_align: self.elem_align,
            params: self.params,
            body_len: self.total_len.saturating_sub(HEADER_LEN as u64),
        })
    }

    /// Checks magic, version and kind, then that `expected` (the layout the caller recomputed from
    /// this header's parameters) matches it field by field and the mapping length.
    pub fn validate(
        &self,
        expected_kind: RegionKind,
        record: &TypeFingerprint,
        mapping_len: usize,
        expected: impl FnOnce(&RegionHeader) -> Result<RegionLayout, ShmError>,
    ) -> Result<RegionLayout, ShmError> {
        if self.magic != MAGIC {
            return Err(ShmError::BadMagic {
                found: self.magic,
                expected: MAGIC,
            });
        }
        if self.version != FORMAT_VERSION {
            return Err(ShmError::UnsupportedVersion {
                found: self.version,
                supported: FORMAT_VERSION,
            });
        }
        if self.kind != expected_kind as u32 {
            return Err(ShmError::WrongKind {
                found: RegionKind::from_u32(self.kind)
                    .map_or_else(|| format!("unknown kind {}", self.kind), |k| k.to_string()),
                expected: expected_kind.to_string(),
            });
        }
        self.check_type(record)?;
        if self.total_len != mapping_len as u64 {
            return Err(ShmError::LayoutMismatch {
                field: "total_len",
                found: self.total_len,
                expected: format!("{mapping_len} (the mapping's length)"),
            });
        }
        let want = expected(self)?;
        let checks: [(&'static str, u64, u64); 8] = [
            ("capacity", self.capacity, want.capacity),
            ("elem_size", self.elem_size.into(), want.elem_size.into()),
            ("elem_align", self.elem_align.into(), want.elem_align.into()),
            ("params[0]", self.params[0], want.params[0]),
            ("params[1]", self.params[1], want.params[1]),
            ("params[2]", self.params[2], want.params[2]),
            ("params[3]", self.params[3], want.params[3]),
            ("total_len", self.total_len, want.total_len()),
        ];
        for (field, found, expected) in checks {
            if found != expected {
                return Err(ShmError::LayoutMismatch {
                    field,
                    found,
                    expected: expected.to_string(),
                });
            }
        }
        Ok(want)
    }
}
