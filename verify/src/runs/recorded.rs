//! Multi-process runs whose every operation is recorded (see `history_buffers`), then checked:
//! `mpmc` (producers and consumers over one queue) and `spsc`/`frames` (one producer, one
//! consumer); what every recorded run shares (worker arguments, history assembly, the check,
//! the report). The semaphore run is in `semaphore.rs`. Optional SIGSTOP/SIGCONT injection for
//! every kind; SIGKILL of mpmc producers and consumers (`mpmc_kills.rs`).

use super::faults::{pidfd, StopInjector};
use super::history_buffers::{to_ops, HistoryBuffers};
use super::mpmc_kills::{self, KillTrigger};
use crate::lin::{self, CheckOptions, History, Model, OpKind, Verdict};
use crate::procs::{reap_all, WorkerExe, WorkerExit};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use synclab_core::shm::ShmName;
use synclab_core::{Frames, Mpmc, Spsc};

/// Parameters of a recorded run.
#[derive(Clone, Debug)]
pub struct RunParams {
    /// Worker processes.
    pub procs: usize,
    /// mpmc: values to enqueue in total; spsc/frames: messages; semaphore: rounds per worker.
    pub messages: u64,
    /// mpmc/spsc: ring slots; frames: ring bytes; semaphore: permits.
    pub capacity: usize,
    /// SIGSTOP/SIGCONT pairs per second among all the workers (0 = none); every kind.
    pub stop_rate: f64,
    /// Seed of the fault injector (stops, kill victims and kill points).
    pub seed: u64,
    /// mpmc: producer and consumer processes to SIGKILL mid-run (alternately, a producer first,
    /// leaving at least one of each role), each inside a seeded operation (see
    /// `kill_trigger`). semaphore: workers to SIGKILL (fewer than
    /// the workers), each at a seeded round while it holds every permit, followed by
    /// `recover()` (see `semaphore.rs`). spsc/frames: must be 0.
    pub kills: usize,
    /// mpmc: what sets off each kill (`mpmc_kills.rs`): the victim itself inside its seeded
    /// operation (deterministic), or the parent once the victim's history shows that many.
    pub kill_trigger: KillTrigger,
    /// Where to save the history (HISTORY.md format), if anywhere.
    pub history: Option<PathBuf>,
    /// Deadline for the whole run (workers are killed past it).
    pub timeout: Duration,
    /// Time limit for the linearizability check.
    pub check_timeout: Duration,
}

/// What a recorded run found (the JSON of `synclab run`).
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// `spsc`, `frames`, `mpmc` or `semaphore`.
    pub kind: &'static str,
    /// Every check held.
    pub ok: bool,
    /// Worker processes.
    pub procs: usize,
    /// Operations recorded.
    pub ops: u64,
    /// Wall-clock seconds of the run (spawn to last exit).
    pub seconds: f64,
    /// Completed operations per second.
    pub throughput: f64,
    /// The checker's verdict (`null` if it gave up at its time limit).
    pub linearizable: Option<bool>,
    /// Which checker decided.
    pub checker: String,
    /// Seconds the check took.
    pub check_seconds: f64,
    /// Values enqueued and never dequeued (mpmc: with kills, at most the dequeues of unknown
    /// outcome).
    pub lost: u64,
    /// Values dequeued more than once (mpmc).
    pub duplicated: u64,
    /// SIGSTOP/SIGCONT pairs injected.
    pub stops_injected: u64,
    /// How each worker ended.
    pub workers: Vec<String>,
    /// Problems found.
    pub errors: Vec<String>,
    /// The smallest set of operations with no linearization, when not linearizable.
    pub witness: Vec<Value>,
    /// Kind-specific results (semaphore: `max_holders`, `acquires`, `final_value`, `permits`,
    /// and with kills `killed`, `recovered_permits`, `unknown_outcomes`; mpmc: `killed`,
    /// `killed_producers`, `killed_consumers`, `unknown_outcomes`, `unknown_dequeues`,
    /// `kill_trigger`, `kill_points` (per victim: `worker`, `role`, `at`, `step`, `killed`,
    /// `recorded`: the operations its history shows), `tombstones`, `dropped`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

