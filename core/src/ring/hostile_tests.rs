//! In-process hostile-peer tests of spsc and frames, runnable under Miri
//! (`cargo +nightly miri test -p synclab-core --lib -- miri_hostile`): a deterministic
//! pseudo-random sequence (fixed seed) interleaves writes of arbitrary values into every word of
//! the control block (`tail`, `head`, both owner words, the flags, both eventcounts' `seq` and
//! waiter words) and into the buffer (frame length/tag words, records) with non-blocking API
//! calls; every call must give data or a typed error, and Miri checks that no access is out of
//! bounds or otherwise undefined. The multi-process form, with blocking calls and deadlines, is
//! `core/tests/hostile_rings.rs`.

use super::PairControl;
use crate::mem::{RealMemory, SlotCell};
use crate::ring::{Frames, RingError, Spsc};
use std::sync::atomic::Ordering::SeqCst;

/// Steps per ring: enough to hit every word many times natively, few enough for Miri.
const STEPS: usize = if cfg!(miri) { 300 } else { 20_000 };

/// xorshift64*: deterministic, seeded, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A hostile value for a word now holding `current`: extremes, near misses, or noise.
    fn value(&mut self, current: u64) -> u64 {
        match self.below(6) {
            0 => [0, u64::MAX, 1 << 62, (1 << 62) + 8, u32::MAX as u64, 16][self.below(6) as usize],
            1 | 2 => current.wrapping_add(self.below(129)).wrapping_sub(64),
            _ => self.next(),
        }
    }
}

fn ctrl(region: &crate::shm::Region) -> &PairControl<RealMemory> {
    // SAFETY: the body of a ring region starts with its initialised `PairControl` (see
    // `storage.rs`), 128-aligned, alive as long as the region.
    unsafe { region.body().cast::<PairControl<RealMemory>>().as_ref() }
}

/// Writes a hostile value into a random control-block word.
fn attack(ctrl: &PairControl<RealMemory>, rng: &mut Rng) {
    let k = rng.below(9) as usize;
    if k < 4 {
        let w = ctrl.words64()[k];
        w.store(rng.value(w.load(SeqCst)), SeqCst);
    } else {
        let w = ctrl.words32()[k - 4];
        w.store(rng.value(w.load(SeqCst) as u64) as u32, SeqCst);
    }
}

fn typed<T>(r: Result<T, RingError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(RingError::Corrupt(msg)) => {
            assert!(!msg.is_empty());
            None
        }
        Err(
            RingError::Full
            | RingError::Empty
            | RingError::Closed
            | RingError::RoleTaken(_)
            | RingError::PeerGone { .. }
            | RingError::Unsupported(_),
        ) => None,
        Err(e) => panic!("unexpected {e:?}"),
    }
}

#[test]
fn miri_hostile_spsc_fields_give_typed_errors() {
    let mut rng = Rng(0x5eed_4057);
    let ring = Spsc::<u64>::builder().capacity(4).heap_region().unwrap();
    let region = ring.region().unwrap();
    let (mut p, mut c) = (None, None);
    let mut out = [0u64; 5];
    for i in 0..STEPS as u64 {
        match rng.below(8) {
            0 | 1 => attack(ctrl(region), &mut rng),
            2 => {
                // A record: any bits are a valid u64.
                let slot = rng.below(4) as usize;
                // SAFETY: slot `slot` of 4 u64 slots, 768 bytes into the body; in bounds.
                unsafe {
                    let p = region.body().as_ptr().add(768 + 8 * slot).cast::<u64>();
                    p.write_volatile(rng.next());
                }
            }
            3 if p.is_none() => p = typed(ring.producer()),
            4 if c.is_none() => c = typed(ring.consumer()),
            3 | 5 => {
                if let Some(p) = p.as_mut() {
                    typed(p.try_push(i));
                    let n = typed(p.push_slice(&[i; 3])).unwrap_or(0);
                    assert!(n <= 3);
                }
            }
            _ => {
                if let Some(c) = c.as_mut() {
                    typed(c.try_pop());
                    let n = typed(c.pop_slice(&mut out)).unwrap_or(0);
                    assert!(n <= out.len());
                }
            }
        }
    }
}

#[test]
fn miri_hostile_frames_fields_give_typed_errors() {
    let mut rng = Rng(0x5eed_f4a3);
    let ring = Frames::builder().capacity(64).heap_region().unwrap();
    let max = ring.max_message();
    let (mut p, mut c) = (None, None);
    let mut buf = Vec::new();
    for _ in 0..STEPS {
        match rng.below(8) {
            0 | 1 => attack(ctrl(ring.region().unwrap()), &mut rng),
            2 => {
                // A frame length or tag word.
                let at = 4 * rng.below(16) as usize;
                let v = (rng.value(0) as u32).to_le_bytes();
                for (cell, b) in ring.cells()[at..at + 4].iter().zip(v) {
                    // SAFETY: single-threaded test: no access to the cell is in progress.
                    unsafe { cell.write(b) };
                }
            }
            3 if p.is_none() => p = typed(ring.producer()),
            4 if c.is_none() => c = typed(ring.consumer()),
            3 | 5 => {
                if let Some(p) = p.as_mut() {
                    let len = rng.below(max as u64 + 4) as usize;
                    match p.try_send(&vec![7; len]) {
                        Err(RingError::Oversize { .. }) => assert!(len > max),
                        r => drop(typed(r)),
                    }
                    if let Some(mut g) = typed(p.try_reserve(len.min(max))) {
                        g.fill(1);
                    }
                }
            }
            _ => {
                if let Some(c) = c.as_mut() {
                    if let Some(n) = typed(c.try_recv_into(&mut buf)) {
                        assert!(n <= max && n == buf.len());
                    }
                    if let Some(n) = typed(c.try_read(|b| b.len())) {
                        assert!(n <= max);
                    }
                }
            }
        }
    }
}
