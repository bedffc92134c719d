//! A recorded network: the fate of every segment of a trace, per direction in sending order, so
//! a replay takes each fate from the recording instead of from the seed. The `n`-th segment a
//! host sends to another takes the `n`-th recorded fate of that direction (the counting of
//! `[[net.rule]]`), shifted to its own send time: a fate recorded as "sent at 5, arrives at 7"
//! means "arrives 2 ms after it is sent", which is the same thing when the replay sends it at 5.

use super::Fate;
use crate::fasthash::FastMap;
use crate::socket::HostId;

/// One segment's recorded fate and when it was sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedFate {
    pub sent_at: u64,
    /// Its times are absolute, as recorded; none is before `sent_at`.
    pub fate: Fate,
}

impl RecordedFate {
    /// The fate of a segment sent at `now`: the recorded one, moved by `now - sent_at`. A time
    /// past the end of virtual time stays at its end (a hand-edited `arrive` near `u64::MAX`,
    /// sent later than recorded, must not overflow).
    pub fn at(&self, now: u64) -> Fate {
        let shift = |t: u64| now.saturating_add(t - self.sent_at);
        match self.fate {
            Fate::Lost(why) => Fate::Lost(why),
            Fate::Delivered { at, dup_at } => Fate::Delivered {
                at: shift(at),
                dup_at: dup_at.map(shift),
            },
            Fate::Held { at, release_at } => Fate::Held {
                at: shift(at),
                release_at: shift(release_at),
            },
        }
    }
}

/// Every recorded fate, by direction.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecordedNet {
    fates: FastMap<(HostId, HostId), Vec<RecordedFate>>,
}

impl RecordedNet {
    /// Appends the next fate of direction `from → to`. Its times must not precede `sent_at`.
    pub fn push(&mut self, from: HostId, to: HostId, f: RecordedFate) {
        let ok = match f.fate {
            Fate::Lost(_) => true,
            Fate::Delivered { at, dup_at } => {
                at >= f.sent_at && dup_at.is_none_or(|d| d >= f.sent_at)
            }
            Fate::Held { at, release_at } => at >= f.sent_at && release_at >= at,
        };
        assert!(ok, "a recorded fate before its send time: {f:?}");
        self.fates.entry((from, to)).or_default().push(f);
    }

    /// The fate of the `n`-th segment (from 1) `from → to`, if recorded.
    pub fn get(&self, from: HostId, to: HostId, n: u64) -> Option<&RecordedFate> {
        let i = usize::try_from(n.checked_sub(1)?).ok()?;
        self.fates.get(&(from, to))?.get(i)
    }

    /// How many fates are recorded.
    pub fn len(&self) -> usize {
        self.fates.values().map(Vec::len).sum()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Loss;

    #[test]
    fn fates_are_per_direction_in_order_and_shift_to_the_send_time() {
        let mut r = RecordedNet::default();
        let delivered = RecordedFate {
            sent_at: 5,
            fate: Fate::Delivered {
                at: 7,
                dup_at: Some(9),
            },
        };
        r.push(0, 1, delivered.clone());
        r.push(
            0,
            1,
            RecordedFate {
                sent_at: 6,
                fate: Fate::Lost(Loss::Rule),
            },
        );
        assert_eq!(r.get(0, 1, 1), Some(&delivered));
        assert_eq!(
            r.get(0, 1, 2).map(|f| f.at(100)),
            Some(Fate::Lost(Loss::Rule))
        );
        assert_eq!(r.get(0, 1, 3), None);
        assert_eq!(r.get(0, 1, 0), None);
        assert_eq!(r.get(1, 0, 1), None);
        assert_eq!(
            delivered.at(5),
            Fate::Delivered {
                at: 7,
                dup_at: Some(9)
            }
        );
        assert_eq!(
            delivered.at(100),
            Fate::Delivered {
                at: 102,
                dup_at: Some(104)
            }
        );
        assert_eq!(r.len(), 2);
    }

    #[test]
    fn a_fate_at_the_end_of_time_sent_later_stays_there() {
        let far = RecordedFate {
            sent_at: 7,
            fate: Fate::Delivered {
                at: u64::MAX,
                dup_at: Some(u64::MAX - 1),
            },
        };
        assert_eq!(
            far.at(1000),
            Fate::Delivered {
                at: u64::MAX,
                dup_at: Some(u64::MAX)
            }
        );
        let held = RecordedFate {
            sent_at: 0,
            fate: Fate::Held {
                at: 5,
                release_at: u64::MAX,
            },
        };
        assert_eq!(
            held.at(3),
            Fate::Held {
                at: 8,
                release_at: u64::MAX
            }
        );
    }
}
