//! Where a run's nondeterministic choices come from. There are two: the fate of each segment
//! the network carries, and the ISN of each connection whose scenario gives none. A plain run
//! draws both from the seeded `ChaCha8Rng`. A replay of a trace takes both from the trace (a
//! [`Recording`]), so it does not depend on the RNG, its stream or its draw order; a choice the
//! recording does not have (a segment or a connection the recorded run never made, which only
//! happens once a hand-edited fate changed the run) is made without randomness where possible:
//! a segment beyond the recording meets a quiet network (the scenario's partitions and rules
//! still apply; no random loss, duplication or reordering; the shortest delay), and an ISN
//! beyond it is drawn from the seed.

use crate::fasthash::FastMap;
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

/// The source of a run's choices.
pub(super) struct Chance {
    rng: ChaCha8Rng,
    recorded: Option<Recording>,
    /// Segments that met the quiet network because the recording had no fate for them.
    pub(super) unrecorded: u64,
}

impl Chance {
    pub(super) fn new(seed: u64, recorded: Option<Recording>) -> Chance {
        Chance {
            rng: ChaCha8Rng::seed_from_u64(seed),
            recorded,
            unrecorded: 0,
        }
    }

    /// The fate of the next segment `from → to`, sent at `now`.
    pub(super) fn fate(&mut self, net: &mut Net, from: HostId, to: HostId, now: u64) -> Fate {
        let Some(rec) = &self.recorded else {
            return net.decide(from, to, now, &mut self.rng);
        };
        let n = net.next_nth(from, to);
        match rec.net.get(from, to, n) {
            Some(f) => f.at(now),
            None => {
                self.unrecorded += 1;
                let p = net.spec.params(from, to);
                net.decide_nth(from, to, now, n, &p, Draws::quiet(&p))
            }
        }
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
