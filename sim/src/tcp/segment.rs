//! A TCP segment as the simulator carries it: ports, sequence and acknowledgment numbers, control
//! flags, window and payload (no checksum, no options: the simulated network never corrupts).
//! Also the two textual forms: the flag letters of SCENARIOS.md (`"SA"`) and the RFC 9293 §3.5
//! label (`<SEQ=100><ACK=301><CTL=SYN,ACK>`).

use std::fmt::Write as _;

/// Control bits, as a small bit set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Flags(pub u8);

impl Flags {
    pub const SYN: Flags = Flags(1);
    pub const FIN: Flags = Flags(2);
    pub const RST: Flags = Flags(4);
    pub const PSH: Flags = Flags(8);
    pub const ACK: Flags = Flags(16);

    /// Whether every bit of `other` is set.
    pub fn has(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The union.
    pub fn with(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }

    /// The letters `S F R P A` in that order (SCENARIOS.md), e.g. `"SA"`, `"FA"`, `"R"`.
    pub fn letters(self) -> String {
        let mut s = String::new();
        for (f, c) in Self::ORDER {
            if self.has(f) {
                s.push(c);
            }
        }
        s
    }

    /// Parses flag letters; they must be distinct, non-empty and in the order `S F R P A`.
    pub fn parse(s: &str) -> Option<Flags> {
        let mut flags = Flags(0);
        let mut next = 0;
        for c in s.chars() {
            let i = Self::ORDER[next..].iter().position(|&(_, l)| l == c)? + next;
            flags = flags.with(Self::ORDER[i].0);
            next = i + 1;
        }
        (!s.is_empty()).then_some(flags)
    }

    const ORDER: [(Flags, char); 5] = [
        (Flags::SYN, 'S'),
        (Flags::FIN, 'F'),
        (Flags::RST, 'R'),
        (Flags::PSH, 'P'),
        (Flags::ACK, 'A'),
    ];
}

/// One segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: Flags,
    pub wnd: u32,
    pub data: Vec<u8>,
}

impl Segment {
    /// SEG.LEN: payload plus one for SYN and one for FIN.
    pub fn seg_len(&self) -> u32 {
        self.data.len() as u32
            + u32::from(self.flags.has(Flags::SYN))
            + u32::from(self.flags.has(Flags::FIN))
    }

    /// The RFC 9293 §3.5 label: `<SEQ=100><ACK=301><CTL=SYN,ACK>`, with `<DATA=n>` for a payload.
    pub fn rfc_label(&self) -> String {
        let mut s = format!("<SEQ={}>", self.seq);
        if self.flags.has(Flags::ACK) {
            let _ = write!(s, "<ACK={}>", self.ack);
        }
        if !self.data.is_empty() {
            let _ = write!(s, "<DATA={}>", self.data.len());
        }
        let names: Vec<&str> = [
            (Flags::SYN, "SYN"),
            (Flags::FIN, "FIN"),
            (Flags::RST, "RST"),
            (Flags::PSH, "PSH"),
            (Flags::ACK, "ACK"),
        ]
        .iter()
        .filter(|(f, _)| self.flags.has(*f))
        .map(|&(_, n)| n)
        .collect();
        let _ = write!(s, "<CTL={}>", names.join(","));
        s
    }

    /// The body of a wire string (SCENARIOS.md), without endpoints: `SA seq=300 ack=101 len=5`.
    pub fn wire_body(&self) -> String {
        self.wire_body_len(self.data.len())
    }

    /// [`Segment::wire_body`] with the payload length given (for headers kept without data).
    pub fn wire_body_len(&self, len: usize) -> String {
        let mut s = format!("{} seq={}", self.flags.letters(), self.seq);
        if self.flags.has(Flags::ACK) {
            let _ = write!(s, " ack={}", self.ack);
        }
        if len > 0 {
            let _ = write!(s, " len={len}");
        }
        s
    }

    /// A copy without the payload (what the wire record keeps).
    pub fn header(&self) -> Segment {
        Segment {
            data: Vec::new(),
            ..*self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_letters() {
        for s in ["S", "SA", "A", "PA", "FA", "R", "RA", "SFRPA"] {
            assert_eq!(Flags::parse(s).unwrap().letters(), s);
        }
        for s in ["", "AS", "X", "SS", "s"] {
            assert_eq!(Flags::parse(s), None, "{s}");
        }
    }

    #[test]
    fn labels() {
        let seg = Segment {
            src_port: 1,
            dst_port: 2,
            seq: 300,
            ack: 101,
            flags: Flags::SYN.with(Flags::ACK),
            wnd: 0,
            data: vec![],
        };
        assert_eq!(seg.rfc_label(), "<SEQ=300><ACK=101><CTL=SYN,ACK>");
        assert_eq!(seg.wire_body(), "SA seq=300 ack=101");
        assert_eq!(seg.seg_len(), 1);
    }
}
