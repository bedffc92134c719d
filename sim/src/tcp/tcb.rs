//! The transmission control block: one connection's RFC 9293 state machine, sans-IO.
//!
//! Every entry point takes its input and `now` (virtual ms) and returns [`Outputs`]: segments to
//! send and events (state changes, errors). Timers are not callbacks: [`Tcb::next_deadline`] says
//! when the TCB next wants [`Tcb::on_timer`]; calling it early or late is harmless.
//!
//! Sequence space is handled as 64-bit *positions* counted from the ISS (send side) and the IRS
//! (receive side): position 0 is the SYN, data byte `k` is position `1 + k`, the FIN follows the
//! last byte. Wire sequence numbers are positions plus the ISN modulo 2^32, and arriving numbers
//! are turned into positions relative to `SND.UNA` / `RCV.NXT` (a signed 32-bit distance), so no
//! comparison ever wraps.
//!
//! What is simulated: the handshake, simultaneous open and close, half-close, reset and abort,
//! the §3.10 event processing with the RFC 5961 checks, retransmission (RFC 6298 RTO, Karn,
//! exponential backoff; go-back-N after a timeout, fast retransmit after three duplicate ACKs),
//! flow control with window updates and zero-window probes, TIME-WAIT. Not simulated: congestion
//! control, options (MSS is configured, not negotiated), urgent data, security/compartment.

use super::config::TcpConfig;
use super::errno::Errno;
use super::mutant::Mutant;
use super::segment::{Flags, Segment};
use super::state::State;
use std::collections::{BTreeMap, VecDeque};

/// Data retransmissions before a synchronized connection gives up (like Linux `tcp_retries2`).
pub const DATA_RETRIES: u32 = 15;

/// Minimum time between two ACKs answering unacceptable bare ACKs (Linux's
/// `tcp_invalid_ratelimit` default).
pub const OOW_ACK_INTERVAL_MS: u64 = 500;

/// What the TCB reports besides segments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The connection moved from one state to another.
    State { from: State, to: State },
    /// The connection failed (reset, refused, timed out); the error goes to the user.
    Error(Errno),
}

/// The result of one input.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outputs {
    pub segments: Vec<Segment>,
    pub events: Vec<Event>,
    /// Bytes handed to the user by a `Recv` call.
    pub data: Vec<u8>,
}

/// A user call on an open connection (RFC 9293 §3.10.1–§3.10.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    /// Queue bytes for sending.
    Send(Vec<u8>),
    /// Take at most this many received bytes.
    Recv(usize),
    /// CLOSE, i.e. no more sending: queue a FIN after the data.
    Close,
    /// ABORT: send a RST if synchronized, and go to CLOSED.
    Abort,
}

/// One connection.
#[derive(Clone, Debug)]
pub struct Tcb {
    cfg: TcpConfig,
    state: State,
    /// Created by a listener (a passive OPEN): a RST or SYN in SYN-RECEIVED deletes it.
    passive: bool,
    local_port: u16,
    remote_port: u16,
    iss: u32,
    irs: u32,
    // Send side, positions from the ISS.
    snd_una: u64,
    snd_nxt: u64,
    snd_max: u64,
    snd_wnd: u32,
    max_snd_wnd: u32,
    snd_wl1: u32,
    snd_wl2: u32,
    snd_buf: VecDeque<u8>,
    snd_buf_base: u64,
    fin_pos: Option<u64>,
    // Receive side, positions from the IRS.
    rcv_nxt: u64,
    rcv_buf: VecDeque<u8>,
    ooo: BTreeMap<u64, Vec<u8>>,
    rcv_fin: Option<u64>,
    fin_received: bool,
    adv_wnd: u32,
    // Timers and retransmission.
    rto: u64,
    srtt_us: Option<u64>,
    rttvar_us: u64,
    retries: u32,
    rtt_probe: Option<(u64, u64)>,
    dupacks: u32,
    recover: Option<u64>,
    rtx_deadline: Option<u64>,
    tw_deadline: Option<u64>,
    ack_deadline: Option<u64>,
    error: Option<Errno>,
    last_oow_ack: Option<u64>,
}

