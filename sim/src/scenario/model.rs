//! The parsed, validated scenario (SCENARIOS.md): hosts by index, calls typed, every item
//! remembering its line so failures can point at it.

use crate::net::NetSpec;
use crate::socket::{HostId, SockCall};
use crate::tcp::{Errno, Flags, Segment, State, TcpConfig};

/// One scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Where it came from (a path, or `builtin:NAME`).
    pub file: String,
    /// The TOML text (kept so a trace can carry it).
    pub source: String,
    pub name: String,
    pub description: String,
    pub duration_ms: u64,
    pub tcp: TcpConfig,
    pub hosts: Vec<HostSpec>,
    pub net: NetSpec,
    pub steps: Vec<Step>,
    pub injects: Vec<Inject>,
    pub expect: Expect,
}

impl Scenario {
    /// The index of a host name.
    pub fn host_id(&self, name: &str) -> Option<HostId> {
        self.hosts.iter().position(|h| h.name == name)
    }
}

/// `[[host]]`.
#[derive(Clone, Debug)]
pub struct HostSpec {
    pub name: String,
    pub isn: Vec<u32>,
}

/// `[[step]]`.
#[derive(Clone, Debug)]
pub struct Step {
    pub line: usize,
    pub host: HostId,
    /// The handle the call acts on (empty for crash).
    pub sock: String,
    pub call: SockCall,
    pub expect_error: Option<Errno>,
    pub expect_data: Option<Vec<u8>>,
    pub at_ms: Option<u64>,
    pub returns_at_ms: Option<u64>,
}

/// `[[inject]]`.
#[derive(Clone, Debug)]
pub struct Inject {
    pub line: usize,
    pub at_ms: u64,
    pub from: HostId,
    pub to: HostId,
    pub seg: Segment,
}

/// `[expect]`.
#[derive(Clone, Debug, Default)]
pub struct Expect {
    pub wire: Option<Vec<WirePat>>,
    pub sockets: Vec<SocketExpect>,
    pub conns: Vec<ConnExpect>,
}

/// One expected state, optionally pinned to the virtual time it was entered (`"STATE@MS"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatePat {
    pub state: State,
    pub at: Option<u64>,
}

impl StatePat {
    /// Parses `STATE` or `STATE@MS`.
    pub fn parse(s: &str) -> Option<StatePat> {
        let (name, at) = match s.split_once('@') {
            Some((n, t)) => (n, Some(t.parse().ok()?)),
            None => (s, None),
        };
        Some(StatePat {
            state: State::parse(name)?,
            at,
        })
    }

    /// Whether an observed `(state, entered_at)` matches.
    pub fn matches(&self, state: State, at: u64) -> bool {
        self.state == state && self.at.is_none_or(|t| t == at)
    }
}

/// `[[expect.socket]]`.
#[derive(Clone, Debug)]
pub struct SocketExpect {
    pub line: usize,
    pub host: HostId,
    pub sock: String,
    pub states: Vec<StatePat>,
}

/// `[[expect.conn]]`.
#[derive(Clone, Debug)]
pub struct ConnExpect {
    pub line: usize,
    pub host: HostId,
    pub local_port: u16,
    pub remote: (HostId, u16),
    pub incarnations: Vec<Vec<StatePat>>,
}

/// One wire string: `FROM[:PORT]>TO[:PORT] FLAGS seq=N [ack=N] [len=N] [at=MS]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WirePat {
    pub text: String,
    pub line: usize,
    pub from: HostId,
    pub from_port: Option<u16>,
    pub to: HostId,
    pub to_port: Option<u16>,
    pub flags: Flags,
    pub seq: u32,
    pub ack: Option<u32>,
    pub len: usize,
    pub at: Option<u64>,
}

impl WirePat {
    /// Whether a segment `from → to` sent at `at` matches (`P` ignored; ports and time only
    /// when written).
    pub fn matches(&self, from: HostId, to: HostId, seg: &Segment, len: usize, at: u64) -> bool {
        let strip = |f: Flags| Flags(f.0 & !Flags::PSH.0);
        self.from == from
            && self.to == to
            && self.from_port.is_none_or(|p| p == seg.src_port)
            && self.to_port.is_none_or(|p| p == seg.dst_port)
            && strip(self.flags) == strip(seg.flags)
            && self.seq == seg.seq
            && self.ack.is_none_or(|a| a == seg.ack)
            && (self.ack.is_some() || !seg.flags.has(Flags::ACK))
            && self.len == len
            && self.at.is_none_or(|t| t == at)
    }
}

/// The fixed pattern `bytes = N` sends: `abc…z` repeated.
pub fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| b'a' + (i % 26) as u8).collect()
}
