//! The kernel differential harness: a scenario's socket calls on real Linux sockets in a
//! private network namespace, compared with the simulator (issue 12, `synclab sim kernel`).
//!
//! The parent never touches the network: it re-executes its own binary
//! (`synclab sim kernel SCENARIO --in-namespace`, hidden), and that child — a fresh,
//! single-threaded process — enters a new network namespace ([`namespace`]), captures every
//! segment on its `lo` ([`capture`]), runs the steps ([`driver`]), samples socket states
//! ([`states`]) and prints an [`Observation`] as JSON. The parent runs the simulator
//! ([`simulated`]) and compares the two ([`diff`]).
//!
//! What is compared: each host's segments in order, as flags, sequence and acknowledgment
//! numbers relative to each direction's ISN and payload length (timing and windows are not);
//! each connection's states (the kernel's samples must be the simulator's trajectory or a part
//! of it in order, ending in the same state); each step's result.

pub mod capture;
pub mod diff;
pub mod driver;
pub mod namespace;
pub mod nfqueue;
pub mod observed;
pub mod simulated;
pub mod states;

pub use observed::Observation;

use std::process::Command;
use synclab_sim::Scenario;

/// Why a scenario cannot be driven on the kernel deterministically, if it cannot: the
/// network must be quiet except for `drop` rules, and the steps must not crash a host.
pub fn unsupported(sc: &Scenario) -> Option<String> {
    let d = &sc.net.default;
    let random = d.loss > 0.0 || d.duplicate > 0.0 || d.reorder > 0.0;
    let links_random = sc.net.links.iter().any(|l| {
        l.loss.is_some_and(|p| p > 0.0)
            || l.duplicate.is_some_and(|p| p > 0.0)
            || l.reorder.is_some_and(|p| p > 0.0)
    });
    if random || links_random {
        return Some(
            "random loss, duplication or reordering cannot be reproduced on the kernel".into(),
        );
    }
    if !sc.net.partitions.is_empty() {
        return Some("partitions are not driven on the kernel".into());
    }
    if sc
        .net
        .rules
        .iter()
        .any(|r| r.action != synclab_sim::net::RuleAction::Drop)
    {
        return Some("only `drop` rules are driven on the kernel (no delay or duplicate)".into());
    }
    if !sc.injects.is_empty() {
        return Some("injected segments are not driven on the kernel".into());
    }
    for s in &sc.steps {
        match &s.call {
            synclab_sim::socket::SockCall::Crash => {
                return Some(format!(
                    "line {}: `crash` is not driven on the kernel",
                    s.line
                ))
            }
            synclab_sim::socket::SockCall::Connect { port: None, .. } => {
                return Some(format!(
                "line {}: a connect step needs `port` on the kernel (segments are matched by port)",
                s.line
            ))
            }
            _ => {}
        }
    }
    None
}

/// The child's side: enter a namespace, run `sc`, and return the observation. An `Err` of
/// [`namespace::NamespaceError::Refused`] means the machine will not make a namespace.
pub fn observe_in_namespace(sc: &Scenario) -> Result<Observation, namespace::NamespaceError> {
    namespace::enter(sc)?;
    let cap = capture::Capture::open()
        .map_err(|e| namespace::NamespaceError::Setup(format!("AF_PACKET capture on lo: {e}")))?;
    let queue = if namespace::held_pairs(sc) > 0 {
        Some(
            nfqueue::Queue::open()
                .map_err(|e| namespace::NamespaceError::Setup(format!("binding NFQUEUE 0: {e}")))?,
        )
    } else {
        None
    };
    Ok(driver::Driver::new(sc).run(&cap, queue.as_ref()))
}

/// What the child reported.
pub enum KernelRun {
    /// The run's observation.
    Observed(Observation),
    /// The machine refused to create a network namespace (the reason).
    Skipped(String),
}

/// The parent's side: re-executes this binary as the namespace child for scenario `arg`
/// (a built-in name or a file) and reads its observation.
pub fn observe(arg: &str) -> Result<KernelRun, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let out = Command::new(exe)
        .args(["sim", "kernel", arg, "--in-namespace"])
        .output()
        .map_err(|e| format!("starting the namespace child: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).map_err(|e| {
        format!(
            "namespace child (exit {:?}) printed no observation ({e}); stderr: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).trim()
        )
    })?;
    if let Some(reason) = v["skipped"].as_str() {
        return Ok(KernelRun::Skipped(reason.to_string()));
    }
    if let Some(err) = v["error"].as_str() {
        return Err(err.to_string());
    }
    serde_json::from_value(v)
        .map(KernelRun::Observed)
        .map_err(|e| format!("namespace child's observation: {e}"))
}