impl Tcb {
    fn new(cfg: TcpConfig, local_port: u16, remote_port: u16, iss: u32, passive: bool) -> Tcb {
        Tcb {
            cfg,
            state: State::Closed,
            passive,
            local_port,
            remote_port,
            iss,
            irs: 0,
            snd_una: 0,
            snd_nxt: 0,
            snd_max: 0,
            snd_wnd: 0,
            max_snd_wnd: 0,
            snd_wl1: 0,
            snd_wl2: 0,
            snd_buf: VecDeque::new(),
            snd_buf_base: 1,
            fin_pos: None,
            rcv_nxt: 0,
            rcv_buf: VecDeque::new(),
            ooo: BTreeMap::new(),
            rcv_fin: None,
            fin_received: false,
            adv_wnd: cfg.rcv_wnd,
            rto: cfg.rto_initial_ms.min(cfg.rto_max_ms),
            srtt_us: None,
            rttvar_us: 0,
            retries: 0,
            rtt_probe: None,
            dupacks: 0,
            recover: None,
            rtx_deadline: None,
            tw_deadline: None,
            ack_deadline: None,
            error: None,
            last_oow_ack: None,
        }
    }

    /// Active OPEN (connect): CLOSED → SYN-SENT, sending `<SEQ=ISS><CTL=SYN>`.
    pub fn connect(
        cfg: TcpConfig,
        local_port: u16,
        remote_port: u16,
        iss: u32,
        now: u64,
    ) -> (Tcb, Outputs) {
        let mut t = Tcb::new(cfg, local_port, remote_port, iss, false);
        let mut out = Outputs::default();
        t.set_state(State::SynSent, now, &mut out);
        t.emit_syn(now, &mut out);
        t.arm(now);
        (t, out)
    }

    /// A listener's SYN (RFC 9293 §3.10.7.2): a new connection in SYN-RECEIVED that answers
    /// `<SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>`. The caller checked that `syn` is a SYN without ACK
    /// or RST.
    pub fn from_syn(cfg: TcpConfig, syn: &Segment, iss: u32, now: u64) -> (Tcb, Outputs) {
        debug_assert!(syn.flags.has(Flags::SYN) && !syn.flags.has(Flags::ACK));
        let mut t = Tcb::new(cfg, syn.dst_port, syn.src_port, iss, true);
        let mut out = Outputs::default();
        t.irs = syn.seq;
        t.rcv_nxt = 1;
        t.update_window(syn);
        t.set_state(State::SynReceived, now, &mut out);
        t.accept_data(1, &syn.data);
        t.emit_syn(now, &mut out);
        t.arm(now);
        (t, out)
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }
    /// Initial send sequence number.
    pub fn iss(&self) -> u32 {
        self.iss
    }
    /// Initial receive sequence number (meaningful once a SYN arrived).
    pub fn irs(&self) -> u32 {
        self.irs
    }
    /// The ports (local, remote).
    pub fn ports(&self) -> (u16, u16) {
        (self.local_port, self.remote_port)
    }
    /// The error that closed the connection, if any.
    pub fn error(&self) -> Option<Errno> {
        self.error
    }
    /// Whether this connection came from a listener.
    pub fn is_passive(&self) -> bool {
        self.passive
    }
    /// Received bytes waiting for the user.
    pub fn readable(&self) -> usize {
        self.rcv_buf.len()
    }
    /// The peer's FIN arrived and every byte before it was read: a receive returns end of stream.
    pub fn at_eof(&self) -> bool {
        self.fin_received && self.rcv_buf.is_empty()
    }
    /// The peer's FIN arrived.
    pub fn fin_received(&self) -> bool {
        self.fin_received
    }
    /// The user closed the sending side.
    pub fn write_closed(&self) -> bool {
        self.fin_pos.is_some()
    }
    /// `(SND.UNA, SND.MAX)` as positions from the ISS (for the agreement oracle).
    pub fn snd_range(&self) -> (u64, u64) {
        (self.snd_una, self.snd_max)
    }
    /// `RCV.NXT` as a position from the IRS.
    pub fn rcv_nxt_pos(&self) -> u64 {
        self.rcv_nxt
    }
    /// When [`Tcb::on_timer`] should next run.
    pub fn next_deadline(&self) -> Option<u64> {
        [self.rtx_deadline, self.tw_deadline, self.ack_deadline]
            .into_iter()
            .flatten()
            .min()
    }

    // ----- sequence arithmetic -------------------------------------------------------------

    fn snd_seq(&self, pos: u64) -> u32 {
        self.iss.wrapping_add(pos as u32)
    }
    fn rcv_seq(&self, pos: u64) -> u32 {
        self.irs.wrapping_add(pos as u32)
    }
    /// SEG.ACK as a send position (may be negative: older than anything we track).
    fn ack_pos(&self, ack: u32) -> i64 {
        self.snd_una as i64 + i64::from(ack.wrapping_sub(self.snd_seq(self.snd_una)) as i32)
    }
    /// SEG.SEQ as a receive position.
    fn seq_pos(&self, seq: u32) -> i64 {
        self.rcv_nxt as i64 + i64::from(seq.wrapping_sub(self.rcv_seq(self.rcv_nxt)) as i32)
    }
    /// RCV.WND: the buffer minus what the user has not read yet.
    fn rcv_wnd(&self) -> u32 {
        self.cfg.rcv_wnd.saturating_sub(self.rcv_buf.len() as u32)
    }
    fn data_end(&self) -> u64 {
        self.snd_buf_base + self.snd_buf.len() as u64
    }