pub(super) fn role(
    role: &str,
    name: &ShmName,
    history: &ShmName,
    worker: usize,
    count: u64,
    extra: &[String],
) -> Vec<String> {
    let mut v: Vec<String> = vec![
        role.into(),
        "--name".into(),
        name.to_string(),
        "--history".into(),
        history.to_string(),
        "--worker".into(),
        worker.to_string(),
        "--count".into(),
        count.to_string(),
        "--deadline-ms".into(),
        "600000".into(),
    ];
    v.extend(extra.iter().cloned());
    v
}

pub(super) fn worker_errors(
    exits: &[WorkerExit],
    killed: &[usize],
    errors: &mut Vec<String>,
) -> Vec<String> {
    exits
        .iter()
        .map(|e| {
            if killed.contains(&e.index) {
                return format!("{} (SIGKILL injected)", e.describe());
            }
            if !e.success() {
                let detail = e
                    .stdout
                    .lines()
                    .last()
                    .and_then(|l| serde_json::from_str::<Value>(l).ok())
                    .and_then(|v| v.get("error").and_then(|x| x.as_str()).map(String::from))
                    .unwrap_or_default();
                errors.push(format!("worker {}: {} {detail}", e.index, e.describe()));
            }
            e.describe()
        })
        .collect()
}

struct Checked {
    linearizable: Option<bool>,
    checker: String,
    seconds: f64,
    witness: Vec<Value>,
}

fn check_and_save(history: &History, p: &RunParams, errors: &mut Vec<String>) -> Checked {
    if let Some(signal) = crate::procs::signals::received() {
        errors.push(format!(
            "interrupted by {}: workers stopped, nothing checked",
            crate::procs::signals::name(signal)
        ));
        return Checked {
            linearizable: None,
            checker: "none".into(),
            seconds: 0.0,
            witness: Vec::new(),
        };
    }
    if let Some(path) = &p.history {
        if let Err(e) = lin::save_history(path, history) {
            errors.push(format!(
                "cannot save the history to {}: {e}",
                path.display()
            ));
        }
    }
    let start = Instant::now();
    let report = lin::check(
        history,
        &CheckOptions {
            // An unrepresentable deadline is none (the CLI bounds it to a day anyway).
            deadline: start.checked_add(p.check_timeout),
            ..CheckOptions::default()
        },
    );
    let linearizable = match report.verdict {
        Verdict::Linearizable => Some(true),
        Verdict::NotLinearizable => Some(false),
        Verdict::Unknown => None,
    };
    if linearizable.is_none() {
        errors.push(format!(
            "the linearizability check gave up at its time limit ({} checker{})",
            report.checker,
            report
                .fallback_reason
                .as_deref()
                .map(|r| format!("; fast checker not applicable: {r}"))
                .unwrap_or_default()
        ));
    }
    if linearizable == Some(false) {
        errors.push(format!(
            "history is not linearizable{}",
            report
                .violation
                .as_deref()
                .map(|v| format!(": {v}"))
                .unwrap_or_default()
        ));
    }
    Checked {
        linearizable,
        checker: report.checker.to_string(),
        seconds: start.elapsed().as_secs_f64(),
        witness: report
            .witness
            .iter()
            .map(|&i| history.ops[i].to_json())
            .collect(),
    }
}

/// Every worker's recorded operations as one history of `model`.
pub(super) fn history_of(model: Model, buffers: &HistoryBuffers) -> History {
    let mut history = History::new(model);
    for (w, e) in buffers.entries().iter().enumerate() {
        history.ops.extend(to_ops(w, e));
    }
    history
}

/// What every recorded run reports besides its kind-specific results.
pub(super) struct Outcome {
    pub(super) procs: usize,
    pub(super) seconds: f64,
    pub(super) stops: u64,
    pub(super) workers: Vec<String>,
    pub(super) errors: Vec<String>,
    pub(super) lost: u64,
    pub(super) duplicated: u64,
}

/// Checks (and saves) the history, then assembles the report.
pub(super) fn finish(
    kind: &'static str,
    history: &History,
    p: &RunParams,
    mut o: Outcome,
    extra: Map<String, Value>,
) -> RunReport {
    let checked = check_and_save(history, p, &mut o.errors);
    let completed = history.ops.iter().filter(|op| op.ok == Some(true)).count();
    RunReport {
        kind,
        ok: o.errors.is_empty() && checked.linearizable == Some(true),
        procs: o.procs,
        ops: history.ops.len() as u64,
        seconds: o.seconds,
        throughput: completed as f64 / o.seconds.max(1e-9),
        linearizable: checked.linearizable,
        checker: checked.checker,
        check_seconds: checked.seconds,
        lost: o.lost,
        duplicated: o.duplicated,
        stops_injected: o.stops,
        workers: o.workers,
        errors: o.errors,
        witness: checked.witness,
        extra,
    }
}

