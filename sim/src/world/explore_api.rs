//! What the explorer ([`crate::explore`]) needs of a world beyond a plain run: a deferred mode
//! where each segment the network is free to choose for waits for [`World::decide`]; a fault
//! schedule to follow instead of the seed ([`World::follow_plan`]); a log of a seeded run's
//! fates ([`World::log_fates`]); stepping one event at a time; and a hash of everything that
//! decides the rest of the run ([`World::state_hash`]), so the search explores equal states once.

use super::chance::Source;
use super::{RunResult, World};
use crate::fasthash::{FastMap, FxHasher};
use crate::net::choice::{Choice, Planned};
use crate::socket::{ConnId, HostId};
use std::fmt::Write as _;
use std::hash::Hasher;

/// Feeds formatted text to a hasher without building the string.
struct HashWriter<'h>(&'h mut FxHasher);

impl std::fmt::Write for HashWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.write(s.as_bytes());
        Ok(())
    }
}

impl World<'_> {
    /// Deferred mode: the fates the network is free to choose are left to [`World::decide`].
    pub fn defer_fates(&mut self) {
        self.chance.source = Source::Deferred;
    }

    /// Follows a fault schedule: the k-th free segment takes `plan[k]`, later ones a quiet
    /// network.
    pub fn follow_plan(&mut self, plan: Vec<Planned>) {
        self.chance.source = Source::Plan(plan, 0);
    }

    /// Takes these ISNs for the connections they name (drawn ISNs of an earlier run), instead
    /// of drawing them from the seed.
    pub fn use_isns(&mut self, isns: FastMap<(HostId, ConnId), u32>) {
        self.chance.use_isns(isns);
    }

    /// The ISNs drawn so far, by (host, connection).
    pub fn drawn_isns(&self) -> FastMap<(HostId, ConnId), u32> {
        let mut m = FastMap::default();
        for (h, host) in self.hosts.iter().enumerate() {
            for (c, conn) in host.conns.iter().enumerate() {
                if conn.iss_drawn {
                    m.insert((h, c), conn.tcb.iss());
                }
            }
        }
        m
    }

    /// Logs the free segments' fates as a plan ([`World::fate_log`]).
    pub fn log_fates(&mut self) {
        self.chance.log = Some(Vec::new());
    }

    /// The logged fates so far.
    pub fn fate_log(&self) -> &[Planned] {
        self.chance.log.as_deref().unwrap_or_default()
    }

    /// Lowers the event limit (a path of a search that storms ends early as a `limit` failure).
    pub fn limit_events(&mut self, max: u64) {
        self.max_events = max;
    }

    /// Before the first event: injections scheduled, steps started, oracles checked.
    pub fn begin(&mut self) {
        self.start();
    }

    /// Processes the next event; false when the run is over.
    pub fn advance(&mut self) -> bool {
        self.step()
    }

    /// Segments waiting for [`World::decide`].
    pub fn undecided(&self) -> usize {
        self.undecided.len()
    }

    /// Decides the oldest undecided segment's fate; returns it as a plan entry.
    pub fn decide(&mut self, choice: Choice) -> Planned {
        let u = self
            .undecided
            .pop_front()
            .expect("a segment waits for its fate");
        let p = self.net.spec.params(u.pkt.from, u.pkt.to);
        let rto = self.sc.tcp.rto_initial_ms.min(self.sc.tcp.rto_max_ms);
        let planned = choice.planned(&p, rto);
        self.meet_fate(u.pkt, u.sent, u.slots, planned.at(u.sent, &p));
        planned
    }

    /// Whether an oracle fired.
    pub fn oracle_fired(&self) -> bool {
        self.oracle_failed
    }

    /// The end-of-run checks and the result.
    pub fn end(self) -> RunResult {
        self.finish()
    }

    /// A hash of the state that decides the rest of the run: the time, the hosts (connections,
    /// buffers, listeners, trajectories), the queued events in order (their times and contents,
    /// not their insertion numbers), held-back and undecided segments, the network's counters,
    /// the steps' progress and the RNG's position. Not hashed: records of the past that only
    /// reports use (the wire record, the trace, event counts).
    pub fn state_hash(&self) -> u64 {
        let mut h = FxHasher::default();
        let mut w = HashWriter(&mut h);
        let mut held: Vec<_> = self.held.iter().collect();
        held.sort_by_key(|(k, _)| **k);
        let _ = write!(
            w,
            "{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}",
            self.now,
            self.hosts,
            self.queue.pending(),
            held,
            self.undecided,
            self.net,
            self.runners,
            self.sched,
            self.chance.rng.get_word_pos(),
        );
        h.finish()
    }
}