    // ----- output --------------------------------------------------------------------------

    fn segment(&mut self, pos: u64, flags: Flags, data: Vec<u8>) -> Segment {
        let wnd = self.rcv_wnd();
        self.adv_wnd = wnd;
        if flags.has(Flags::ACK) {
            self.ack_deadline = None;
        }
        Segment {
            src_port: self.local_port,
            dst_port: self.remote_port,
            seq: self.snd_seq(pos),
            ack: if flags.has(Flags::ACK) {
                self.rcv_seq(self.rcv_nxt)
            } else {
                0
            },
            flags,
            wnd,
            data,
        }
    }

    /// `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>`: an acknowledgment, a duplicate-segment reply, or an
    /// RFC 5961 challenge ACK.
    ///
    /// SND.NXT here is the highest sequence number sent (SND.MAX), as in Linux: after a timeout
    /// our retransmission point goes back, but an ACK carrying that old number could be below
    /// the peer's RCV.NXT, unacceptable to it, and answered by an ACK that is unacceptable to us
    /// in turn: an endless ACK war (found by a seed sweep with zero delay).
    fn emit_ack(&mut self, out: &mut Outputs) {
        let s = self.segment(self.snd_max, Flags::ACK, Vec::new());
        out.segments.push(s);
    }

    /// `<SEQ=SND.NXT><CTL=RST>` (abort, §3.10.5; a SYN in a synchronized state without RFC
    /// 5961), or `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>` with `with_ack`.
    fn emit_rst(&mut self, with_ack: bool, out: &mut Outputs) {
        let flags = if with_ack {
            Flags::RST.with(Flags::ACK)
        } else {
            Flags::RST
        };
        let s = self.segment(self.snd_max, flags, Vec::new());
        out.segments.push(s);
    }

    /// The SYN (SYN-SENT) or SYN,ACK (SYN-RECEIVED), first sent or again.
    fn emit_syn(&mut self, now: u64, out: &mut Outputs) {
        let flags = if self.state == State::SynSent {
            Flags::SYN
        } else {
            Flags::SYN.with(Flags::ACK)
        };
        let s = self.segment(0, flags, Vec::new());
        out.segments.push(s);
        if self.snd_max == 0 {
            self.rtt_probe = Some((1, now));
        }
        self.snd_nxt = self.snd_nxt.max(1);
        self.snd_max = self.snd_max.max(1);
    }

    fn can_send_data(&self) -> bool {
        matches!(
            self.state,
            State::Established
                | State::CloseWait
                | State::FinWait1
                | State::Closing
                | State::LastAck
        )
    }

    /// Sends what the window allows from `SND.NXT`: data, then the FIN once all data is out.
    fn push(&mut self, now: u64, out: &mut Outputs) {
        if !self.can_send_data() {
            return;
        }
        let wnd_end = self.snd_una + u64::from(self.snd_wnd);
        let data_end = self.data_end();
        while self.snd_nxt < data_end && self.snd_nxt < wnd_end {
            let len = (data_end - self.snd_nxt)
                .min(wnd_end - self.snd_nxt)
                .min(u64::from(self.cfg.mss));
            self.send_data_at(self.snd_nxt, len, now, out);
        }
        if let Some(f) = self.fin_pos {
            if self.snd_nxt == f {
                let s = self.segment(f, Flags::FIN.with(Flags::ACK), Vec::new());
                out.segments.push(s);
                self.advance_nxt(f + 1, now);
            }
        }
    }

    /// Sends `len` data bytes from `pos` (with the FIN if they end the stream).
    fn send_data_at(&mut self, pos: u64, len: u64, now: u64, out: &mut Outputs) {
        let start = (pos - self.snd_buf_base) as usize;
        let end_i = start + len as usize;
        let mut data = Vec::with_capacity(len as usize);
        let (a, b) = self.snd_buf.as_slices();
        if start < a.len() {
            data.extend_from_slice(&a[start..end_i.min(a.len())]);
        }
        if end_i > a.len() {
            data.extend_from_slice(&b[start.saturating_sub(a.len())..end_i - a.len()]);
        }
        let mut flags = Flags::ACK;
        let mut end = pos + len;
        // The FIN rides along when these bytes end the stream, if it is new here (we are at
        // SND.NXT) or was sent before (a retransmission).
        if self.fin_pos == Some(end) && (pos == self.snd_nxt || self.snd_max > end) {
            flags = flags.with(Flags::FIN);
            end += 1;
        }
        let s = self.segment(pos, flags, data);
        out.segments.push(s);
        if pos == self.snd_nxt {
            self.advance_nxt(end, now);
        }
    }

