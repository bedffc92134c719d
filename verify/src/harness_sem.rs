//! A semaphore plus spare shared words for the harness: occupancy counters and "ready" flags a
//! peer can futex-wait on. The words live in a byte region of their own beside the semaphore
//! (named after it, `<name>.aux`), so core's semaphore format carries no harness state.

use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::atomic::AtomicU64;
use synclab_core::shm::{Region, RegionKind, RegionLayout, ShmError, ShmName};
use synclab_core::{Builder, Semaphore};

/// Number of spare words.
pub const AUX_WORDS: usize = 8;
/// `params[3]` of the words' byte region: "synclab semaphore aux words".
const TAG: u64 = u64::from_le_bytes(*b"SEMAUX01");

fn layout() -> RegionLayout {
    RegionLayout {
        kind: RegionKind::Bytes,
        capacity: AUX_WORDS as u64,
        elem_size: 8,
        elem_align: 8,
        params: [0, 0, 0, TAG],
        body_len: (AUX_WORDS * 8) as u64,
    }
}

/// The name of the words' region for the semaphore `name`.
fn words_name(name: &ShmName) -> Result<ShmName, ShmError> {
    ShmName::new(&format!("{name}.aux"))
}

/// A semaphore and its spare words (see the module docs). Derefs to the semaphore.
#[derive(Debug)]
pub struct HarnessSem {
    sem: Semaphore,
    words: Region,
}

impl HarnessSem {
    /// Creates the semaphore `name` with `builder` and its words (zero).
    pub fn create(builder: &Builder<Semaphore>, name: &ShmName) -> Result<Self, String> {
        let sem = builder.create(name).map_err(|e| e.to_string())?;
        let words = Region::create_named(
            &words_name(name).map_err(|e| e.to_string())?,
            &layout(),
            |_, _| {},
        )
        .map_err(|e| e.to_string())?;
        Ok(HarnessSem { sem, words })
    }

    /// Opens the semaphore `name` and its words.
    pub fn open(name: &ShmName) -> Result<Self, String> {
        let sem = Semaphore::builder().open(name).map_err(|e| e.to_string())?;
        let words = Region::open_named(
            &words_name(name).map_err(|e| e.to_string())?,
            RegionKind::Bytes,
            |_| Ok(layout()),
        )
        .map_err(|e| e.to_string())?;
        Ok(HarnessSem { sem, words })
    }

    /// Spare word `i < AUX_WORDS`, zero at creation.
    pub fn aux(&self, i: usize) -> Option<&AtomicU64> {
        if i >= AUX_WORDS {
            return None;
        }
        let base: NonNull<u8> = self.words.body();
        // SAFETY: the body holds AUX_WORDS 8-byte words (its layout was validated on open, or
        // made by us), 128-aligned, alive as long as `self.words`; AtomicU64 has u64's layout and
        // every bit pattern is valid.
        Some(unsafe { &*base.as_ptr().cast::<AtomicU64>().add(i) })
    }
}

impl Deref for HarnessSem {
    type Target = Semaphore;
    fn deref(&self) -> &Semaphore {
        &self.sem
    }
}
