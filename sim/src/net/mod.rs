//! `sim::net`: the links between hosts and their faults. Every direction of every link has its
//! parameters (one-way delay range, loss, duplication, reordering), partitions drop segments
//! over time windows, and per-segment rules drop, duplicate or delay the n-th segment of a
//! direction. Random choices draw from the world's one RNG, always the same five draws per
//! segment in the same order, so a seed fixes every fate; or, in a replay, every fate comes
//! from the trace ([`recorded`]), or from a search or a fault schedule ([`choice`]).

pub mod choice;
pub mod recorded;

use crate::fasthash::FastMap;
use crate::socket::HostId;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Parameters of one direction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkParams {
    pub delay_min: u64,
    pub delay_max: u64,
    pub loss: f64,
    pub duplicate: f64,
    pub reorder: f64,
}

impl Default for LinkParams {
    fn default() -> Self {
        LinkParams {
            delay_min: 1,
            delay_max: 1,
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
        }
    }
}

/// A per-direction override (`[[net.link]]`): only the keys written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinkOverride {
    pub from: HostId,
    pub to: HostId,
    pub delay: Option<(u64, u64)>,
    pub loss: Option<f64>,
    pub duplicate: Option<f64>,
    pub reorder: Option<f64>,
}

/// Segments between two hosts sent in `[from_ms, until_ms)` are dropped.
#[derive(Clone, Debug, PartialEq)]
pub struct Partition {
    pub a: HostId,
    pub b: HostId,
    pub from_ms: u64,
    pub until_ms: Option<u64>,
}

/// What a rule does to its segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleAction {
    Drop,
    /// Deliver twice; the copy `extra_ms` later than the original (an optional addition to the
    /// format: `extra_ms` on a "duplicate" rule delays the copy, so it arrives out of order).
    Duplicate(u64),
    Delay(u64),
}

/// The `nth` segment `from` sends `to` (counted from 1) gets `action`.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub from: HostId,
    pub to: HostId,
    pub nth: u64,
    pub action: RuleAction,
}

/// The network of a scenario.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NetSpec {
    pub default: LinkParams,
    pub links: Vec<LinkOverride>,
    pub partitions: Vec<Partition>,
    pub rules: Vec<Rule>,
}

impl NetSpec {
    /// The parameters of the direction `from → to`.
    pub fn params(&self, from: HostId, to: HostId) -> LinkParams {
        let mut p = self.default;
        for o in self.links.iter().filter(|o| o.from == from && o.to == to) {
            if let Some((a, b)) = o.delay {
                p.delay_min = a;
                p.delay_max = b;
            }
            p.loss = o.loss.unwrap_or(p.loss);
            p.duplicate = o.duplicate.unwrap_or(p.duplicate);
            p.reorder = o.reorder.unwrap_or(p.reorder);
        }
        p
    }

    fn partitioned(&self, from: HostId, to: HostId, now: u64) -> bool {
        self.partitions.iter().any(|p| {
            ((p.a == from && p.b == to) || (p.a == to && p.b == from))
                && now >= p.from_ms
                && p.until_ms.is_none_or(|u| now < u)
        })
    }
}

/// Why a segment was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    Random,
    Partition,
    Rule,
}

impl Loss {
    /// Its name in traces.
    pub fn name(self) -> &'static str {
        match self {
            Loss::Random => "loss",
            Loss::Partition => "partition",
            Loss::Rule => "rule",
        }
    }
}

/// What the network does with one segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Dropped.
    Lost(Loss),
    /// Delivered at `at` (and a second copy at `dup_at`).
    Delivered { at: u64, dup_at: Option<u64> },
    /// Held back behind the next segment of its direction (released at `release_at` at the
    /// latest).
    Held { at: u64, release_at: u64 },
}

/// The running network: per-direction counters and held-back segments.
#[derive(Clone, Debug)]
pub struct Net {
    pub spec: NetSpec,
    counts: FastMap<(HostId, HostId), u64>,
}

impl Net {
    /// A network with these parameters.
    pub fn new(spec: NetSpec) -> Net {
        Net {
            spec,
            counts: FastMap::default(),
        }
    }

    /// Decides the fate of the next segment `from → to` sent at `now`. Always draws five values
    /// (loss, duplicate, reorder, delay, duplicate's delay), in that order.
    pub fn decide(&mut self, from: HostId, to: HostId, now: u64, rng: &mut ChaCha8Rng) -> Fate {
        let p = self.spec.params(from, to);
        let d = Draws::from_rng(&p, rng);
        let n = self.next_nth(from, to);
        self.decide_nth(from, to, now, n, &p, d)
    }