    fn advance_nxt(&mut self, end: u64, now: u64) {
        if self.snd_nxt == self.snd_max && end > self.snd_max && self.rtt_probe.is_none() {
            self.rtt_probe = Some((end, now));
        }
        self.snd_nxt = end;
        self.snd_max = self.snd_max.max(end);
    }

    /// Retransmits the first unacknowledged segment (fast retransmit, partial ACK).
    fn retransmit_first(&mut self, now: u64, out: &mut Outputs) {
        self.rtt_probe = None;
        let p = self.snd_una;
        // Only what was sent before: never past SND.MAX (that would be new data, outside what
        // the window allowed and what SND.MAX accounts for).
        let end = self.data_end().min(self.snd_max);
        if p == 0 {
            self.emit_syn(now, out);
        } else if p < end {
            let len = (end - p).min(u64::from(self.cfg.mss));
            self.send_data_at(p, len, now, out);
        } else if self.fin_pos == Some(p) && self.snd_max > p {
            let s = self.segment(p, Flags::FIN.with(Flags::ACK), Vec::new());
            out.segments.push(s);
        }
    }

    // ----- state and timers ----------------------------------------------------------------

    fn set_state(&mut self, to: State, now: u64, out: &mut Outputs) {
        let to = match to {
            State::TimeWait if self.cfg.mutant == Mutant::TimeWaitSkipped => State::Closed,
            _ => to,
        };
        if to == self.state {
            return;
        }
        out.events.push(Event::State {
            from: self.state,
            to,
        });
        self.state = to;
        match to {
            State::Closed => {
                self.rtx_deadline = None;
                self.tw_deadline = None;
                self.ack_deadline = None;
            }
            State::TimeWait => {
                self.rtx_deadline = None;
                self.tw_deadline = Some(now + 2 * self.cfg.msl_ms);
            }
            _ => {}
        }
    }

    fn fail(&mut self, err: Errno, now: u64, out: &mut Outputs) {
        self.error = Some(err);
        out.events.push(Event::Error(err));
        self.set_state(State::Closed, now, out);
    }

    fn backoff(&mut self) {
        self.rto = (self.rto * 2).min(self.cfg.rto_max_ms);
    }

    /// Keeps the retransmission (or persist) timer running exactly while it is needed.
    fn arm(&mut self, now: u64) {
        if matches!(self.state, State::Closed | State::TimeWait) {
            return;
        }
        let outstanding = self.snd_max > self.snd_una;
        let must_probe =
            self.snd_wnd == 0 && self.snd_nxt < self.data_end() && self.can_send_data();
        if outstanding || must_probe {
            if self.rtx_deadline.is_none() {
                self.rtx_deadline = Some(now + self.rto);
            }
        } else {
            self.rtx_deadline = None;
        }
    }

    fn rtt_sample(&mut self, rtt_ms: u64) {
        let r = rtt_ms * 1000;
        match self.srtt_us {
            None => {
                self.srtt_us = Some(r);
                self.rttvar_us = r / 2;
            }
            Some(srtt) => {
                self.rttvar_us = (3 * self.rttvar_us + srtt.abs_diff(r)) / 4;
                self.srtt_us = Some((7 * srtt + r) / 8);
            }
        }
        self.rto = self.rto_from_estimate();
    }

    /// RTO = max(rto_min, SRTT + max(1 ms, 4·RTTVAR)), at most rto_max; before any sample, the
    /// initial RTO.
    fn rto_from_estimate(&self) -> u64 {
        match self.srtt_us {
            None => self.cfg.rto_initial_ms.min(self.cfg.rto_max_ms),
            Some(srtt) => (srtt + (4 * self.rttvar_us).max(1000))
                .div_ceil(1000)
                .max(self.cfg.rto_min_ms)
                .min(self.cfg.rto_max_ms),
        }
    }

    /// Timer expiry: TIME-WAIT's end, a delayed ACK, or retransmission / window probe.
    pub fn on_timer(&mut self, now: u64) -> Outputs {
        let mut out = Outputs::default();
        if self.tw_deadline.is_some_and(|d| d <= now) {
            self.tw_deadline = None;
            self.set_state(State::Closed, now, &mut out);
            return out;
        }
        if self.ack_deadline.is_some_and(|d| d <= now) {
            self.ack_deadline = None;
            self.emit_ack(&mut out);
        }
        if self.rtx_deadline.is_some_and(|d| d <= now) {
            self.rtx_deadline = None;
            self.on_rtx_timeout(now, &mut out);
        }
        self.arm(now);
        out
    }

