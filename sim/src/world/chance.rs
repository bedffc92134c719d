//! Where a run's nondeterministic choices come from. There are two: the fate of each segment
//! the network carries, and the ISN of each connection whose scenario gives none. A plain run
//! draws both from the seeded `ChaCha8Rng`. A replay of a trace takes both from the trace (a
//! [`Recording`]), so it does not depend on the RNG, its stream or its draw order; a choice the
//! recording does not have (a segment or a connection the recorded run never made, which only
//! happens once a hand-edited fate changed the run) is made without randomness where possible:
//! a segment beyond the recording meets a quiet network (the scenario's partitions and rules
//! still apply; no random loss, duplication or reordering; the shortest delay), and an ISN
//! beyond it is drawn from the seed.
//!
//! Two more sources serve the exhaustive search and shrinking ([`crate::explore`]): a *plan*
//! (a fault schedule: the k-th segment the network is free to choose for takes the k-th
//! [`Planned`] fate, and a quiet delivery past its end), and *deferred* (such a segment's fate
//! is left open, and the search decides it: `World::decide`). Segments whose fate a partition or
//! a rule forces are never part of a plan or a choice. A plain run can also log its free
//! segments' fates as a plan (the starting point of shrinking a failing seed).

use crate::fasthash::FastMap;
use crate::net::choice::{forced, Planned};
use crate::net::recorded::RecordedNet;
use crate::net::{Draws, Fate, Net};
use crate::socket::{ConnId, HostId, IsnSource};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The recorded choices of a run (see `trace::fates`, which reads them from a trace).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Recording {
    /// Every segment's fate, per direction.
    pub net: RecordedNet,
    /// The ISNs that were drawn, by (host, connection).
    pub isns: FastMap<(HostId, ConnId), u32>,
}

/// Where the fates of segments the network is free to choose come from (without a recording).
#[derive(Clone, Debug)]
pub(super) enum Source {
    /// Drawn from the seed.
    Seed,
    /// From a fault schedule (then quiet), and how far it has been used.
    Plan(Vec<Planned>, usize),
    /// Left open for the search.
    Deferred,
}

/// The source of a run's choices.
#[derive(Clone, Debug)]
pub(super) struct Chance {
    pub(super) rng: ChaCha8Rng,
    recorded: Option<Recording>,
    pub(super) source: Source,
    /// The free segments' fates so far, when asked for (`World::log_fates`).
    pub(super) log: Option<Vec<Planned>>,
    /// Segments that met the quiet network because the recording had no fate for them.
    pub(super) unrecorded: u64,
}

impl Chance {
    pub(super) fn new(seed: u64, recorded: Option<Recording>) -> Chance {
        Chance {
            rng: ChaCha8Rng::seed_from_u64(seed),
            recorded,
            source: Source::Seed,
            log: None,
            unrecorded: 0,
        }
    }

    /// Takes these ISNs (a plan's or a search's run: the recording's fates are not used).
    pub(super) fn use_isns(&mut self, isns: FastMap<(HostId, ConnId), u32>) {
        self.recorded = Some(Recording {
            net: Default::default(),
            isns,
        });
    }

    /// The fate of the next segment `from → to`, sent at `now`; `None` when it is deferred to
    /// the search.
    pub(super) fn fate(
        &mut self,
        net: &mut Net,
        from: HostId,
        to: HostId,
        now: u64,
    ) -> Option<Fate> {
        if let (Some(rec), Source::Seed) = (&self.recorded, &self.source) {
            let n = net.next_nth(from, to);
            return Some(match rec.net.get(from, to, n) {
                Some(f) => f.at(now),
                None => {
                    self.unrecorded += 1;
                    let p = net.spec.params(from, to);
                    net.decide_nth(from, to, now, n, &p, Draws::quiet(&p))
                }
            });
        }
        if matches!(self.source, Source::Seed) && self.log.is_none() {
            return Some(net.decide(from, to, now, &mut self.rng));
        }
        let p = net.spec.params(from, to);
        let draws = matches!(self.source, Source::Seed).then(|| Draws::from_rng(&p, &mut self.rng));
        let n = net.next_nth(from, to);
        let forced = forced(net, from, to, now, n);
        let free = forced.is_none();
        let fate = match (&mut self.source, forced) {
            (_, Some(f)) if draws.is_none() => return Some(f),
            (Source::Seed, _) => net.decide_nth(from, to, now, n, &p, draws.expect("drawn")),
            (Source::Plan(plan, used), _) => {
                let planned = plan.get(*used).copied().unwrap_or(Planned::Quiet);
                *used += 1;
                planned.at(now, &p)
            }
            (Source::Deferred, _) => return None,
        };
        if let (Some(log), true) = (&mut self.log, free) {
            log.push(Planned::of_fate(&fate, now, &p));
        }
        Some(fate)
    }
}

impl IsnSource for Chance {
    fn draw_isn(&mut self, host: HostId, conn: ConnId) -> u32 {
        let recorded = self.recorded.as_ref();
        match recorded.and_then(|r| r.isns.get(&(host, conn))) {
            Some(&isn) => isn,
            None => self.rng.next_u32(),
        }
    }
}