/// Starts the workers for `args`, in order.
pub(super) fn spawn_all(
    exe: &WorkerExe,
    args: &[Vec<String>],
) -> Result<Vec<std::process::Child>, String> {
    let mut children = Vec::new();
    for a in args {
        match exe.spawn(a) {
            Ok(c) => children.push(c),
            Err(e) => {
                reap_all(children, Duration::ZERO);
                return Err(format!("cannot start a worker process: {e}"));
            }
        }
    }
    Ok(children)
}

/// A stop injector over `children` (none when `p.stop_rate` is 0).
pub(super) fn injector<'a>(
    children: impl Iterator<Item = &'a std::process::Child>,
    p: &RunParams,
) -> Option<StopInjector> {
    let fds = children.filter_map(|c| pidfd(c.id()).ok()).collect();
    StopInjector::start(fds, p.stop_rate, p.seed)
}

/// `procs/2` producer processes enqueue `messages` distinct values in total into a named mpmc
/// queue of `capacity` slots; the other processes dequeue until the parent closes the queue
/// after the producers exit. Checks: every worker exit, no loss (beyond the dequeues of unknown
/// outcome of killed consumers), no duplication, and linearizability of the recorded history
/// against a FIFO queue, with the killed workers' last operations of unknown outcome.
pub fn mpmc_run(exe: &WorkerExe, p: &RunParams) -> Result<RunReport, String> {
    let procs = p.procs.max(2);
    let producers = procs / 2;
    let consumers = procs - producers;
    let per_producer = |i: usize| {
        p.messages / producers as u64 + u64::from((i as u64) < p.messages % producers as u64)
    };
    let qname = ShmName::unique("mpmc");
    let hname = ShmName::unique("hist");
    let q = Mpmc::<u64>::builder()
        .capacity(p.capacity)
        .create(&qname)
        .map_err(|e| format!("cannot create the mpmc queue: {e}"))?;
    // Producers record their enqueues; consumers at most every value once plus one dequeue
    // each that finds the queue closed (or fails).
    let entries = 2 * p.messages as usize + consumers;
    let buffers = HistoryBuffers::create(&hname, procs, entries)
        .map_err(|e| format!("cannot create the history region: {e}"))?;
    let expected = |w: usize| {
        if w < producers {
            per_producer(w)
        } else {
            p.messages / consumers as u64
        }
    };
    let victims = mpmc_kills::pick(producers, consumers, p.kills, p.seed, expected);
    let by_op = p.kill_trigger == KillTrigger::Op;
    // Trigger `op`: each victim is told where it dies.
    let die_args = |w: usize| -> Vec<String> {
        match victims.iter().find(|v| v.worker == w) {
            Some(v) if by_op => vec![
                "--die-at".into(),
                v.at.to_string(),
                "--die-step".into(),
                v.step.name().into(),
            ],
            _ => Vec::new(),
        }
    };
    let consumer_args: Vec<_> = (producers..procs)
        .map(|w| role("mpmc-consume", &qname, &hname, w, 0, &die_args(w)))
        .collect();
    let producer_args: Vec<_> = (0..producers)
        .map(|w| {
            let mut extra = vec!["--id".into(), (w + 1).to_string()];
            extra.extend(die_args(w));
            role("mpmc-produce", &qname, &hname, w, per_producer(w), &extra)
        })
        .collect();
    let gated: Vec<_> = victims
        .iter()
        .filter(|v| by_op && v.worker >= producers)
        .copied()
        .collect();
    let start = Instant::now();
    let started = mpmc_kills::start(
        exe,
        &q,
        &buffers,
        &producer_args,
        &consumer_args,
        &gated,
        start + p.timeout,
    )?;
    let (producer_children, consumer_children) = (started.producers, started.consumers);
    crate::procs::signals::announce_started(procs);
    let inj = injector(producer_children.iter().chain(&consumer_children), p);
    let all: Vec<&std::process::Child> =
        producer_children.iter().chain(&consumer_children).collect();
    // Trigger `time`: the parent kills them.
    let killer_fds = if by_op {
        Vec::new()
    } else {
        mpmc_kills::victim_fds(&victims, &all)
    };
    let killing_done = std::sync::atomic::AtomicBool::new(false);
    let (producer_exits, consumer_exits, killed) = std::thread::scope(|scope| {
        let killer =
            scope.spawn(|| mpmc_kills::kill_when_progressed(&buffers, killer_fds, &killing_done));
        let producer_exits = reap_all(producer_children, p.timeout);
        q.close();
        let left = p.timeout.saturating_sub(start.elapsed());
        let consumer_exits = reap_all(consumer_children, left);
        // Relaxed: a stop request; the join right after synchronises the killer's results.
        killing_done.store(true, std::sync::atomic::Ordering::Relaxed);
        let killed = killer.join().unwrap_or_default();
        (producer_exits, consumer_exits, killed)
    });
    // Trigger `op`: the victims that died of their own SIGKILL.
    let killed = if by_op {
        mpmc_kills::self_killed(&victims, producers, &producer_exits, &consumer_exits)
    } else {
        killed
    };
    let stops = inj.map_or(0, StopInjector::finish);
    let seconds = start.elapsed().as_secs_f64();

    let mut errors = Vec::new();
    if !started.gate_held {
        errors.push(
            "the consumer victims did not reach their kill points before the deadline".into(),
        );
    }
    // Exits are indexed within their role; `killed` holds worker numbers (producers first).
    let (killed_p, killed_c): (Vec<usize>, Vec<usize>) =
        killed.iter().partition(|&&w| w < producers);
    let killed_c: Vec<usize> = killed_c.iter().map(|w| w - producers).collect();
    let mut workers = worker_errors(&producer_exits, &killed_p, &mut errors);
    workers.extend(worker_errors(&consumer_exits, &killed_c, &mut errors));
    // Checked against an unbounded FIFO: the workers use blocking enqueues, which never report
    // "full", so the bound shows in no recorded outcome; the unbounded model checks order, loss
    // and duplication exactly and lets the O(n log n) checker decide (a bounded model that could
    // have been full sends the checker to the exponential general search).
    let history = history_of(Model::Queue { capacity: None }, &buffers);
    let (missing, duplicated, from_nowhere) = queue_accounting(&history);
    // A consumer killed mid-dequeue may have taken one value with it (its dequeue is recorded
    // with an unknown outcome, and a survivor frees the slot it held): at most that many values
    // may be missing. A producer killed mid-enqueue leaves an enqueue of unknown outcome, whose
    // value may or may not arrive (a tombstone if it never published), so it is never "lost".
    let unknown = |enqueue: bool| {
        history
            .ops
            .iter()
            .filter(|o| matches!(o.kind, OpKind::Enqueue { .. }) == enqueue && o.ok.is_none())
            .count() as u64
    };
    let (unknown_enqueues, unknown_dequeues) = (unknown(true), unknown(false));
    let lost = missing;
    if lost > unknown_dequeues || duplicated > 0 || from_nowhere > 0 {
        errors.push(format!(
            "{lost} lost (at most {unknown_dequeues} may be: dequeues of unknown outcome), \
             {duplicated} duplicated, {from_nowhere} dequeued but never enqueued"
        ));
    }
    let repairs = q.repairs();
    let outcome = Outcome {
        procs,
        seconds,
        stops,
        workers,
        errors,
        lost,
        duplicated,
    };
    let extra = Map::from_iter([
        ("producers".into(), json!(producers)),
        ("consumers".into(), json!(consumers)),
        ("messages".into(), json!(p.messages)),
        ("capacity".into(), json!(p.capacity)),
        ("killed".into(), json!(killed.len())),
        (
            "killed_producers".into(),
            json!(killed.iter().filter(|&&w| w < producers).count()),
        ),
        (
            "killed_consumers".into(),
            json!(killed.iter().filter(|&&w| w >= producers).count()),
        ),
        (
            "unknown_outcomes".into(),
            json!(unknown_enqueues + unknown_dequeues),
        ),
        ("unknown_dequeues".into(), json!(unknown_dequeues)),
        (
            "kill_trigger".into(),
            json!(if by_op { "op" } else { "time" }),
        ),
        (
            "kill_points".into(),
            mpmc_kills::points_json(&victims, producers, &killed, &buffers),
        ),
        ("tombstones".into(), json!(repairs.tombstones)),
        ("dropped".into(), json!(repairs.dropped)),
    ]);
    Ok(finish("mpmc", &history, p, outcome, extra))
}