    fn on_rtx_timeout(&mut self, now: u64, out: &mut Outputs) {
        if self.cfg.mutant == Mutant::NoZeroWindowProbe && self.snd_max == self.snd_una {
            return; // the mutant: the persist timer sends no probe
        }
        if self.snd_una == 0 {
            // SYN or SYN,ACK unacknowledged (MUST-23: at least 3 minutes of retries).
            if self.retries >= self.cfg.syn_retries {
                if self.passive && self.state == State::SynReceived {
                    self.set_state(State::Closed, now, out);
                } else {
                    self.fail(Errno::TimedOut, now, out);
                }
                return;
            }
            self.retries += 1;
            self.backoff();
            self.rtt_probe = None;
            self.emit_syn(now, out);
            return;
        }
        if self.snd_max > self.snd_una {
            // While probing a zero window, `retries` counts unanswered probes only: an answer
            // resets it (see `probe_answered`), so a live receiver is probed forever.
            if self.retries >= DATA_RETRIES {
                self.fail(Errno::TimedOut, now, out);
                return;
            }
            self.retries += 1;
            self.backoff();
            self.rtt_probe = None;
            self.recover = None;
            self.dupacks = 0;
            // Go back N: everything from SND.UNA is sent again as the window allows.
            self.snd_nxt = self.snd_una;
            let before = out.segments.len();
            self.push(now, out);
            if out.segments.len() == before {
                self.retransmit_first(now, out);
            }
        } else if self.snd_wnd == 0 && self.snd_nxt < self.data_end() {
            // Zero-window probe (§3.8.6.1): one byte beyond the window.
            self.backoff();
            self.send_data_at(self.snd_nxt, 1, now, out);
        }
    }

    // ----- user calls ----------------------------------------------------------------------

    /// A user call.
    pub fn on_call(&mut self, call: Call, now: u64) -> Outputs {
        let mut out = Outputs::default();
        match call {
            Call::Send(bytes) => {
                if self.fin_pos.is_none() && self.state != State::Closed {
                    self.snd_buf.extend(bytes);
                    self.push(now, &mut out);
                }
            }
            Call::Recv(max) => {
                let n = max.min(self.rcv_buf.len());
                let (a, b) = self.rcv_buf.as_slices();
                let mut data = Vec::with_capacity(n);
                data.extend_from_slice(&a[..n.min(a.len())]);
                data.extend_from_slice(&b[..n.saturating_sub(a.len())]);
                self.rcv_buf.drain(..n);
                out.data = data;
                let mss = self.cfg.mss;
                if n > 0
                    && self.adv_wnd < mss
                    && self.rcv_wnd() >= mss
                    && self.state.is_synchronized()
                {
                    self.emit_ack(&mut out); // window update
                }
            }
            Call::Close => match self.state {
                State::SynSent => self.set_state(State::Closed, now, &mut out),
                State::Established | State::CloseWait
                    if self.cfg.rst_on_close_with_unread && !self.rcv_buf.is_empty() =>
                {
                    // Linux profile: unread data is discarded and the peer told so by a RST.
                    let s = self.segment(self.snd_max, Flags::RST.with(Flags::ACK), Vec::new());
                    out.segments.push(s);
                    self.set_state(State::Closed, now, &mut out);
                }
                State::SynReceived | State::Established | State::CloseWait => {
                    if self.fin_pos.is_none() {
                        self.fin_pos = Some(self.data_end());
                    }
                    let to = if self.state == State::CloseWait {
                        State::LastAck
                    } else {
                        State::FinWait1
                    };
                    self.set_state(to, now, &mut out);
                    self.push(now, &mut out);
                }
                _ => {}
            },
            Call::Abort => {
                if matches!(
                    self.state,
                    State::SynReceived
                        | State::Established
                        | State::FinWait1
                        | State::FinWait2
                        | State::CloseWait
                ) {
                    let with_ack = self.cfg.abort_rst_ack;
                    self.emit_rst(with_ack, &mut out);
                }
                self.set_state(State::Closed, now, &mut out);
            }
        }
        self.arm(now);
        out
    }

    // ----- arriving segments (RFC 9293 §3.10.7) --------------------------------------------

