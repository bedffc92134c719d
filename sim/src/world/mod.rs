//! `sim::world`: virtual time, the event queue, the hosts, the network and the one seeded RNG.
//! [`World::run`] pops events in `(time, insertion)` order, feeds each to its host, sends what
//! comes out through the network, advances the hosts' scenario steps, and runs the oracles after
//! every event. Nothing here reads a clock or draws randomness except from the seeded
//! `ChaCha8Rng`, so a scenario and a seed give one run and one trace; a replay takes those
//! choices from a trace instead ([`Recording`]).
//!
//! - `chance.rs`: where the choices come from (the seed, or a recording);
//! - `queue.rs`: the event queue;
//! - `steps.rs`: the scenario steps each host runs, in file order, blocking calls polled;
//! - this file: the loop, segment transmission and delivery, timers, oracles.

mod chance;
mod explore_api;
mod queue;
mod steps;

pub use chance::Recording;

use crate::fasthash::FastMap;
use crate::net::{Fate, Net, NetSpec};
use crate::oracle::expect::{self, WireRec};
use crate::oracle::protocol::{self, Cause};
use crate::oracle::{invariants, Failure};
use crate::scenario::Scenario;
use crate::socket::{ConnId, Host, HostId, HostOut, Note};
use crate::tcp::{Mutant, Segment, State};
use chance::Chance;
use queue::{Ev, Packet, Queue};
use serde_json::{json, Value};
use steps::Runner;

/// Bounded everything: a run stops (and fails) after this many events.
pub const MAX_EVENTS: u64 = 20_000_000;

/// Command-line overrides of the scenario's `[net]` (they replace the defaults and every
/// per-link value of the same key).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct NetOverride {
    pub loss: Option<f64>,
    pub duplicate: Option<f64>,
    pub reorder: Option<f64>,
    pub delay: Option<(u64, u64)>,
}

impl NetOverride {
    /// Whether nothing is overridden.
    pub fn is_empty(&self) -> bool {
        *self == NetOverride::default()
    }

    /// As JSON (in a trace's header).
    pub fn to_json(&self) -> Value {
        let mut v = json!({});
        if let Some(x) = self.loss {
            v["loss"] = json!(x);
        }
        if let Some(x) = self.duplicate {
            v["duplicate"] = json!(x);
        }
        if let Some(x) = self.reorder {
            v["reorder"] = json!(x);
        }
        if let Some((a, b)) = self.delay {
            v["delay_ms"] = json!([a, b]);
        }
        v
    }

    /// Applies to a network spec.
    pub fn apply(&self, spec: &mut NetSpec) {
        if let Some(x) = self.loss {
            spec.default.loss = x;
            spec.links.iter_mut().for_each(|l| l.loss = None);
        }
        if let Some(x) = self.duplicate {
            spec.default.duplicate = x;
            spec.links.iter_mut().for_each(|l| l.duplicate = None);
        }
        if let Some(x) = self.reorder {
            spec.default.reorder = x;
            spec.links.iter_mut().for_each(|l| l.reorder = None);
        }
        if let Some((a, b)) = self.delay {
            spec.default.delay_min = a;
            spec.default.delay_max = b;
            spec.links.iter_mut().for_each(|l| l.delay = None);
        }
    }
}

/// How to run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub seed: u64,
    pub net: NetOverride,
    /// Record the JSON Lines trace.
    pub trace: bool,
    /// Take segment fates and drawn ISNs from this recording instead of the seed (replay).
    pub recorded: Option<Recording>,
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct RunResult {
    pub scenario: String,
    pub seed: u64,
    pub ok: bool,
    /// Segments the hosts' TCPs sent.
    pub segments: u64,
    /// Of those, dropped by the network.
    pub lost: u64,
    /// Events processed (arrivals, timers, injections).
    pub events: u64,
    pub virtual_ms: u64,
    pub failures: Vec<Failure>,
    /// The trace, one JSON object a line, if asked for.
    pub trace: Option<Vec<String>>,
    /// With a recording: segments it had no fate for (they met a quiet network).
    pub unrecorded: u64,
}

