//! The network's choices as values, for the exhaustive search and for shrinking: a [`Choice`]
//! is one of the search's options for one segment (late delivery stands for a timer fired
//! before it), a [`Planned`] fate is a fate relative to the
//! send time (what a fault schedule stores). Segments whose fate the scenario forces (a
//! partition, a `[[net.rule]]`) are not choices: [`forced`] says which.

use super::{Fate, LinkParams, Loss, Net};
use crate::socket::HostId;

/// One option of the exhaustive search for one segment in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Choice {
    /// Delivered after the shortest delay.
    Deliver,
    /// Lost.
    Drop,
    /// Delivered, and a copy 1 ms later.
    Duplicate,
    /// Held back behind the next segment of its direction (released at the latest
    /// `2 × delay_max + 10` ms after it would have arrived, as the random network does).
    Reorder,
    /// Delivered late: after its sender's first retransmission timeout has fired and the
    /// retransmission arrived (the search's way to fire a timer before a delivery).
    Late,
}

impl Choice {
    /// Every option, in the order the search tries them.
    pub const ALL: [Choice; 5] = [
        Choice::Deliver,
        Choice::Drop,
        Choice::Duplicate,
        Choice::Reorder,
        Choice::Late,
    ];

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Choice::Deliver => "deliver",
            Choice::Drop => "drop",
            Choice::Duplicate => "duplicate",
            Choice::Reorder => "reorder",
            Choice::Late => "late",
        }
    }

    /// As a fate relative to the send time, on a direction with parameters `p`, where the
    /// sender's first retransmission timeout is `rto_ms`.
    pub fn planned(self, p: &LinkParams, rto_ms: u64) -> Planned {
        match self {
            Choice::Deliver => Planned::Quiet,
            Choice::Drop => Planned::Lost,
            Choice::Duplicate => Planned::Delivered {
                delay: p.delay_min,
                dup_delay: Some(p.delay_min + 1),
            },
            Choice::Reorder => Planned::Held {
                delay: p.delay_min,
                release_delay: p.delay_min + 2 * p.delay_max + 10,
            },
            Choice::Late => Planned::Delivered {
                delay: rto_ms + p.delay_max + 1,
                dup_delay: None,
            },
        }
    }
}

/// A segment's fate relative to its send time: one entry of a fault schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Planned {
    /// No fault: delivered after the direction's shortest delay.
    Quiet,
    /// Lost.
    Lost,
    /// Delivered `delay` ms after sending (and a copy `dup_delay` ms after).
    Delivered { delay: u64, dup_delay: Option<u64> },
    /// Held back; arrives `delay` ms after sending if not held, released by `release_delay`.
    Held { delay: u64, release_delay: u64 },
}

impl Planned {
    /// The absolute fate of a segment sent at `now` on a direction with parameters `p`.
    pub fn at(self, now: u64, p: &LinkParams) -> Fate {
        match self {
            Planned::Quiet => Fate::Delivered {
                at: now + p.delay_min,
                dup_at: None,
            },
            Planned::Lost => Fate::Lost(Loss::Random),
            Planned::Delivered { delay, dup_delay } => Fate::Delivered {
                at: now + delay,
                dup_at: dup_delay.map(|d| now + d),
            },
            Planned::Held {
                delay,
                release_delay,
            } => Fate::Held {
                at: now + delay,
                release_at: now + release_delay,
            },
        }
    }

    /// The fate `f` of a segment sent at `now`, made relative (a quiet delivery is `Quiet`).
    pub fn of_fate(f: &Fate, now: u64, p: &LinkParams) -> Planned {
        match *f {
            Fate::Lost(_) => Planned::Lost,
            Fate::Delivered { at, dup_at: None } if at == now + p.delay_min => Planned::Quiet,
            Fate::Delivered { at, dup_at } => Planned::Delivered {
                delay: at - now,
                dup_delay: dup_at.map(|d| d - now),
            },
            Fate::Held { at, release_at } => Planned::Held {
                delay: at - now,
                release_delay: release_at - now,
            },
        }
    }

    /// Whether this is a fault (anything but a quiet delivery).
    pub fn is_fault(self) -> bool {
        self != Planned::Quiet
    }

    /// A short name for reports.
    pub fn name(self) -> String {
        match self {
            Planned::Quiet => "deliver".into(),
            Planned::Lost => "drop".into(),
            Planned::Delivered {
                delay,
                dup_delay: None,
            } => format!("delay {delay} ms"),
            Planned::Delivered {
                delay,
                dup_delay: Some(d),
            } => format!("duplicate ({delay} ms, copy {d} ms)"),
            Planned::Held { release_delay, .. } => {
                format!("reorder (held back, released by {release_delay} ms)")
            }
        }
    }
}

/// The fate the scenario forces on the `n`-th segment `from → to` sent at `now` (a partition or
/// a rule), or `None` when the network is free to choose.
pub fn forced(net: &Net, from: HostId, to: HostId, now: u64, n: u64) -> Option<Fate> {
    let p = net.spec.params(from, to);
    let quiet = net.decide_nth(from, to, now, n, &p, super::Draws::quiet(&p));
    (quiet != Planned::Quiet.at(now, &p)).then_some(quiet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_round_trip_through_fates() {
        let p = LinkParams {
            delay_min: 2,
            delay_max: 5,
            ..Default::default()
        };
        for c in Choice::ALL {
            let planned = c.planned(&p, 1000);
            assert_eq!(Planned::of_fate(&planned.at(100, &p), 100, &p), planned);
        }
        assert!(!Choice::Deliver.planned(&p, 1000).is_fault());
        assert!(Choice::Drop.planned(&p, 1000).is_fault());
    }
}