    /// Counts one more segment `from → to` and returns its number in that direction (from 1),
    /// the `nth` of `[[net.rule]]`.
    pub fn next_nth(&mut self, from: HostId, to: HostId) -> u64 {
        let c = self.counts.entry((from, to)).or_insert(0);
        *c += 1;
        *c
    }

    /// The fate of the `n`-th segment `from → to`, sent at `now`, given its direction's
    /// parameters `p` and the random values `d`: a partition drops it, then its rule decides,
    /// then the draws.
    pub fn decide_nth(
        &self,
        from: HostId,
        to: HostId,
        now: u64,
        n: u64,
        p: &LinkParams,
        d: Draws,
    ) -> Fate {
        let rule = self
            .spec
            .rules
            .iter()
            .find(|r| r.from == from && r.to == to && r.nth == n)
            .map(|r| r.action);
        if self.spec.partitioned(from, to, now) {
            return Fate::Lost(Loss::Partition);
        }
        let mut extra = 0;
        let mut dup = d.u_dup < p.duplicate;
        let mut dup_extra = 0;
        match rule {
            Some(RuleAction::Drop) => return Fate::Lost(Loss::Rule),
            Some(RuleAction::Duplicate(ms)) => {
                dup = true;
                dup_extra = ms;
            }
            Some(RuleAction::Delay(ms)) => extra = ms,
            None => {}
        }
        if rule.is_none() && d.u_loss < p.loss {
            return Fate::Lost(Loss::Random);
        }
        let at = now + d.delay + extra;
        if rule.is_none() && d.u_reorder < p.reorder {
            return Fate::Held {
                at,
                release_at: at + 2 * p.delay_max + 10,
            };
        }
        Fate::Delivered {
            at,
            dup_at: dup.then_some(now + d.dup_delay + extra + dup_extra),
        }
    }
}

/// The random values behind one segment's fate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Draws {
    /// Lost if below the loss probability.
    pub u_loss: f64,
    /// Duplicated if below the duplication probability.
    pub u_dup: f64,
    /// Held back if below the reordering probability.
    pub u_reorder: f64,
    /// One-way delay, ms.
    pub delay: u64,
    /// The duplicate's one-way delay, ms.
    pub dup_delay: u64,
}

impl Draws {
    /// Five draws from the seed, in this order: loss, duplicate, reorder, delay, duplicate's delay.
    pub fn from_rng(p: &LinkParams, rng: &mut ChaCha8Rng) -> Draws {
        Draws {
            u_loss: rng.gen(),
            u_dup: rng.gen(),
            u_reorder: rng.gen(),
            delay: rng.gen_range(p.delay_min..=p.delay_max),
            dup_delay: rng.gen_range(p.delay_min..=p.delay_max),
        }
    }

    /// A quiet network: no random loss, duplication or reordering, the shortest delay.
    pub fn quiet(p: &LinkParams) -> Draws {
        Draws {
            u_loss: 1.0,
            u_dup: 1.0,
            u_reorder: 1.0,
            delay: p.delay_min,
            dup_delay: p.delay_min,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn rules_partitions_and_overrides() {
        let spec = NetSpec {
            default: LinkParams::default(),
            links: vec![LinkOverride {
                from: 0,
                to: 1,
                delay: Some((5, 5)),
                ..Default::default()
            }],
            partitions: vec![Partition {
                a: 1,
                b: 0,
                from_ms: 10,
                until_ms: Some(20),
            }],
            rules: vec![Rule {
                from: 0,
                to: 1,
                nth: 2,
                action: RuleAction::Drop,
            }],
        };
        let mut net = Net::new(spec);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(
            net.decide(0, 1, 0, &mut rng),
            Fate::Delivered {
                at: 5,
                dup_at: None
            }
        );
        assert_eq!(net.decide(0, 1, 0, &mut rng), Fate::Lost(Loss::Rule));
        assert_eq!(net.decide(0, 1, 10, &mut rng), Fate::Lost(Loss::Partition));
        assert_eq!(
            net.decide(1, 0, 20, &mut rng),
            Fate::Delivered {
                at: 21,
                dup_at: None
            }
        );
    }
}
