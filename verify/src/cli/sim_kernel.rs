//! `synclab sim kernel SCENARIO [--profile rfc9293|linux] [--json]`: runs a scenario's socket calls on real Linux sockets
//! in a private network namespace and compares segments, states and step results with the
//! simulator (see `crate::kernel`). Exit 0 when they agree, 1 when they differ, 2 for a
//! scenario the kernel cannot run deterministically, 3 when the machine refuses to create a
//! network namespace (skipped, with the reason).

use super::output::{bad_input, Exit, Outcome};
use crate::kernel::namespace::NamespaceError;
use crate::kernel::{self, diff, simulated, KernelRun};
use serde_json::json;
use synclab_sim::scenario::load;

/// Options of `synclab sim kernel`.
#[derive(clap::Args, Debug)]
pub struct KernelArgs {
    /// Built-in scenario name or scenario file.
    scenario: String,
    /// Simulate with this `[tcp] profile` instead of the scenario's own (`rfc9293` or
    /// `linux`).
    #[arg(long, value_parser = ["rfc9293", "linux"])]
    profile: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// Internal: be the namespace child (print the kernel's observation as JSON).
    #[arg(long, hide = true)]
    in_namespace: bool,
}

/// Runs `synclab sim kernel`.
pub fn sim_kernel(a: KernelArgs) -> Exit {
    let mut sc = match load(&a.scenario) {
        Ok(sc) => sc,
        Err(e) => return bad_input(a.json || a.in_namespace, e),
    };
    if let Some(why) = kernel::unsupported(&sc) {
        return bad_input(
            a.json || a.in_namespace,
            format!("scenario {}: {why}", sc.name),
        );
    }
    match a.profile.as_deref() {
        Some("linux") => sc.tcp = sc.tcp.linux(),
        Some(_) => {
            sc.tcp = synclab_sim::tcp::TcpConfig {
                fin_ack_delay_ms: 0,
                rst_on_close_with_unread: false,
                backlog_extra: 0,
                eaddrnotavail_for_tuple_in_use: false,
                abort_rst_ack: false,
                ..sc.tcp
            }
        }
        None => {}
    }
    if a.in_namespace {
        return child(&sc);
    }
    let obs = match kernel::observe(&a.scenario) {
        Ok(KernelRun::Observed(o)) => o,
        Ok(KernelRun::Skipped(reason)) => {
            return Outcome {
                json: json!({"ok": false, "scenario": sc.name, "skipped": reason}),
                text: format!("{}: skipped: {reason}", sc.name),
                exit: Exit::GaveUp,
            }
            .emit(a.json)
        }
        Err(e) => return bad_input(a.json, e),
    };
    let sim = simulated::simulate(&sc);
    let diffs = diff::compare(&obs, &sim);
    let mut text = format!(
        "{}: {} ({} kernel segments, {} simulated)\n",
        sc.name,
        if diffs.is_empty() {
            "agrees"
        } else {
            "differs"
        },
        obs.segments.len(),
        sim.segments.len()
    );
    for d in &diffs {
        text.push_str(&format!(
            "  {}\n    kernel: {}\n    sim:    {}\n",
            d.what, d.kernel, d.sim
        ));
    }
    Outcome {
        json: json!({
            "ok": diffs.is_empty(),
            "scenario": sc.name,
            "agrees": diffs.is_empty(),
            "differences": diffs,
            "kernel": obs,
            "sim": sim,
        }),
        text,
        exit: Exit::from_ok(diffs.is_empty()),
    }
    .emit(a.json)
}

/// The namespace child: one JSON line on stdout (an observation, `skipped` or `error`).
fn child(sc: &synclab_sim::Scenario) -> Exit {
    match kernel::observe_in_namespace(sc) {
        Ok(obs) => {
            println!("{}", serde_json::to_string(&obs).expect("serializable"));
            Exit::Ok
        }
        Err(NamespaceError::Refused(e)) => {
            println!(
                "{}",
                json!({"skipped": NamespaceError::Refused(e).to_string()})
            );
            Exit::GaveUp
        }
        Err(e) => bad_input(true, e),
    }
}
