//! One simulated host: its connections (every one it ever had, for trajectories and oracles),
//! listeners, handle names, the demultiplexing of arriving segments, and crash.

use super::{ConnId, HostId, IsnSource};
use crate::fasthash::FastMap;
use crate::tcp::reset::reset_for;
use crate::tcp::{Errno, Event, Flags, Outputs, Segment, State, Tcb, TcpConfig};
use std::collections::{BTreeMap, VecDeque};

/// A connection and what the simulator records about it.
#[derive(Clone, Debug)]
pub struct Conn {
    pub remote_host: HostId,
    pub tcb: Tcb,
    /// Still reachable (in the demultiplexing table): not CLOSED, not lost in a crash.
    pub alive: bool,
    /// The listener whose queue holds it until accepted.
    pub listener: Option<usize>,
    /// Each state entered, with the virtual time, from the first state after CLOSED.
    pub trajectory: Vec<(State, u64)>,
    /// The handle naming it (connect's `sock` or accept's `as`).
    pub handle: Option<String>,
    /// Every byte the user handed to send.
    pub app_sent: Vec<u8>,
    /// Every byte recv handed to the user.
    pub app_read: Vec<u8>,
    /// How many bytes of `app_read` the delivery oracle has checked.
    pub checked: usize,
    pub error_reported: bool,
    pub read_shut: bool,
    /// An injected segment reached it: outside the agreement oracle.
    pub injected: bool,
    pub created_at: u64,
    /// Its ISS was drawn (from the seed, or a trace's record of it), not taken from the
    /// scenario's `isn` list.
    pub iss_drawn: bool,
}

/// A listening socket.
#[derive(Clone, Debug)]
pub struct Listener {
    pub port: u16,
    pub backlog: usize,
    /// Connections made from its SYNs and not yet accepted, oldest first.
    pub queue: VecDeque<ConnId>,
    pub open: bool,
    pub trajectory: Vec<(State, u64)>,
}

/// What a handle name refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handle {
    Listener(usize),
    Conn(ConnId),
}

/// Something that happened inside a host, for the trace and the oracles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    State {
        conn: ConnId,
        from: State,
        to: State,
    },
    Error {
        conn: ConnId,
        errno: Errno,
    },
}

/// Output of a host input: segments (with their destination host), notes, and the connections
/// whose timers may have changed.
#[derive(Clone, Debug, Default)]
pub struct HostOut {
    pub segments: Vec<(HostId, Segment)>,
    pub notes: Vec<Note>,
    pub touched: Vec<ConnId>,
}

/// One host.
#[derive(Clone, Debug)]
pub struct Host {
    pub name: String,
    pub id: HostId,
    pub cfg: TcpConfig,
    isn: Vec<u32>,
    isn_next: usize,
    pub conns: Vec<Conn>,
    pub listeners: Vec<Listener>,
    pub(crate) demux: FastMap<(u16, HostId, u16), ConnId>,
    pub(crate) handles: BTreeMap<String, Handle>,
    /// Every handle binding ever made, in order (handles outlive a crash here, for expectations).
    pub bindings: Vec<(String, Handle)>,
    next_ephemeral: u16,
}

impl Host {
    /// A host with no sockets; `isn` are the ISNs its connections take first.
    pub fn new(name: &str, id: HostId, cfg: TcpConfig, isn: Vec<u32>) -> Host {
        Host {
            name: name.to_string(),
            id,
            cfg,
            isn,
            isn_next: 0,
            conns: Vec::new(),
            listeners: Vec::new(),
            demux: FastMap::default(),
            handles: BTreeMap::new(),
            bindings: Vec::new(),
            next_ephemeral: 49152,
        }
    }

    /// The handle's current target.
    pub fn handle(&self, name: &str) -> Option<&Handle> {
        self.handles.get(name)
    }

    /// Binds a handle name.
    pub(crate) fn bind(&mut self, name: &str, h: Handle) {
        self.handles.insert(name.to_string(), h.clone());
        self.bindings.push((name.to_string(), h));
    }