impl RunResult {
    /// The `--json` object of `synclab sim run`.
    pub fn to_json(&self) -> Value {
        json!({
            "ok": self.ok,
            "scenario": self.scenario,
            "seed": self.seed,
            "segments": self.segments,
            "lost": self.lost,
            "events": self.events,
            "virtual_ms": self.virtual_ms,
            "failures": self.failures.iter().map(Failure::to_json).collect::<Vec<_>>(),
        })
    }

    /// Whether an oracle fired (as opposed to an expectation failing).
    pub fn oracle_fired(&self) -> bool {
        self.failures.iter().any(Failure::is_oracle)
    }
}

/// A running simulation of one scenario.
#[derive(Clone)]
pub struct World<'s> {
    sc: &'s Scenario,
    seed: u64,
    now: u64,
    chance: Chance,
    queue: Queue,
    hosts: Vec<Host>,
    net: Net,
    runners: Vec<Runner>,
    sched: Vec<Vec<Option<u64>>>,
    held: FastMap<(HostId, HostId), (u64, Packet, u64)>,
    next_id: u64,
    wire: Vec<WireRec>,
    lost: u64,
    trace: Option<Vec<String>>,
    failures: Vec<Failure>,
    oracle_failed: bool,
    events: u64,
    /// When the last event that did something happened (stale timers do not count).
    last_t: u64,
    spare: HostOut,
    /// Stopped at `duration_ms` or the event limit, not at quiescence.
    cut: bool,
    /// The event limit ([`MAX_EVENTS`] unless an explorer lowers it).
    max_events: u64,
    /// Segments sent whose fate the search has yet to decide (deferred mode), oldest first.
    undecided: std::collections::VecDeque<Undecided>,
}

/// A segment sent in deferred mode, waiting for its fate.
#[derive(Clone, Debug)]
struct Undecided {
    pkt: Packet,
    sent: u64,
    /// The insertion numbers reserved for the events its fate schedules.
    slots: u64,
}

/// Insertion numbers a segment's fate may use: delivery, duplicate, a released held segment.
const FATE_SLOTS: u64 = 3;

/// Runs a scenario once.
pub fn run(sc: &Scenario, opts: &RunOptions) -> RunResult {
    World::new(sc, opts).run()
}

impl<'s> World<'s> {
    /// Sets up hosts, network, steps and the RNG.
    pub fn new(sc: &'s Scenario, opts: &RunOptions) -> World<'s> {
        let mut spec = sc.net.clone();
        opts.net.apply(&mut spec);
        let hosts: Vec<Host> = sc
            .hosts
            .iter()
            .enumerate()
            .map(|(i, h)| Host::new(&h.name, i, sc.tcp, h.isn.clone()))
            .collect();
        let runners = (0..hosts.len())
            .map(|h| {
                Runner::new(
                    sc.steps
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| s.host == h)
                        .map(|(i, _)| i),
                )
            })
            .collect();
        let mut w = World {
            sc,
            seed: opts.seed,
            now: 0,
            chance: Chance::new(opts.seed, opts.recorded.clone()),
            queue: Queue::default(),
            sched: vec![Vec::new(); hosts.len()],
            hosts,
            net: Net::new(spec),
            runners,
            held: FastMap::default(),
            next_id: 1,
            wire: Vec::new(),
            lost: 0,
            trace: opts.trace.then(Vec::new),
            failures: Vec::new(),
            oracle_failed: false,
            events: 0,
            last_t: 0,
            spare: HostOut::default(),
            cut: false,
            max_events: MAX_EVENTS,
            undecided: Default::default(),
        };
        w.record(|| {
            let mut v = json!({
                "ev": "meta",
                "synclab_trace": 1,
                "scenario": sc.name,
                "file": sc.file,
                "seed": opts.seed,
                "override": opts.net.to_json(),
                "hosts": sc.hosts.iter().map(|h| h.name.clone()).collect::<Vec<_>>(),
                "source": sc.source,
            });
            if sc.tcp.mutant != Mutant::None {
                v["mutant"] = json!(sc.tcp.mutant.name()); // an optional addition: replay reads it
            }
            v
        });
        w
    }

