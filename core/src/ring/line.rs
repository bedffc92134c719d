//! `Line<T>`: a value alone on its own 128-byte line (two 64-byte cache lines, because adjacent-line
//! prefetchers on x86 pull pairs), so indices written by different sides never share a line.

use std::ops::Deref;

/// `T` padded and aligned to 128 bytes (`#[repr(C)]`, so it can live in a shared region).
#[repr(C, align(128))]
pub struct Line<T>(pub T);

impl<T> Deref for Line<T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        &self.0
    }
}