    /// An arriving segment for this connection.
    pub fn on_segment(&mut self, seg: &Segment, now: u64) -> Outputs {
        let mut out = Outputs::default();
        match self.state {
            State::Closed | State::Listen => {}
            State::SynSent => self.in_syn_sent(seg, now, &mut out),
            _ => self.in_synchronized(seg, now, &mut out),
        }
        self.arm(now);
        out
    }

    fn update_window(&mut self, seg: &Segment) {
        self.snd_wnd = seg.wnd;
        self.max_snd_wnd = self.max_snd_wnd.max(seg.wnd);
        self.snd_wl1 = seg.seq;
        self.snd_wl2 = seg.ack;
    }

    /// §3.10.7.3.
    fn in_syn_sent(&mut self, seg: &Segment, now: u64, out: &mut Outputs) {
        let f = seg.flags;
        let mutant_ack = self.cfg.mutant == Mutant::SynSentAckWithoutSyn
            && f.has(Flags::ACK)
            && !f.has(Flags::SYN)
            && !f.has(Flags::RST);
        if f.has(Flags::ACK) && !mutant_ack {
            let p = u64::from(seg.ack.wrapping_sub(self.iss));
            if p == 0 || p > self.snd_max {
                if !f.has(Flags::RST) {
                    let mut r = super::reset::reset_for(seg).expect("not a RST");
                    r.wnd = 0;
                    out.segments.push(r);
                }
                return;
            }
        }
        if f.has(Flags::RST) {
            if f.has(Flags::ACK) {
                self.fail(Errno::ConnRefused, now, out);
            }
            return;
        }
        if !f.has(Flags::SYN) && !mutant_ack {
            return;
        }
        self.irs = seg.seq;
        self.rcv_nxt = 1;
        if f.has(Flags::ACK) {
            self.on_new_ack(1, now, out);
        }
        self.update_window(seg);
        self.accept_data(1, &seg.data);
        if self.snd_una > 0 {
            self.set_state(State::Established, now, out);
            self.emit_ack(out);
            self.push(now, out);
        } else {
            // Simultaneous open (Figure 7).
            self.set_state(State::SynReceived, now, out);
            self.rtx_deadline = None;
            self.emit_syn(now, out);
        }
    }

    fn acceptable(&self, s: i64, len: i64, wnd: i64) -> bool {
        let nxt = self.rcv_nxt as i64;
        let in_wnd = |x: i64| nxt <= x && x < nxt + wnd;
        match (len, wnd) {
            (0, 0) => s == nxt,
            (0, _) => in_wnd(s),
            (_, 0) => false,
            _ => in_wnd(s) || in_wnd(s + len - 1),
        }
    }

