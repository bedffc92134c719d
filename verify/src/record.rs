//! The fixed-size record moved through `spsc`/`mpmc` rings in real runs and benches: a sequence
//! number and a check word derived from it, so a consumer detects torn, stale or foreign
//! records; and [`SequenceCheck`], the consumer's tally. Below both `workers` and `bench`, which
//! import it.

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

/// Tally of what a consumer saw against the sequence `0, 1, 2, …` it expects.
#[derive(Default, Debug, Clone, Copy)]
pub struct SequenceCheck {
    next: u64,
    pub(crate) received: u64,
    out_of_order: u64,
    corrupt: u64,
    max_seen: Option<u64>,
    seen_twice: u64,
}

impl SequenceCheck {
    /// Records one message carrying `seq` (and whether its payload was intact).
    pub fn see(&mut self, seq: u64, intact: bool) {
        self.received += 1;
        if !intact {
            self.corrupt += 1;
        }
        if seq != self.next {
            self.out_of_order += 1;
        }
        if self.max_seen.is_some_and(|m| seq <= m) {
            self.seen_twice += 1;
        }
        self.max_seen = Some(self.max_seen.map_or(seq, |m| m.max(seq)));
        self.next = seq.wrapping_add(1);
    }

    /// Whether exactly the `expected` messages `0..expected` arrived, in order and intact.
    pub fn ok(&self, expected: u64) -> bool {
        self.received == expected
            && self.out_of_order == 0
            && self.corrupt == 0
            && self.seen_twice == 0
    }

    /// The report fields: received, lost, duplicated, out_of_order, corrupt, ok.
    pub fn json(&self, expected: u64) -> serde_json::Value {
        let lost = expected.saturating_sub(self.received - self.seen_twice);
        let ok = self.ok(expected);
        serde_json::json!({
            "received": self.received,
            "lost": lost,
            "duplicated": self.seen_twice,
            "out_of_order": self.out_of_order,
            "corrupt": self.corrupt,
            "ok": ok,
        })
    }
}