/// One producer process and one consumer process over a named `spsc` ring (16-byte records) or
/// `frames` ring (frames of 8..256 bytes), every push and pop recorded (one message per call,
/// no batching) and checked: the consumer's own sequence checks, loss and duplication, and
/// linearizability against a FIFO queue. With `p.stop_rate`, both processes are SIGSTOPped and
/// resumed at seeded moments: a peer's blocking push/pop just waits for the stopped side.
pub fn transfer_run(exe: &WorkerExe, frames: bool, p: &RunParams) -> Result<RunReport, String> {
    let kind = if frames { "frames" } else { "spsc" };
    let name = ShmName::unique(kind);
    let hname = ShmName::unique("hist");
    let _ring: Box<dyn std::any::Any> = if frames {
        Box::new(
            Frames::builder()
                .capacity(p.capacity)
                .create(&name)
                .map_err(|e| format!("cannot create the ring: {e}"))?,
        )
    } else {
        Box::new(
            Spsc::<crate::workers::Record>::builder()
                .capacity(p.capacity)
                .create(&name)
                .map_err(|e| format!("cannot create the ring: {e}"))?,
        )
    };
    // One push per message and one pop per message, plus one spare each.
    let buffers = HistoryBuffers::create(&hname, 2, 2 * p.messages as usize + 2)
        .map_err(|e| format!("cannot create the history region: {e}"))?;
    let start = Instant::now();
    let (t, stops) = super::transfer::run_pair(
        exe,
        kind,
        &name,
        p.messages,
        1,
        Some(&hname),
        Some((p.stop_rate, p.seed)),
        p.timeout,
    )?;
    let seconds = start.elapsed().as_secs_f64();
    let mut errors = t.errors.clone();
    if t.out_of_order > 0 || t.corrupt > 0 {
        errors.push(format!(
            "consumer saw {} messages out of order and {} corrupt",
            t.out_of_order, t.corrupt
        ));
    }
    let history = history_of(Model::Queue { capacity: None }, &buffers);
    let (lost, duplicated, from_nowhere) = queue_accounting(&history);
    if lost > 0 || duplicated > 0 || from_nowhere > 0 {
        errors.push(format!(
            "{lost} lost, {duplicated} duplicated, {from_nowhere} dequeued but never enqueued"
        ));
    }
    let outcome = Outcome {
        procs: 2,
        seconds,
        stops,
        workers: vec![format!(
            "producer and consumer: {}",
            if t.errors.is_empty() {
                "exit 0"
            } else {
                "see errors"
            }
        )],
        errors,
        lost,
        duplicated,
    };
    let extra = Map::from_iter([
        ("messages".into(), json!(p.messages)),
        ("capacity".into(), json!(p.capacity)),
        ("received".into(), json!(t.received)),
        ("out_of_order".into(), json!(t.out_of_order)),
        ("corrupt".into(), json!(t.corrupt)),
    ]);
    Ok(finish(kind, &history, p, outcome, extra))
}

/// (lost, duplicated, from nowhere) by value: every value enqueued with `ok: true` must be
/// dequeued exactly once; dequeued values must have been enqueued (pending enqueues count).
fn queue_accounting(h: &History) -> (u64, u64, u64) {
    let mut enq: HashMap<i64, bool> = HashMap::new();
    let mut deq: HashMap<i64, u64> = HashMap::new();
    for o in &h.ops {
        match (&o.kind, o.ok) {
            (OpKind::Enqueue { value }, Some(true)) => {
                enq.insert(*value, true);
            }
            (OpKind::Enqueue { value }, None) => {
                enq.entry(*value).or_insert(false);
            }
            (OpKind::Dequeue { value: Some(v) }, Some(true)) => *deq.entry(*v).or_default() += 1,
            _ => {}
        }
    }
    let lost = enq
        .iter()
        .filter(|(v, definite)| **definite && !deq.contains_key(v))
        .count() as u64;
    let duplicated = deq.values().map(|c| c.saturating_sub(1)).sum();
    let from_nowhere = deq.keys().filter(|v| !enq.contains_key(v)).count() as u64;
    (lost, duplicated, from_nowhere)
}
