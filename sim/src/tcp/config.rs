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
        }
    }
}
