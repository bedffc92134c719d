//! `sim::socket`: the socket API of one simulated host on top of [`crate::tcp`]: listeners with a
//! backlog, accept, connect, send, recv, shutdown, close, abort, and a host crash. A host owns its
//! connections, demultiplexes arriving segments to them (or answers with a RST, §3.10.7.1), and
//! records each connection's state trajectory for the scenario's expectations.
//!
//! - [`host`]: the host: connections, listeners, handles, arriving segments;
//! - [`call`]: the calls a scenario step makes and how each one completes.

pub mod call;
pub mod host;

pub use call::{How, SockCall};
pub use host::{Conn, Handle, Host, HostOut, Listener, Note};

/// Index of a host in the world.
pub type HostId = usize;
/// Index of a connection in its host.
pub type ConnId = usize;

/// Where a host's ISNs come from once its scenario's `isn` list is used up: the seed, or in a
/// replay, the trace.
pub trait IsnSource {
    /// The ISN of connection `conn` (its index in the host) of host `host`.
    fn draw_isn(&mut self, host: HostId, conn: ConnId) -> u32;
}

impl IsnSource for rand_chacha::ChaCha8Rng {
    fn draw_isn(&mut self, _: HostId, _: ConnId) -> u32 {
        rand::RngCore::next_u32(self)
    }
}
