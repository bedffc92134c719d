//! The built-in scenarios: the files under `sim/scenarios/`, compiled in so users can read and
//! copy them (`synclab sim list`).

use super::{parse_scenario, Scenario};

macro_rules! b {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!("../../scenarios/", $name, ".toml")),
        )
    };
}

/// `(name, TOML text)` of every built-in, in listing order.
pub const BUILTINS: &[(&str, &str)] = &[
    b!("rfc9293-fig6-handshake"),
    b!("rfc9293-fig7-simultaneous-open"),
    b!("rfc9293-fig8-old-duplicate-syn"),
    b!("rfc9293-fig9-half-open-active"),
    b!("rfc9293-fig10-half-open-passive"),
    b!("rfc9293-fig11-old-syn-two-passive"),
    b!("rfc9293-fig12-normal-close"),
    b!("rfc9293-fig13-simultaneous-close"),
    b!("handshake-close-under-loss"),
    b!("active-close-client"),
    b!("active-close-server"),
    b!("syn-lost"),
    b!("synack-lost"),
    b!("final-ack-lost"),
    b!("fin-lost"),
    b!("connect-closed-port"),
    b!("connect-timeout-partition"),
    b!("abort-mid-stream"),
    b!("abort-after-transfer"),
    b!("half-close-data-flows-back"),
    b!("backlog-full"),
    b!("backlog-full-third"),
    b!("duplicated-reordered-syn"),
    b!("partition-heals-during-handshake"),
    b!("time-wait-then-reconnect"),
    b!("time-wait-reconnect-refused"),
    b!("bulk-1mb-lossy"),
    b!("time-wait-fin-retransmitted"),
    b!("rfc5961-challenge-acks"),
    b!("zero-window-probe"),
    b!("time-wait-server-side-reconnect"),
    b!("zero-window-probe-held-closed"),
    b!("simultaneous-open-first-syn-lost"),
    b!("simultaneous-close-first-fin-lost"),
    b!("close-with-unread-data"),
];

/// The built-in called `name`, parsed.
pub fn builtin(name: &str) -> Option<Scenario> {
    BUILTINS.iter().find(|(n, _)| *n == name).map(|(n, src)| {
        parse_scenario(&format!("builtin:{n}"), src).expect("built-in scenarios parse")
    })
}

/// Every built-in, parsed.
pub fn all() -> Vec<Scenario> {
    BUILTINS
        .iter()
        .map(|(n, _)| builtin(n).expect("listed"))
        .collect()
}