    /// §3.10.7.4: SYN-RECEIVED and the synchronized states.
    fn in_synchronized(&mut self, seg: &Segment, now: u64, out: &mut Outputs) {
        let f = seg.flags;
        let s = self.seq_pos(seg.seq);
        let len = i64::from(seg.seg_len());
        // Figure 7 (simultaneous open) draws no reply to the peer's SYN,ACK in SYN-RECEIVED, but
        // its sequence number (the peer's ISN, below RCV.NXT) makes it unacceptable, and the first
        // check answers it with an ACK; the peer's own ACK then completes the handshake. Linux
        // does the same (measured: `synclab sim kernel rfc9293-fig7-simultaneous-open`).
        let blind_rst = self.cfg.mutant == Mutant::RstOutsideWindow && f.has(Flags::RST);
        // First: the sequence number.
        if !blind_rst && !self.acceptable(s, len, i64::from(self.rcv_wnd())) {
            if f.has(Flags::RST) {
                return;
            }
            if self.state == State::TimeWait && f.has(Flags::FIN) {
                // A retransmitted FIN: ACK it again and restart the 2 MSL wait (§3.10.7.4).
                self.tw_deadline = Some(now + 2 * self.cfg.msl_ms);
            }
            if self.state == State::SynReceived && f.has(Flags::SYN) && !f.has(Flags::ACK) && s == 0
            {
                // The peer's SYN again: our SYN,ACK was lost, send it again.
                self.emit_syn(now, out);
                return;
            }
            if len == 0 {
                // An unacceptable bare ACK is answered at most once per OOW_ACK_INTERVAL_MS (as
                // Linux rate-limits these): two ends whose ACKs are each outside the other's
                // window would otherwise ACK each other forever (found by a seed sweep).
                if self
                    .last_oow_ack
                    .is_some_and(|t| now < t + OOW_ACK_INTERVAL_MS)
                {
                    return;
                }
                self.last_oow_ack = Some(now);
            }
            self.emit_ack(out);
            return;
        }
        // Second: RST.
        if f.has(Flags::RST) {
            if self.cfg.rfc5961 && s != self.rcv_nxt as i64 && !blind_rst {
                self.emit_ack(out); // challenge ACK
                return;
            }
            match self.state {
                State::SynReceived if self.passive => self.set_state(State::Closed, now, out),
                State::SynReceived => self.fail(Errno::ConnRefused, now, out),
                State::Established | State::FinWait1 | State::FinWait2 | State::CloseWait => {
                    self.fail(Errno::ConnReset, now, out)
                }
                _ => self.set_state(State::Closed, now, out),
            }
            return;
        }
        // Fourth: SYN.
        if f.has(Flags::SYN) {
            if self.state == State::SynReceived && self.passive {
                self.set_state(State::Closed, now, out); // back to LISTEN: the child goes
                return;
            }
            if self.cfg.rfc5961 {
                self.emit_ack(out); // challenge ACK
            } else {
                self.emit_rst(false, out);
                self.fail(Errno::ConnReset, now, out);
            }
            return;
        }
        // Fifth: ACK.
        if !f.has(Flags::ACK) {
            return;
        }
        let a = self.ack_pos(seg.ack);
        if self.state == State::SynReceived {
            if a > self.snd_una as i64 && a <= self.snd_max as i64 {
                self.set_state(State::Established, now, out);
                self.update_window(seg);
            } else {
                let mut r = super::reset::reset_for(seg).expect("not a RST");
                r.wnd = 0;
                out.segments.push(r);
                return;
            }
        }
        if a > self.snd_max as i64
            || (self.cfg.rfc5961 && a < self.snd_una as i64 - i64::from(self.max_snd_wnd))
        {
            self.emit_ack(out);
            return;
        }
        let a = a.max(0) as u64;
        let is_dup = a == self.snd_una
            && seg.data.is_empty()
            && !f.has(Flags::FIN)
            && self.snd_max > self.snd_una
            && seg.wnd == self.snd_wnd;
        if a > self.snd_una {
            self.on_new_ack(a, now, out);
        }
        // Window update (SND.WL1/WL2 rule), done as signed distances.
        let wl1_older = (seg.seq.wrapping_sub(self.snd_wl1) as i32) > 0;
        let wl2_ok = (seg.ack.wrapping_sub(self.snd_wl2) as i32) >= 0;
        if wl1_older || (seg.seq == self.snd_wl1 && wl2_ok) {
            let reopened = self.snd_wnd == 0 && seg.wnd > 0;
            self.update_window(seg);
            if reopened {
                // A zero-window probe's byte was refused (the window was zero): the window is
                // open again, so send on from SND.UNA.
                self.snd_nxt = self.snd_una;
            }
        }
        self.probe_answered();
        if is_dup {
            self.dupacks += 1;
            if self.dupacks == 3 && self.recover.is_none() {
                self.recover = Some(self.snd_max);
                self.retransmit_first(now, out);
            }
        }
        let fin_acked = self.fin_pos.is_some_and(|p| self.snd_una > p);
        match self.state {
            State::FinWait1 if fin_acked => self.set_state(State::FinWait2, now, out),
            State::Closing if fin_acked => self.set_state(State::TimeWait, now, out),
            State::LastAck if fin_acked => {
                self.set_state(State::Closed, now, out);
                return;
            }
            _ => {}
        }
        // Seventh: segment text.
        let data_at = s as u64; // acceptable, and any SYN was handled above
        let mut need_ack = false;
        if !seg.data.is_empty() {
            if matches!(
                self.state,
                State::Established | State::FinWait1 | State::FinWait2
            ) {
                need_ack = true;
                self.accept_data(data_at, &seg.data);
            } else {
                need_ack = self.state != State::TimeWait;
            }
        }
        // Eighth: FIN.
        if f.has(Flags::FIN) && !self.fin_received {
            let p = data_at + seg.data.len() as u64;
            if p >= self.rcv_nxt {
                self.rcv_fin = Some(p);
            }
            need_ack = true;
        }
        if self.take_fin(now, out) {
            need_ack = true;
        } else if self.state == State::TimeWait && f.has(Flags::FIN) {
            self.tw_deadline = Some(now + 2 * self.cfg.msl_ms);
            need_ack = true;
        }
        self.push(now, out);
        if need_ack && !out.segments.iter().any(|s| s.flags.has(Flags::ACK)) {
            let in_order = self.ooo.is_empty() && !f.has(Flags::FIN);
            let fin_to_close_wait = f.has(Flags::FIN) && self.state == State::CloseWait;
            if self.cfg.fin_ack_delay_ms > 0 && fin_to_close_wait {
                // Linux profile: the application's FIN or data usually carries this ACK.
                self.ack_deadline = Some(now + self.cfg.fin_ack_delay_ms);
            } else if self.cfg.delayed_ack_ms > 0 && in_order {
                if self.ack_deadline.is_none() {
                    self.ack_deadline = Some(now + self.cfg.delayed_ack_ms);
                }
            } else {
                self.emit_ack(out);
            }
        }
    }

