//! The private network namespace of a kernel run, set up inside the re-executed child: a new
//! net namespace (`unshare(CLONE_NEWNET)`), its loopback up with an MTU that gives the
//! simulator's MSS, the sysctls that keep segments comparable, and one iptables rule per
//! scenario `drop` rule. Nothing outside the namespace is touched: the child's sysctl writes and
//! iptables rules apply to the namespace it is in, which vanishes when it exits.

use nix::sched::{unshare, CloneFlags};
use std::process::Command;
use synclab_sim::net::{Rule, RuleAction};
use synclab_sim::Scenario;

/// Why a namespace could not be made (the caller skips) or set up (an error).
#[derive(Debug, thiserror::Error)]
pub enum NamespaceError {
    /// The machine refuses to create a network namespace.
    #[error("cannot create a network namespace: unshare(CLONE_NEWNET): {0}")]
    Refused(nix::Error),
    /// Something inside the namespace failed.
    #[error("setting up the namespace: {0}")]
    Setup(String),
}

/// The address of host `i` of a scenario: 127.0.0.(i+1), all on the namespace's `lo`.
pub fn host_addr(i: usize) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::new(127, 0, 0, (i + 1) as u8)
}

/// The loopback MTU: 536 bytes of payload (the simulator's default MSS) plus 40 of headers
/// (timestamps are off, so no options follow the handshake).
const LO_MTU: u32 = 576;

/// Moves this process into a new network namespace and prepares it for `sc`.
pub fn enter(sc: &Scenario) -> Result<(), NamespaceError> {
    unshare(CloneFlags::CLONE_NEWNET).map_err(NamespaceError::Refused)?;
    run(
        "ip",
        &["link", "set", "lo", "mtu", &LO_MTU.to_string(), "up"],
    )?;
    // One segment per packet: without this, loopback's segmentation offload hands the capture
    // (and the peer) several MSS in one packet.
    let mtu = LO_MTU.to_string();
    run("ip", &["link", "set", "dev", "lo", "gso_max_segs", "1"])?;
    run("ip", &["link", "set", "dev", "lo", "gso_max_size", &mtu])?;
    // No ECN flags on SYNs, no timestamp option (it would change the MSS), no SACK blocks.
    sysctl("net/ipv4/tcp_ecn", "0")?;
    sysctl("net/ipv4/tcp_timestamps", "0")?;
    sysctl("net/ipv4/tcp_sack", "0")?;
    for rule in &sc.net.rules {
        add_rule(rule)?;
    }
    if crossing_syns(sc) {
        queue_flag("SYN")?;
    }
    if crossing_fins(sc) {
        queue_flag("FIN")?;
    }
    Ok(())
}

/// Whether two hosts connect to each other's connecting ports (a simultaneous open, RFC 9293
/// Figure 7): then their SYNs must cross, which loopback does not do by itself (the first SYN
/// would meet no socket), so segments with SYN go to an NFQUEUE and are released in pairs: the
/// two SYNs together, then the two SYN,ACKs they cause (one would otherwise be answered before
/// the other SYN arrived).
///
/// Not with drop rules: a dropped SYN would leave its partner held (such a scenario, like
/// `simultaneous-open-first-syn-lost`, is deterministic through its loss already).
pub fn crossing_syns(sc: &Scenario) -> bool {
    use synclab_sim::socket::SockCall;
    if !sc.net.rules.is_empty() {
        return false;
    }
    let connects: Vec<(usize, u16, (usize, u16))> = sc
        .steps
        .iter()
        .filter_map(|s| match s.call {
            SockCall::Connect { port: Some(p), to } => Some((s.host, p, to)),
            _ => None,
        })
        .collect();
    connects.iter().any(|&(h, p, to)| {
        connects
            .iter()
            .any(|&(h2, p2, to2)| h2 == to.0 && p2 == to.1 && to2 == (h, p))
    })
}

/// Sends every TCP segment with `flag` set to NFQUEUE 0 (the driver releases them).
fn queue_flag(flag: &str) -> Result<(), NamespaceError> {
    run(
        "iptables",
        &[
            "-A",
            "INPUT",
            "-p",
            "tcp",
            "--tcp-flags",
            flag,
            flag,
            "-j",
            "NFQUEUE",
            "--queue-num",
            "0",
        ],
    )
}

/// Whether the two ends of a connection close at the same instant (a simultaneous close, RFC
/// 9293 Figure 13): a `close` or `shutdown` for writing on each of two hosts with the same
/// `at_ms`, one host connecting to the other. Then the FINs must cross, which loopback does not
/// do by itself (the first FIN would arrive before the other end closed): segments with FIN go
/// to the NFQUEUE and the first two are released together once both are there.
///
/// Not with drop rules (a dropped FIN would leave its partner held; such a scenario, like
/// `simultaneous-close-first-fin-lost`, is deterministic through its loss already).
pub fn crossing_fins(sc: &Scenario) -> bool {
    use synclab_sim::socket::{How, SockCall};
    if !sc.net.rules.is_empty() {
        return false;
    }
    let closes: Vec<(usize, u64)> = sc
        .steps
        .iter()
        .filter(|s| {
            matches!(
                s.call,
                SockCall::Close | SockCall::Shutdown(How::Write | How::Both)
            )
        })
        .filter_map(|s| Some((s.host, s.at_ms?)))
        .collect();
    let connects_to = |a: usize, b: usize| {
        sc.steps
            .iter()
            .any(|s| s.host == a && matches!(s.call, SockCall::Connect { to, .. } if to.0 == b))
    };
    closes.iter().any(|&(h, t)| {
        closes
            .iter()
            .any(|&(h2, t2)| h2 != h && t2 == t && (connects_to(h, h2) || connects_to(h2, h)))
    })
}

/// How many pairs of queued segments are held until both of a pair are there: the two SYNs and
/// the two SYN,ACKs of a simultaneous open, then the two FINs of a simultaneous close.
pub fn held_pairs(sc: &Scenario) -> usize {
    2 * usize::from(crossing_syns(sc)) + usize::from(crossing_fins(sc))
}

fn sysctl(key: &str, value: &str) -> Result<(), NamespaceError> {
    std::fs::write(format!("/proc/sys/{key}"), value)
        .map_err(|e| NamespaceError::Setup(format!("sysctl {key}={value}: {e}")))
}

fn run(cmd: &str, args: &[&str]) -> Result<(), NamespaceError> {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .map_err(|e| NamespaceError::Setup(format!("{cmd}: {e}")))?;
    if !out.status.success() {
        return Err(NamespaceError::Setup(format!(
            "{cmd} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// A `drop` rule as an iptables rule on INPUT: the `nth` TCP segment from `from`'s address to
/// `to`'s, counted by the rule's own `statistic --mode nth` counter (deterministic, no
/// randomness). INPUT comes after the sender's `lo` transmit, where the capture sees the
/// segment, so a dropped segment is captured, as the simulator lists it.
fn add_rule(rule: &Rule) -> Result<(), NamespaceError> {
    if rule.action != RuleAction::Drop {
        return Err(NamespaceError::Setup(
            "only `drop` rules are driven on the kernel".into(),
        ));
    }
    let src = host_addr(rule.from).to_string();
    let dst = host_addr(rule.to).to_string();
    let packet = (rule.nth - 1).to_string();
    run(
        "iptables",
        &[
            "-A",
            "INPUT",
            "-s",
            &src,
            "-d",
            &dst,
            "-p",
            "tcp",
            "-m",
            "statistic",
            "--mode",
            "nth",
            "--every",
            "1000000",
            "--packet",
            &packet,
            "-j",
            "DROP",
        ],
    )
}