    fn record(&mut self, f: impl FnOnce() -> Value) {
        if let Some(t) = &mut self.trace {
            t.push(f().to_string());
        }
    }

    fn name(&self, h: HostId) -> String {
        self.hosts[h].name.clone()
    }

    /// Runs to the end and checks the expectations.
    pub fn run(mut self) -> RunResult {
        self.start();
        while self.step() {}
        self.finish()
    }

    /// Schedules the injections and starts the steps (before the first event).
    fn start(&mut self) {
        for (i, inj) in self.sc.injects.iter().enumerate() {
            self.queue.push(inj.at_ms, Ev::Inject(i));
        }
        self.advance_steps();
        self.check_oracles();
    }

    /// Processes the next event; false when the run is over (an oracle fired, the queue is
    /// empty, `duration_ms` passed, or the event limit was hit).
    fn step(&mut self) -> bool {
        if self.oracle_failed {
            return false;
        }
        if self.events >= self.max_events {
            self.cut = true;
            let limit = self.max_events;
            self.failures.push(Failure {
                kind: "limit".into(),
                line: None,
                expected: format!("the run to end within {limit} events"),
                actual: "more (a segment storm?)".into(),
                t: self.now,
                last_segments: Vec::new(),
            });
            return false;
        }
        let Some((at, ev)) = self.queue.pop() else {
            return false;
        };
        if at > self.sc.duration_ms {
            self.cut = true;
            return false;
        }
        if let Some(f) = invariants::check_time(self.now, at) {
            self.oracle_failure(f);
            return false;
        }
        self.now = at;
        if self.dispatch(ev) {
            self.events += 1;
            self.last_t = at;
        }
        self.advance_steps();
        self.check_oracles();
        true
    }

    /// The end-of-run checks and the result.
    fn finish(mut self) -> RunResult {
        let cut = self.cut;
        if !self.oracle_failed && !cut {
            if let Some(f) = invariants::check_closes_complete(&self.hosts, self.last_t) {
                self.oracle_failure(f);
            }
        }
        if !self.oracle_failed {
            self.finish_steps();
            let f = expect::check(self.sc, &self.hosts, &self.wire, self.now);
            self.failures.extend(f);
        }
        let ok = self.failures.is_empty();
        let failures_json: Vec<Value> = self.failures.iter().map(Failure::to_json).collect();
        let (now, segs, events) = (self.last_t, self.wire.len(), self.events);
        self.record(|| {
            json!({"ev": "end", "t": now, "ok": ok, "segments": segs, "events": events,
                   "failures": failures_json})
        });
        RunResult {
            scenario: self.sc.name.clone(),
            seed: self.seed,
            ok,
            segments: self.wire.len() as u64,
            lost: self.lost,
            events: self.events,
            virtual_ms: self.last_t,
            failures: self.failures,
            trace: self.trace,
            unrecorded: self.chance.unrecorded,
        }
    }

