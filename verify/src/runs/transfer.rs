//! Two-process transfers: one producer process and one consumer process over a named-shm ring
//! (`spsc` records or `frames`), the consumer checking order, loss and duplication.

use super::faults::{pidfd, StopInjector};
use crate::procs::{reap_all, WorkerExe, WorkerExit};
use serde::Serialize;
use std::time::Duration;
use synclab_core::shm::ShmName;
use synclab_core::{Frames, Spsc, Wakeups};

/// What a two-process transfer did.
#[derive(Clone, Debug, Serialize)]
pub struct TransferReport {
    /// `spsc` or `frames`.
    pub ring: &'static str,
    /// Messages the consumer was to receive.
    pub messages: u64,
    /// Messages it received.
    pub received: u64,
    /// Payload bytes received (frames).
    pub bytes: u64,
    /// Consumer's time from first to last message.
    pub seconds: f64,
    /// `received / seconds`.
    pub msgs_per_sec: f64,
    /// Messages never received.
    pub lost: u64,
    /// Messages received twice.
    pub duplicated: u64,
    /// Messages out of sequence.
    pub out_of_order: u64,
    /// Messages with damaged contents.
    pub corrupt: u64,
    /// Everything held: both workers exited 0 and the consumer's checks passed.
    pub ok: bool,
    /// What went wrong, if anything.
    pub errors: Vec<String>,
}

fn role_args(
    role: &str,
    name: &ShmName,
    count: u64,
    batch: usize,
    history: Option<(&ShmName, usize)>,
) -> Vec<String> {
    let mut v = vec![
        role.into(),
        "--name".into(),
        name.to_string(),
        "--count".into(),
        count.to_string(),
        "--batch".into(),
        batch.to_string(),
    ];
    if let Some((h, worker)) = history {
        v.extend([
            "--history".into(),
            h.to_string(),
            "--worker".into(),
            worker.to_string(),
        ]);
    }
    v
}

/// Runs a producer process (history worker 0) and a consumer process (worker 1) over the ring
/// `name` of kind `ring` (`spsc` or `frames`), recording into `history` if given, with
/// SIGSTOP/SIGCONT pairs injected into both at `stops = (rate per second, seed)` if given.
/// Returns the report and how many stops were injected.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_pair(
    exe: &WorkerExe,
    ring: &'static str,
    name: &ShmName,
    count: u64,
    batch: usize,
    history: Option<&ShmName>,
    stops: Option<(f64, u64)>,
    timeout: Duration,
) -> Result<(TransferReport, u64), String> {
    let consumer = exe
        .spawn(&role_args(
            &format!("{ring}-consume"),
            name,
            count,
            batch,
            history.map(|h| (h, 1)),
        ))
        .map_err(|e| format!("cannot start the consumer process: {e}"))?;
    let producer = match exe.spawn(&role_args(
        &format!("{ring}-produce"),
        name,
        count,
        batch,
        history.map(|h| (h, 0)),
    )) {
        Ok(p) => p,
        Err(e) => {
            reap_all(vec![consumer], Duration::ZERO);
            return Err(format!("cannot start the producer process: {e}"));
        }
    };
    crate::procs::signals::announce_started(2);
    let injector = stops.and_then(|(rate, seed)| {
        let fds = [&consumer, &producer]
            .iter()
            .filter_map(|c| pidfd(c.id()).ok())
            .collect();
        StopInjector::start(fds, rate, seed)
    });
    let exits = reap_all(vec![consumer, producer], timeout);
    let stops = injector.map_or(0, StopInjector::finish);
    Ok((summarise(ring, count, &exits), stops))
}

fn summarise(ring: &'static str, count: u64, exits: &[WorkerExit]) -> TransferReport {
    let mut errors = Vec::new();
    for (who, e) in ["consumer", "producer"].iter().zip(exits) {
        if !e.success() {
            errors.push(format!("{who} process: {}", e.describe()));
        }
    }
    let consumer: serde_json::Value = exits
        .first()
        .and_then(|e| e.stdout.lines().last())
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_default();
    for (who, e) in ["consumer", "producer"].iter().zip(exits) {
        let v: serde_json::Value = e
            .stdout
            .lines()
            .last()
            .and_then(|l| serde_json::from_str(l).ok())
            .unwrap_or_default();
        if let Some(err) = v.get("error").and_then(|x| x.as_str()) {
            errors.push(format!("{who}: {err}"));
        }
    }
    let get = |k: &str| consumer.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
    let seconds = consumer
        .get("seconds")
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0);
    let received = get("received");
    let lost = if consumer.is_null() {
        count
    } else {
        get("lost")
    };
    let consumer_ok = consumer.get("ok").and_then(|v| v.as_bool()) == Some(true);
    TransferReport {
        ring,
        messages: count,
        received,
        bytes: get("bytes"),
        seconds,
        msgs_per_sec: if seconds > 0.0 {
            received as f64 / seconds
        } else {
            0.0
        },
        lost,
        duplicated: get("duplicated"),
        out_of_order: get("out_of_order"),
        corrupt: get("corrupt"),
        ok: consumer_ok && errors.is_empty(),
        errors,
    }
}

/// Moves `count` records from a producer process to a consumer process through a new named
/// `spsc` ring of `capacity` slots, `batch` records per push/pop.
pub fn spsc_transfer(
    exe: &WorkerExe,
    count: u64,
    capacity: usize,
    batch: usize,
    timeout: Duration,
) -> Result<TransferReport, String> {
    spsc_transfer_with(exe, count, capacity, batch, Wakeups::Futex, timeout)
}

/// [`spsc_transfer`] on a ring whose blocking forms wait as `wakeups` says.
pub fn spsc_transfer_with(
    exe: &WorkerExe,
    count: u64,
    capacity: usize,
    batch: usize,
    wakeups: Wakeups,
    timeout: Duration,
) -> Result<TransferReport, String> {
    let name = ShmName::unique("spsc");
    let _ring = Spsc::<crate::workers::Record>::builder()
        .capacity(capacity)
        .wakeups(wakeups)
        .create(&name)
        .map_err(|e| format!("cannot create the spsc ring {name}: {e}"))?;
    run_pair(exe, "spsc", &name, count, batch, None, None, timeout).map(|(t, _)| t)
}

/// Moves `count` frames from a producer process to a consumer process through a new named
/// `frames` ring of `capacity` bytes.
pub fn frames_transfer(
    exe: &WorkerExe,
    count: u64,
    capacity: usize,
    timeout: Duration,
) -> Result<TransferReport, String> {
    frames_transfer_with(exe, count, capacity, Wakeups::Futex, timeout)
}

/// [`frames_transfer`] on a ring whose blocking forms wait as `wakeups` says.
pub fn frames_transfer_with(
    exe: &WorkerExe,
    count: u64,
    capacity: usize,
    wakeups: Wakeups,
    timeout: Duration,
) -> Result<TransferReport, String> {
    let name = ShmName::unique("frames");
    let _ring = Frames::builder()
        .capacity(capacity)
        .wakeups(wakeups)
        .create(&name)
        .map_err(|e| format!("cannot create the frames ring {name}: {e}"))?;
    run_pair(exe, "frames", &name, count, 1, None, None, timeout).map(|(t, _)| t)
}
