//! The TCP parameters of a scenario's `[tcp]` table (SCENARIOS.md), with its defaults.

/// Per-connection parameters. Times in virtual milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpConfig {
    /// A deliberate bug to switch on (`--mutant`; not a scenario key).
    pub mutant: super::mutant::Mutant,
    pub rto_initial_ms: u64,
    pub rto_min_ms: u64,
    pub rto_max_ms: u64,
    pub syn_retries: u32,
    pub msl_ms: u64,
    pub mss: u32,
    pub rcv_wnd: u32,
    pub rfc5961: bool,
    pub delayed_ack_ms: u64,
    /// The ACK of a FIN that moves the connection to CLOSE-WAIT waits this long for a segment
    /// to ride on (the application's FIN or data), as Linux's delayed ACK does; 0: sent at once.
    pub fin_ack_delay_ms: u64,
    /// CLOSE with received data the user has not read sends a RST and drops the connection
    /// (Linux; RFC 1122 §4.2.2.13 allows it) instead of a FIN.
    pub rst_on_close_with_unread: bool,
    /// A listener queues this many connections beyond its `backlog` before it drops SYNs
    /// (Linux: 1, its accept queue is full only above the backlog; measured with
    /// `synclab sim kernel backlog-full-third`).
    pub backlog_extra: u32,
    /// A connect whose 4-tuple is still in use (e.g. in TIME-WAIT) fails with EADDRNOTAVAIL
    /// (Linux: the bind succeeds, the connect finds the 4-tuple taken) instead of EADDRINUSE.
    pub eaddrnotavail_for_tuple_in_use: bool,
    /// ABORT's RST carries an ACK of RCV.NXT (Linux) instead of §3.10.5's bare
    /// `<SEQ=SND.NXT><CTL=RST>`.
    pub abort_rst_ack: bool,
}

impl Default for TcpConfig {
    fn default() -> Self {
        TcpConfig {
            mutant: super::mutant::Mutant::None,
            rto_initial_ms: 1000,
            rto_min_ms: 1000,
            rto_max_ms: 60000,
            syn_retries: 7,
            msl_ms: 30000,
            mss: 536,
            rcv_wnd: 65535,
            rfc5961: true,
            delayed_ack_ms: 0,
            fin_ack_delay_ms: 0,
            rst_on_close_with_unread: false,
            backlog_extra: 0,
            eaddrnotavail_for_tuple_in_use: false,
            abort_rst_ack: false,
        }
    }
}

impl TcpConfig {
    /// `[tcp] profile = "linux"`: the choices RFC 9293 leaves open made as Linux makes them,
    /// as measured by `synclab sim kernel` (README, "The simulator against Linux").
    pub fn linux(self) -> TcpConfig {
        TcpConfig {
            fin_ack_delay_ms: 40,
            rst_on_close_with_unread: true,
            backlog_extra: 1,
            eaddrnotavail_for_tuple_in_use: true,
            abort_rst_ack: true,
            ..self
        }
    }
}