    /// Handles one event; returns whether it counts as an event (stale timers do not).
    fn dispatch(&mut self, ev: Ev) -> bool {
        let now = self.now;
        match ev {
            Ev::Deliver(p) => {
                if self.trace.is_some() {
                    let (host, from) = (self.name(p.to), self.name(p.from));
                    let wire = format!(
                        "{from}:{}>{host}:{} {}",
                        p.seg.src_port,
                        p.seg.dst_port,
                        p.seg.wire_body()
                    );
                    self.record(|| {
                        json!({"t": now, "ev": "arrive", "id": p.id, "host": host, "copy": p.copy,
                               "wire": wire})
                    });
                }
                let rst = protocol::rst_target(&self.hosts, p.from, p.to, &p.seg);
                let mut out = self.out_buf();
                self.hosts[p.to].on_segment(now, p.from, &p.seg, false, &mut self.chance, &mut out);
                self.take(p.to, out, Cause::Segment { rst: rst.is_some() });
                self.check_rst(p.to, rst);
                true
            }
            Ev::Inject(i) => {
                let inj = &self.sc.injects[i];
                let id = self.next_id;
                self.next_id += 1;
                let (from, to) = (self.name(inj.from), self.name(inj.to));
                let wire = format!(
                    "{from}:{}>{to}:{} {}",
                    inj.seg.src_port,
                    inj.seg.dst_port,
                    inj.seg.wire_body()
                );
                let label = inj.seg.rfc_label();
                let rst = protocol::rst_target(&self.hosts, inj.from, inj.to, &inj.seg);
                self.record(|| {
                    json!({"t": now, "ev": "inject", "id": id, "from": from, "to": to,
                           "wire": wire, "label": label})
                });
                let mut out = self.out_buf();
                self.hosts[inj.to].on_segment(
                    now,
                    inj.from,
                    &inj.seg,
                    true,
                    &mut self.chance,
                    &mut out,
                );
                self.take(inj.to, out, Cause::Segment { rst: rst.is_some() });
                self.check_rst(inj.to, rst);
                true
            }
            Ev::Timer(h, c) => {
                if self.sched[h].get(c).copied().flatten() != Some(now) {
                    return false;
                }
                self.sched[h][c] = None;
                let conn = &self.hosts[h].conns[c];
                if !conn.alive {
                    return false;
                }
                if conn.tcb.next_deadline().is_none_or(|d| d > now) {
                    // The deadline moved later since this was scheduled: wait again, quietly.
                    self.schedule_timer(h, c);
                    return false;
                }
                let host = self.name(h);
                self.record(|| json!({"t": now, "ev": "timer", "host": host, "conn": c}));
                let mut out = self.out_buf();
                self.hosts[h].on_timer(now, c, &mut out);
                let acted = !out.segments.is_empty() || !out.notes.is_empty();
                if let Some(f) = protocol::check_timer_acts(&self.hosts[h].name, c, acted, now) {
                    self.oracle_failure(f);
                }
                self.take(h, out, Cause::Timer);
                true
            }
            Ev::Wake => {
                self.last_t = now;
                false
            }
            Ev::Release(dir, gen) => {
                if self.held.get(&dir).is_some_and(|(g, _, _)| *g == gen) {
                    let (_, p, _) = self.held.remove(&dir).expect("held");
                    self.queue.push(now, Ev::Deliver(p));
                }
                false
            }
        }
    }

    /// Takes a host's output: notes to the trace and the transition oracle, segments to the
    /// network, timers to the queue.
    fn take(&mut self, h: HostId, mut out: HostOut, cause: Cause) {
        let now = self.now;
        if let Some(f) = protocol::check_close_path(&self.hosts[h].name, &out.notes, cause, now) {
            self.oracle_failure(f);
        }
        for n in out.notes.drain(..) {
            match n {
                Note::State { conn, from, to } => {
                    if self.trace.is_some() {
                        let host = self.name(h);
                        let c = &self.hosts[h].conns[conn];
                        let (l, r) = c.tcb.ports();
                        let remote = format!("{}:{r}", self.hosts[c.remote_host].name);
                        // A connection's first state line says its ISS when it was drawn (a
                        // scenario's `isn` list is in the trace already).
                        let iss = (from == State::Closed && c.iss_drawn).then(|| c.tcb.iss());
                        self.record(|| {
                            let mut v = json!({"t": now, "ev": "state", "host": host, "conn": conn,
                                               "port": l, "remote": remote, "from": from.name(),
                                               "to": to.name()});
                            if let Some(iss) = iss {
                                v["iss"] = json!(iss);
                            }
                            v
                        });
                    }
                    if let Some(f) =
                        invariants::check_transition(&self.hosts[h].name, from, to, now)
                    {
                        self.oracle_failure(f);
                    }
                }
                Note::Error { conn, errno } => {
                    if self.trace.is_some() {
                        let host = self.name(h);
                        self.record(|| json!({"t": now, "ev": "error", "host": host, "conn": conn, "errno": errno.name()}));
                    }
                }
            }
        }
        for (to, seg) in out.segments.drain(..) {
            self.transmit(h, to, seg);
        }
        for c in out.touched.drain(..) {
            self.schedule_timer(h, c);
        }
        self.spare = out; // keep the buffers for the next input
    }