    /// Zero-window probing (§3.8.6.1): the peer's window is closed, data waits, and nothing but
    /// the probe's byte is outstanding.
    fn probing(&self) -> bool {
        self.snd_wnd == 0 && self.snd_max <= self.snd_una + 1 && self.snd_una < self.data_end()
    }

    /// An acceptable ACK arrived while probing a zero window: the receiver is alive, so the
    /// unanswered-probe count starts again. "As long as the receiving TCP peer continues to
    /// send acknowledgments in response to the probe segments, the sending TCP peer MUST allow
    /// the connection to stay open (MUST-37)" (RFC 9293 §3.8.6.1); only a receiver that stops
    /// answering makes the sender give up (ETIMEDOUT after `DATA_RETRIES` probes).
    fn probe_answered(&mut self) {
        if self.probing() {
            self.retries = 0;
        }
    }

    /// Processes the peer's FIN once every byte before it arrived; true if it did.
    fn take_fin(&mut self, now: u64, out: &mut Outputs) -> bool {
        if let Some(p) = self
            .rcv_fin
            .filter(|_| self.cfg.mutant == Mutant::FinBeforeData)
        {
            self.rcv_nxt = self.rcv_nxt.max(p); // the mutant: skip the hole before the FIN
        }
        if self.fin_received || self.rcv_fin != Some(self.rcv_nxt) {
            return false;
        }
        self.fin_received = true;
        self.rcv_nxt += 1;
        let fin_acked = self.fin_pos.is_some_and(|p| self.snd_una > p);
        match self.state {
            State::SynReceived | State::Established => self.set_state(State::CloseWait, now, out),
            State::FinWait1 if fin_acked => self.set_state(State::TimeWait, now, out),
            State::FinWait1 => self.set_state(State::Closing, now, out),
            State::FinWait2 => self.set_state(State::TimeWait, now, out),
            _ => {}
        }
        true
    }

    /// SND.UNA moves to `a`: drop acknowledged bytes, time the RTT, restart the timer.
    fn on_new_ack(&mut self, a: u64, now: u64, out: &mut Outputs) {
        if let Some((p, t)) = self.rtt_probe {
            if a >= p {
                self.rtt_probe = None;
                self.rtt_sample(now - t);
            }
        }
        self.snd_una = a;
        self.snd_nxt = self.snd_nxt.max(a);
        let drop_to = a.min(self.data_end());
        if drop_to > self.snd_buf_base {
            self.snd_buf.drain(..(drop_to - self.snd_buf_base) as usize);
            self.snd_buf_base = drop_to;
        }
        self.retries = 0;
        self.dupacks = 0;
        // New data acknowledged: the backoff ends and the RTO comes from the estimate again
        // (as Linux does; RFC 6298 §5.7 allows it).
        self.rto = self.rto_from_estimate();
        self.rtx_deadline = (self.snd_max > a).then_some(now + self.rto);
        if let Some(r) = self.recover {
            if a >= r {
                self.recover = None;
            } else {
                self.retransmit_first(now, out); // NewReno partial ACK
            }
        }
    }

    /// Takes payload bytes at receive position `at`: in order into the user's buffer, ahead of
    /// a hole into the reassembly map; anything outside the window is cut off.
    fn accept_data(&mut self, at: u64, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let wnd_end = self.rcv_nxt + u64::from(self.rcv_wnd());
        let start = at.max(self.rcv_nxt);
        let end = (at + data.len() as u64).min(wnd_end);
        if start >= end {
            return;
        }
        let bytes = &data[(start - at) as usize..(end - at) as usize];
        if start > self.rcv_nxt {
            let e = self.ooo.entry(start).or_default();
            if bytes.len() > e.len() {
                *e = bytes.to_vec();
            }
            return;
        }
        self.rcv_buf.extend(bytes);
        self.rcv_nxt = end;
        while let Some((&k, _)) = self.ooo.first_key_value() {
            if k > self.rcv_nxt {
                break;
            }
            let v = self.ooo.remove(&k).expect("present");
            let e = k + v.len() as u64;
            if e > self.rcv_nxt {
                self.rcv_buf.extend(&v[(self.rcv_nxt - k) as usize..]);
                self.rcv_nxt = e;
            }
        }
    }
}
