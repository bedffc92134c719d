//! The fixed-size record moved through `spsc`/`mpmc` rings in real runs: a sequence number and a
//! check word derived from it, so a consumer detects torn, stale or foreign records.

use bytemuck::{Pod, Zeroable};

/// 16 bytes: `seq` and `check = mix(seq)`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct Record {
    /// Sequence number (producer-local, or producer id in the high bits for mpmc).
    pub seq: u64,
    /// `Record::mix(seq)`.
    pub check: u64,
}

impl Record {
    /// The record for `seq`.
    #[inline(always)]
    pub fn new(seq: u64) -> Self {
        Record {
            seq,
            check: Self::mix(seq),
        }
    }

    /// Whether `check` matches `seq`.
    #[inline(always)]
    pub fn intact(&self) -> bool {
        self.check == Self::mix(self.seq)
    }

    #[inline(always)]
    fn mix(seq: u64) -> u64 {
        (seq ^ 0x5eed_5eed_5eed_5eed).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }
}