    /// An empty output buffer (reused: one allocation per run, not per event).
    fn out_buf(&mut self) -> HostOut {
        std::mem::take(&mut self.spare)
    }

    fn schedule_timer(&mut self, h: HostId, c: ConnId) {
        let conn = &self.hosts[h].conns[c];
        let d = if conn.alive {
            conn.tcb.next_deadline()
        } else {
            None
        };
        let s = &mut self.sched[h];
        if s.len() <= c {
            s.resize(c + 1, None);
        }
        // Lazily: an event already queued for an earlier time stays, and on firing finds the
        // new deadline (each ACK moves the retransmission deadline; this keeps the queue small).
        if let Some(d) = d {
            if s[c].is_none_or(|old| d < old) {
                s[c] = Some(d);
                self.queue.push(d, Ev::Timer(h, c));
            }
        }
    }

    /// A segment leaves host `from`: it goes on the wire record and meets its fate (or, in
    /// deferred mode, waits for the search to decide it).
    fn transmit(&mut self, from: HostId, to: HostId, seg: Segment) {
        let now = self.now;
        let id = self.next_id;
        self.next_id += 1;
        let slots = self.queue.reserve(FATE_SLOTS);
        let fate = self.chance.fate(&mut self.net, from, to, now);
        self.wire.push(WireRec {
            t: now,
            from,
            to,
            seg: seg.header(),
            len: seg.data.len(),
        });
        let pkt = Packet {
            id,
            from,
            to,
            seg,
            copy: false,
        };
        match fate {
            Some(fate) => self.meet_fate(pkt, now, slots, fate),
            None => self.undecided.push_back(Undecided {
                pkt,
                sent: now,
                slots,
            }),
        }
    }

    /// A segment sent at `sent` meets `fate`: the trace's `send` line, and its events queued
    /// with the insertion numbers reserved when it was sent.
    fn meet_fate(&mut self, pkt: Packet, sent: u64, slots: u64, fate: Fate) {
        if self.trace.is_some() {
            self.record_send(&pkt, sent, &fate);
        }
        let (from, to) = (pkt.from, pkt.to);
        match fate {
            Fate::Lost(_) => self.lost += 1,
            Fate::Delivered { at, dup_at } => {
                self.queue
                    .push_numbered(at, slots, Ev::Deliver(pkt.clone()));
                if let Some(d) = dup_at {
                    let copy = Packet { copy: true, ..pkt };
                    self.queue.push_numbered(d, slots + 1, Ev::Deliver(copy));
                }
                self.release_behind(from, to, at, slots + 2);
            }
            Fate::Held { at, release_at } => {
                if let std::collections::hash_map::Entry::Vacant(e) = self.held.entry((from, to)) {
                    let id = pkt.id;
                    e.insert((id, pkt, at));
                    let ev = Ev::Release((from, to), id);
                    self.queue.push_numbered(release_at, slots, ev);
                } else {
                    self.queue.push_numbered(at, slots, Ev::Deliver(pkt));
                    self.release_behind(from, to, at, slots + 1);
                }
            }
        }
    }