    /// The last target a handle name was bound to, even if the host crashed since.
    pub fn last_binding(&self, name: &str) -> Option<&Handle> {
        self.bindings
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, h)| h)
    }

    /// The ISN of the connection about to be created: from the scenario's list, then drawn
    /// from `src`; and whether it was drawn.
    pub(crate) fn next_isn(&mut self, src: &mut impl IsnSource) -> (u32, bool) {
        let i = self.isn_next;
        self.isn_next += 1;
        match self.isn.get(i) {
            Some(&v) => (v, false),
            None => (src.draw_isn(self.id, self.conns.len()), true),
        }
    }

    pub(crate) fn listener_on(&self, port: u16) -> Option<usize> {
        self.listeners.iter().position(|l| l.open && l.port == port)
    }

    pub(crate) fn ephemeral_port(&mut self) -> u16 {
        loop {
            let p = self.next_ephemeral;
            self.next_ephemeral = if p == u16::MAX { 49152 } else { p + 1 };
            let used = self.listener_on(p).is_some()
                || self.conns.iter().any(|c| c.alive && c.tcb.ports().0 == p);
            if !used {
                return p;
            }
        }
    }

    pub(crate) fn add_conn(
        &mut self,
        tcb: Tcb,
        remote_host: HostId,
        now: u64,
        listener: Option<usize>,
    ) -> ConnId {
        let (l, r) = tcb.ports();
        let c = self.conns.len();
        self.demux.insert((l, remote_host, r), c);
        self.conns.push(Conn {
            remote_host,
            tcb,
            alive: true,
            listener,
            trajectory: Vec::new(),
            handle: None,
            app_sent: Vec::new(),
            app_read: Vec::new(),
            checked: 0,
            error_reported: false,
            read_shut: false,
            injected: false,
            created_at: now,
            iss_drawn: false,
        });
        c
    }

    /// Takes a TCB's outputs: segments out, state changes into the trajectory, a CLOSED
    /// connection out of the demultiplexing table and its listener's queue.
    pub(crate) fn absorb(&mut self, c: ConnId, o: Outputs, now: u64, out: &mut HostOut) {
        let remote = self.conns[c].remote_host;
        out.segments
            .extend(o.segments.into_iter().map(|s| (remote, s)));
        out.touched.push(c);
        for ev in o.events {
            match ev {
                Event::State { from, to } => {
                    self.conns[c].trajectory.push((to, now));
                    out.notes.push(Note::State { conn: c, from, to });
                    if to == State::Closed {
                        self.unlink(c);
                    }
                }
                Event::Error(errno) => out.notes.push(Note::Error { conn: c, errno }),
            }
        }
    }

    fn unlink(&mut self, c: ConnId) {
        let conn = &mut self.conns[c];
        conn.alive = false;
        let (l, r) = conn.tcb.ports();
        let key = (l, conn.remote_host, r);
        if self.demux.get(&key) == Some(&c) {
            self.demux.remove(&key);
        }
        if let Some(li) = conn.listener.take() {
            self.listeners[li].queue.retain(|&x| x != c);
        }
    }

    /// A segment from host `from` arrives (§3.10.7).
    pub fn on_segment(
        &mut self,
        now: u64,
        from: HostId,
        seg: &Segment,
        injected: bool,
        isns: &mut impl IsnSource,
        out: &mut HostOut,
    ) {
        if let Some(&c) = self.demux.get(&(seg.dst_port, from, seg.src_port)) {
            if injected {
                self.conns[c].injected = true;
            }
            let o = self.conns[c].tcb.on_segment(seg, now);
            self.absorb(c, o, now, out);
            return;
        }
        if let Some(l) = self.listener_on(seg.dst_port) {
            let f = seg.flags;
            if f.has(Flags::RST) {
                return;
            }
            if f.has(Flags::ACK) {
                out.segments.extend(reset_for(seg).map(|r| (from, r)));
                return;
            }
            if !f.has(Flags::SYN) {
                return;
            }
            let lst = &self.listeners[l];
            if lst.queue.len() >= lst.backlog + self.cfg.backlog_extra as usize {
                return; // queue full: drop silently, the peer retries
            }
            let (iss, drawn) = self.next_isn(isns);
            let (tcb, o) = Tcb::from_syn(self.cfg, seg, iss, now);
            let c = self.add_conn(tcb, from, now, Some(l));
            self.conns[c].injected = injected;
            self.conns[c].iss_drawn = drawn;
            self.listeners[l].queue.push_back(c);
            self.absorb(c, o, now, out);
            return;
        }
        out.segments.extend(reset_for(seg).map(|r| (from, r)));
    }

    /// A connection's timer is due.
    pub fn on_timer(&mut self, now: u64, c: ConnId, out: &mut HostOut) {
        if !self.conns[c].alive {
            return;
        }
        let o = self.conns[c].tcb.on_timer(now);
        self.absorb(c, o, now, out);
    }

    /// Instantaneous reboot: every connection and listener vanishes without a segment.
    pub fn crash(&mut self, now: u64) {
        for c in 0..self.conns.len() {
            if self.conns[c].alive {
                let from = self.conns[c].tcb.state();
                if from != State::Closed {
                    self.conns[c].trajectory.push((State::Closed, now));
                }
                self.conns[c].alive = false;
                self.conns[c].listener = None;
            }
        }
        for l in &mut self.listeners {
            if l.open {
                l.open = false;
                l.queue.clear();
                l.trajectory.push((State::Closed, now));
            }
        }
        self.demux.clear();
        self.handles.clear();
    }
}
