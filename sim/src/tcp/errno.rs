//! Socket errors, spelled like errno (SCENARIOS.md).

use std::fmt;

/// An error a socket call can return.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Errno {
    ConnRefused,
    ConnReset,
    TimedOut,
    AddrInUse,
    /// The 4-tuple of a connect is still in use (Linux's answer; `[tcp]
    /// eaddrnotavail_for_tuple_in_use`).
    AddrNotAvail,
    NotConn,
    Pipe,
}

impl Errno {
    /// Every error.
    pub const ALL: [Errno; 7] = [
        Errno::ConnRefused,
        Errno::ConnReset,
        Errno::TimedOut,
        Errno::AddrInUse,
        Errno::AddrNotAvail,
        Errno::NotConn,
        Errno::Pipe,
    ];

    /// The errno name, e.g. `ECONNREFUSED`.
    pub fn name(self) -> &'static str {
        match self {
            Errno::ConnRefused => "ECONNREFUSED",
            Errno::ConnReset => "ECONNRESET",
            Errno::TimedOut => "ETIMEDOUT",
            Errno::AddrInUse => "EADDRINUSE",
            Errno::AddrNotAvail => "EADDRNOTAVAIL",
            Errno::NotConn => "ENOTCONN",
            Errno::Pipe => "EPIPE",
        }
    }

    /// Parses an errno name.
    pub fn parse(s: &str) -> Option<Errno> {
        Errno::ALL.into_iter().find(|e| e.name() == s)
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