    /// The trace's `send` line of a segment and its fate.
    fn record_send(&mut self, pkt: &Packet, now: u64, fate: &Fate) {
        let rec = WireRec {
            t: now,
            from: pkt.from,
            to: pkt.to,
            seg: pkt.seg.header(),
            len: pkt.seg.data.len(),
        };
        let wire = rec.text(&self.hosts);
        let wire = wire
            .rsplit_once(" at=")
            .map_or(wire.clone(), |(w, _)| w.to_string());
        let label = pkt.seg.rfc_label();
        let (fname, tname) = (self.name(pkt.from), self.name(pkt.to));
        let mut v = json!({"t": now, "ev": "send", "id": pkt.id, "from": fname, "to": tname,
                           "wire": wire, "label": label});
        match fate {
            Fate::Lost(why) => {
                v["fate"] = json!("lost");
                v["reason"] = json!(why.name());
            }
            Fate::Delivered { at, dup_at } => {
                v["fate"] = json!("delivered");
                v["arrive"] = json!(at);
                if let Some(d) = dup_at {
                    v["dup_arrive"] = json!(d);
                }
            }
            Fate::Held { at, release_at } => {
                v["fate"] = json!("held");
                v["arrive"] = json!(at);
                v["release_at"] = json!(release_at);
            }
        }
        self.record(|| v);
    }

    /// A held-back segment of this direction goes out behind the one just sent.
    fn release_behind(&mut self, from: HostId, to: HostId, at: u64, slot: u64) {
        if let Some((_, p, held_at)) = self.held.remove(&(from, to)) {
            self.queue
                .push_numbered(at.max(held_at), slot, Ev::Deliver(p));
        }
    }

    /// `rst-validated` after host `to` processed a RST for `target`.
    fn check_rst(&mut self, to: HostId, target: Option<protocol::RstTarget>) {
        if let Some(f) = target.and_then(|t| protocol::check_rst(&self.hosts, to, t, self.now)) {
            self.oracle_failure(f);
        }
    }

    fn oracle_failure(&mut self, mut f: Failure) {
        if self.oracle_failed {
            return;
        }
        let n = self.wire.len();
        f.last_segments = self.wire[n.saturating_sub(6)..]
            .iter()
            .map(|w| w.text(&self.hosts))
            .collect();
        self.oracle_failed = true;
        let v = f.to_json();
        self.record(|| json!({"t": f.t, "ev": "oracle", "failure": v}));
        self.failures.push(f);
    }

    fn check_oracles(&mut self) {
        let now = self.now;
        if let Some(f) = invariants::check_streams(&mut self.hosts, now) {
            self.oracle_failure(f);
        }
        if let Some(f) = invariants::check_agreement(&self.hosts, now) {
            self.oracle_failure(f);
        }
        if let Some(f) = protocol::check_eof(&self.hosts, now) {
            self.oracle_failure(f);
        }
    }

    /// The state of a connection, for tests.
    pub fn conn_state(&self, h: HostId, c: ConnId) -> State {
        self.hosts[h].conns[c].tcb.state()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::builtin::builtin;
    use crate::tcp::Flags;

    #[test]
    fn an_oracle_failure_says_which_when_and_the_last_segments() {
        let sc = builtin("rfc9293-fig6-handshake").unwrap();
        let mut w = World::new(&sc, &RunOptions::default());
        w.now = 7;
        let seg = Segment {
            src_port: 5000,
            dst_port: 80,
            seq: 100,
            ack: 0,
            flags: Flags::SYN,
            wnd: 65535,
            data: vec![],
        };
        let mut out = HostOut::default();
        out.segments.push((1, seg));
        w.take(0, out, Cause::Call);
        let mut out = HostOut::default();
        out.notes.push(Note::State {
            conn: 0,
            from: State::TimeWait,
            to: State::SynSent,
        });
        w.take(0, out, Cause::Call);
        let f = &w.failures[0];
        assert_eq!(f.kind, "oracle:rfc-transitions");
        assert_eq!(f.t, 7);
        assert_eq!(f.last_segments, ["A:5000>B:80 S seq=100 at=7"]);
        assert!(f.text().contains("last segments before it"));
    }
}
