//! Deliberate bugs in the state machine ("mutants"), to show the simulator's checks have teeth:
//! a sweep or an exhaustive search run with `--mutant NAME` must report a failure that the
//! unmutated model does not have. A mutant travels in [`TcpConfig::mutant`](super::TcpConfig)
//! (default [`Mutant::None`]) and is looked at in a handful of places in `tcb.rs`, each a single
//! comparison, so the real model pays nothing measurable for the switch.

use std::fmt;

/// One deliberate deviation from RFC 9293 (or none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mutant {
    /// The model as written.
    #[default]
    None,
    /// SYN-SENT takes any ACK without SYN as if it were the SYN,ACK (§3.10.7.3's "fourth, check
    /// the SYN bit" skipped, and the ACK's acceptability with it): ESTABLISHED with the ACK's
    /// sequence number as IRS.
    SynSentAckWithoutSyn,
    /// TIME-WAIT is skipped: the state that would enter TIME-WAIT goes straight to CLOSED.
    TimeWaitSkipped,
    /// The receiver takes the peer's FIN (and acknowledges it) as soon as it arrives, even
    /// when data before it is still missing: the hole is skipped.
    FinBeforeData,
    /// Any RST resets a synchronized connection, whatever its sequence number (no window check,
    /// no RFC 5961 challenge ACK).
    RstOutsideWindow,
    /// The persist timer fires but sends no zero-window probe (§3.8.6.1).
    NoZeroWindowProbe,
}

impl Mutant {
    /// Every real mutant (not `None`).
    pub const ALL: [Mutant; 5] = [
        Mutant::SynSentAckWithoutSyn,
        Mutant::TimeWaitSkipped,
        Mutant::FinBeforeData,
        Mutant::RstOutsideWindow,
        Mutant::NoZeroWindowProbe,
    ];

    /// Its name on the command line and in traces.
    pub fn name(self) -> &'static str {
        match self {
            Mutant::None => "none",
            Mutant::SynSentAckWithoutSyn => "syn-sent-ack-without-syn",
            Mutant::TimeWaitSkipped => "time-wait-skipped",
            Mutant::FinBeforeData => "fin-before-data",
            Mutant::RstOutsideWindow => "rst-outside-window",
            Mutant::NoZeroWindowProbe => "no-zero-window-probe",
        }
    }

    /// One line saying what is broken.
    pub fn description(self) -> &'static str {
        match self {
            Mutant::None => "the model as written",
            Mutant::SynSentAckWithoutSyn => {
                "SYN-SENT takes an ACK without SYN as the SYN,ACK and becomes ESTABLISHED"
            }
            Mutant::TimeWaitSkipped => "TIME-WAIT is skipped: straight to CLOSED",
            Mutant::FinBeforeData => {
                "a FIN is taken and acknowledged while data before it is still missing"
            }
            Mutant::RstOutsideWindow => {
                "a RST outside the window (or not at RCV.NXT under RFC 5961) resets the connection"
            }
            Mutant::NoZeroWindowProbe => "the persist timer sends no zero-window probe",
        }
    }

    /// The mutant called `name` (`none` included).
    pub fn parse(name: &str) -> Option<Mutant> {
        std::iter::once(Mutant::None)
            .chain(Mutant::ALL)
            .find(|m| m.name() == name)
    }

    /// The list of names, for error messages.
    pub fn names() -> String {
        Mutant::ALL.map(Mutant::name).join(", ")
    }
}

impl fmt::Display for Mutant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() {
        for m in std::iter::once(Mutant::None).chain(Mutant::ALL) {
            assert_eq!(Mutant::parse(m.name()), Some(m));
        }
        assert_eq!(Mutant::parse("nope"), None);
    }
}
