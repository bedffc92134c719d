//! The record type a region holds, recorded in its header so `open` refuses a region made for
//! another type (`Spsc::<f64>` opening a ring of `u64`s) with an error naming both.
//!
//! The fingerprint is the type's name (`core::any::type_name`), size and alignment, hashed with
//! FNV-1a. Caveat: `type_name` is not guaranteed stable between compiler versions (or even
//! builds), so two programs built by different toolchains may disagree on the name of the same
//! type and then refuse each other's regions; build the processes that share a region with one
//! toolchain. Raw byte objects (frames, semaphores, byte regions) opt out (hash 0).

use std::fmt;

/// Name, size, alignment and hash of a record type (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypeFingerprint {
    /// `core::any::type_name` of the type ("" when opted out).
    pub name: &'static str,
    /// `size_of`.
    pub size: u32,
    /// `align_of`.
    pub align: u32,
    /// FNV-1a of name, size and alignment; 0 = opted out (never checked).
    pub hash: u64,
}

impl TypeFingerprint {
    /// The fingerprint of `T`.
    pub fn of<T: 'static>() -> Self {
        let name = std::any::type_name::<T>();
        let (size, align) = (std::mem::size_of::<T>(), std::mem::align_of::<T>());
        let mut hash = 0xcbf2_9ce4_8422_2325_u64;
        for b in name
            .bytes()
            .chain((size as u64).to_le_bytes())
            .chain((align as u64).to_le_bytes())
        {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        TypeFingerprint {
            name,
            size: size as u32,
            align: align as u32,
            // 0 means "opted out"; a real hash of 0 is remapped.
            hash: hash.max(1),
        }
    }

    /// No record type: nothing is checked (byte frames, semaphores, byte regions).
    pub const NONE: TypeFingerprint = TypeFingerprint {
        name: "",
        size: 0,
        align: 1,
        hash: 0,
    };

    /// The name as stored in a header: the first 32 bytes, zero-padded.
    pub(crate) fn name_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        let n = self.name.len().min(32);
        out[..n].copy_from_slice(&self.name.as_bytes()[..n]);
        out
    }
}

impl fmt::Display for TypeFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} bytes, align {})",
            self.name, self.size, self.align
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_size_types_differ() {
        assert_ne!(
            TypeFingerprint::of::<u64>().hash,
            TypeFingerprint::of::<f64>().hash
        );
        assert_eq!(TypeFingerprint::of::<u64>(), TypeFingerprint::of::<u64>());
    }
}
