//! The eleven connection states of RFC 9293 §3.3.2 and the transitions its state diagram (and the
//! event processing of §3.10) allows. The transition table is what the "legal transitions" oracle
//! checks every state change against.

use std::fmt;

/// A connection state, spelled as in RFC 9293 §3.3.2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

impl State {
    /// Every state, in the RFC's order.
    pub const ALL: [State; 11] = [
        State::Closed,
        State::Listen,
        State::SynSent,
        State::SynReceived,
        State::Established,
        State::FinWait1,
        State::FinWait2,
        State::CloseWait,
        State::Closing,
        State::LastAck,
        State::TimeWait,
    ];

    /// The RFC spelling, e.g. `SYN-RECEIVED`.
    pub fn name(self) -> &'static str {
        match self {
            State::Closed => "CLOSED",
            State::Listen => "LISTEN",
            State::SynSent => "SYN-SENT",
            State::SynReceived => "SYN-RECEIVED",
            State::Established => "ESTABLISHED",
            State::FinWait1 => "FIN-WAIT-1",
            State::FinWait2 => "FIN-WAIT-2",
            State::CloseWait => "CLOSE-WAIT",
            State::Closing => "CLOSING",
            State::LastAck => "LAST-ACK",
            State::TimeWait => "TIME-WAIT",
        }
    }

    /// Parses the RFC spelling.
    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|st| st.name() == s)
    }

    /// A synchronized state (RFC 9293 §3.5: after the handshake): ESTABLISHED and later.
    pub fn is_synchronized(self) -> bool {
        !matches!(
            self,
            State::Closed | State::Listen | State::SynSent | State::SynReceived
        )
    }

    /// Whether RFC 9293 allows a connection to move from `self` to `to`.
    ///
    /// The arrows of the §3.3.2 diagram, plus the ones §3.10 adds: any state may go to CLOSED
    /// (reset, abort, user timeout, a crash), SYN-RECEIVED may see the FIN right after the ACK
    /// that completes it (CLOSE-WAIT), and FIN-WAIT-1 goes straight to TIME-WAIT when one segment
    /// ACKs our FIN and carries the peer's.
    pub fn can_become(self, to: State) -> bool {
        use State::*;
        if to == Closed {
            return true;
        }
        matches!(
            (self, to),
            (Closed, Listen)
                | (Closed, SynSent)
                | (Closed, SynReceived) // a listener's child is born in SYN-RECEIVED
                | (Listen, SynReceived)
                | (Listen, SynSent)
                | (SynSent, SynReceived)
                | (SynSent, Established)
                | (SynReceived, Established)
                | (SynReceived, FinWait1)
                | (SynReceived, CloseWait)
                | (Established, FinWait1)
                | (Established, CloseWait)
                | (FinWait1, FinWait2)
                | (FinWait1, Closing)
                | (FinWait1, TimeWait)
                | (FinWait2, TimeWait)
                | (CloseWait, LastAck)
                | (Closing, TimeWait)
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in State::ALL {
            assert_eq!(State::parse(s.name()), Some(s));
        }
        assert_eq!(State::parse("ESTABLISHED!"), None);
    }

    #[test]
    fn diagram_arrows() {
        assert!(State::SynSent.can_become(State::Established));
        assert!(!State::Established.can_become(State::SynSent));
        assert!(!State::TimeWait.can_become(State::Established));
        assert!(State::LastAck.can_become(State::Closed));
    }
}
