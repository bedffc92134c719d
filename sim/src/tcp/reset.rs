//! Replies for a segment that reaches no connection: RFC 9293 §3.10.7.1 (state CLOSED), also used
//! by a listener for a segment carrying an ACK (§3.10.7.2).

use super::segment::{Flags, Segment};

/// The RST that answers `seg` arriving where no connection exists, or `None` if `seg` is a RST.
///
/// With the ACK bit off: `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>`; with it on:
/// `<SEQ=SEG.ACK><CTL=RST>`.
pub fn reset_for(seg: &Segment) -> Option<Segment> {
    if seg.flags.has(Flags::RST) {
        return None;
    }
    let (seq, ack, flags) = if seg.flags.has(Flags::ACK) {
        (seg.ack, 0, Flags::RST)
    } else {
        (
            0,
            seg.seq.wrapping_add(seg.seg_len()),
            Flags::RST.with(Flags::ACK),
        )
    };
    Some(Segment {
        src_port: seg.dst_port,
        dst_port: seg.src_port,
        seq,
        ack,
        flags,
        wnd: 0,
        data: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(flags: &str, seq: u32, ack: u32) -> Segment {
        Segment {
            src_port: 5000,
            dst_port: 80,
            seq,
            ack,
            flags: Flags::parse(flags).unwrap(),
            wnd: 100,
            data: vec![],
        }
    }

    #[test]
    fn syn_to_closed_port_gets_rst_ack() {
        let r = reset_for(&seg("S", 100, 0)).unwrap();
        assert_eq!(r.wire_body(), "RA seq=0 ack=101");
        assert_eq!((r.src_port, r.dst_port), (80, 5000));
    }

    #[test]
    fn ack_to_closed_port_gets_rst_at_its_ack() {
        assert_eq!(
            reset_for(&seg("A", 300, 100)).unwrap().wire_body(),
            "R seq=100"
        );
        assert!(reset_for(&seg("R", 1, 0)).is_none());
    }
}
