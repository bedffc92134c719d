//! `synclab run`: real worker processes over a shared-memory ring or semaphore, checked.

use super::input;
use super::output::{bad_input, environment_failure, interrupted, Exit, Outcome};
use crate::procs::{signals, WorkerExe};
use crate::runs::{self, KillTrigger, RunParams, RunReport};
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::RangedU64ValueParser;

/// Largest `--procs`.
const MAX_PROCS: u64 = 64;
/// Largest `--messages` and `--iterations` (a recorded history of 2 × 10^7 operations is
/// 640 MB of shared memory and several GB while it is checked).
const MAX_MESSAGES: u64 = 10_000_000;
/// Largest spsc/mpmc `--capacity` (slots).
const MAX_SLOTS: usize = 1 << 20;
/// Largest frames `--capacity` (bytes).
const MAX_FRAMES_BYTES: u64 = 1 << 30;
/// Largest `--timeout` and `--check-timeout` (one day).
const MAX_SECONDS: u64 = 86_400;

/// What to run.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunKind {
    /// One producer process and one consumer process over an spsc ring, recorded and checked.
    Spsc,
    /// Producer and consumer processes over an mpmc queue, every operation recorded and checked.
    Mpmc,
    /// One producer process and one consumer process over a frames ring, recorded and checked.
    Frames,
    /// Processes contending on a counting semaphore, recorded and checked.
    Semaphore,
}

/// Options of `synclab run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// What to run.
    pub kind: RunKind,
    /// Worker processes, 1..=64 (mpmc: 2..=64, half produce, half consume; spsc/frames: always 2).
    #[arg(long, default_value_t = 4, value_parser = RangedU64ValueParser::<usize>::new().range(1..=MAX_PROCS))]
    pub procs: usize,
    /// Messages to move, 1..=10000000 (mpmc: enqueued in total; spsc/frames: records/frames).
    /// Every operation is recorded (32 bytes each in shared memory) and checked.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..=MAX_MESSAGES))]
    pub messages: u64,
    /// Ring capacity, a power of two: spsc/mpmc 2..=1048576 slots (default 1024), frames
    /// 64..=1073741824 bytes (default 65536).
    #[arg(long, value_parser = RangedU64ValueParser::<usize>::new().range(2..=MAX_FRAMES_BYTES))]
    pub capacity: Option<usize>,
    /// semaphore: acquire/release rounds per process, 1..=10000000.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..=MAX_MESSAGES))]
    pub iterations: u64,
    /// semaphore: permits, 1..=65536.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub permits: u32,
    /// SIGSTOP/SIGCONT pairs injected per second into the workers at seeded random moments, each
    /// stop 0.1-2 ms long, 0..=10000 (every kind; blocking operations wait for a stopped peer).
    #[arg(long, default_value_t = 0.0)]
    pub stop_rate: f64,
    /// Seed of the fault injector (stops, kill victims and kill points).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// SIGKILL this many workers mid-run, at seeded points. mpmc: producers and consumers
    /// alternately (at most --procs - 2: one of each role survives), each inside a seeded
    /// operation (see --kill-trigger); the operation cut short is recorded with an unknown
    /// outcome, and survivors repair the slot it held. semaphore: workers (fewer than --procs), each at a
    /// seeded round once it holds every permit and is blocked in one more acquire; the parent
    /// then recover()s the permits (ledger mode) and records that as a release of its own.
    /// Not for spsc/frames (one producer, one consumer: killing either ends the transfer).
    #[arg(long, default_value_t = 0)]
    pub kill: usize,
    /// mpmc: what sets off each --kill. `op` (default): the victim SIGKILLs itself inside its
    /// seeded operation at a seeded step (before touching the queue, after claiming and
    /// recording itself in a slot, after the data, after the whole operation), and the other
    /// consumers start once the consumer victims reached theirs: the same kills at the same
    /// operations every run. `time`: the parent SIGKILLs the victim once its history shows the
    /// seeded number of operations, wherever it is by then (timing-dependent: a victim may
    /// finish first).
    #[arg(long, value_enum, default_value_t = KillTrigger::Op)]
    pub kill_trigger: KillTrigger,
    /// Save the recorded history here (HISTORY.md format).
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// Kill workers still running after this many seconds, 1..=86400.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=MAX_SECONDS))]
    pub timeout: u64,
    /// Give the linearizability check at most this many seconds, 1..=86400 (then
    /// `linearizable: null`).
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=MAX_SECONDS))]
    pub check_timeout: u64,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Runs `synclab run`.
pub fn run(args: RunArgs) -> Exit {
    if let Err(e) = validate(&args) {
        return bad_input(args.json, e);
    }
    if let Err(e) = signals::install() {
        return environment_failure(args.json, format!("cannot install signal handlers: {e}"));
    }
    let exe = match WorkerExe::current_synclab() {
        Ok(e) => e,
        Err(e) => return environment_failure(args.json, format!("cannot find own binary: {e}")),
    };
    super::clean::before_run();
    let spinner = spinner(&args);
    let timeout = Duration::from_secs(args.timeout);
    let p = RunParams {
        procs: args.procs,
        messages: if args.kind == RunKind::Semaphore {
            args.iterations
        } else {
            args.messages
        },
        capacity: match args.kind {
            RunKind::Semaphore => args.permits as usize,
            RunKind::Frames => args.capacity.unwrap_or(64 * 1024),
            RunKind::Spsc | RunKind::Mpmc => args.capacity.unwrap_or(1024),
        },
        stop_rate: args.stop_rate,
        seed: args.seed,
        kills: args.kill,
        kill_trigger: args.kill_trigger,
        history: args.history.clone(),
        timeout,
        check_timeout: Duration::from_secs(args.check_timeout),
    };
    let outcome = match args.kind {
        RunKind::Spsc | RunKind::Frames => {
            runs::transfer_run(&exe, args.kind == RunKind::Frames, &p)
        }
        RunKind::Mpmc => runs::mpmc_run(&exe, &p),
        RunKind::Semaphore => runs::semaphore_run(&exe, &p),
    }
    .map(recorded_outcome);
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    if let Some(signal) = signals::received() {
        // The run returned: its workers are reaped and its regions unlinked (their Drop ran).
        return interrupted(args.json, signal);
    }
    match outcome {
        Ok(o) => o.emit(args.json),
        // Every parameter was validated above: what fails now is the environment (a region
        // that cannot be created, a worker that cannot be started).
        Err(e) => environment_failure(args.json, e),
    }
}

fn validate(a: &RunArgs) -> Result<(), String> {
    if a.kind == RunKind::Mpmc && a.procs < 2 {
        return Err(format!(
            "--procs {}: mpmc needs 2..={MAX_PROCS} (producers and consumers)",
            a.procs
        ));
    }
    if let Some(c) = a.capacity {
        let (min, max, unit) = match a.kind {
            RunKind::Frames => (64, MAX_FRAMES_BYTES as usize, "bytes"),
            _ => (2, MAX_SLOTS, "slots"),
        };
        if !c.is_power_of_two() || !(min..=max).contains(&c) {
            return Err(format!(
                "--capacity {c} must be a power of two in {min}..={max} ({unit}) for {:?}",
                a.kind
            ));
        }
    }
    if let Some(h) = &a.history {
        input::check_output(&h.to_string_lossy(), &[])?;
    }
    if !(0.0..=10_000.0).contains(&a.stop_rate) {
        return Err(format!("--stop-rate {} must be in 0..=10000", a.stop_rate));
    }
    if a.kill > 0 && matches!(a.kind, RunKind::Spsc | RunKind::Frames) {
        return Err(format!(
            "--kill does not apply to {} runs: they have exactly one producer and one consumer \
             process, and killing either one ends the transfer, so nothing would be left to \
             check but what was lost. --kill works with mpmc (kills consumers) and semaphore \
             (kills permit holders, then recovers their permits)",
            if a.kind == RunKind::Spsc {
                "spsc"
            } else {
                "frames"
            }
        ));
    }
    if a.kind == RunKind::Semaphore && a.kill >= a.procs {
        return Err(format!(
            "--kill {} must leave at least one of the {} semaphore workers alive",
            a.kill, a.procs
        ));
    }
    if a.kind == RunKind::Mpmc && a.kill > a.procs.saturating_sub(2) {
        return Err(format!(
            "--kill {} must leave at least one producer and one consumer of the {} mpmc \
             processes alive (at most {})",
            a.kill,
            a.procs,
            a.procs.saturating_sub(2)
        ));
    }
    Ok(())
}

fn spinner(a: &RunArgs) -> Option<indicatif::ProgressBar> {
    if a.json || !std::io::stderr().is_terminal() {
        return None;
    }
    let s = indicatif::ProgressBar::new_spinner();
    s.set_message(format!(
        "running {:?} with real worker processes, then checking…",
        a.kind
    ));
    s.enable_steady_tick(Duration::from_millis(120));
    Some(s)
}

fn recorded_outcome(r: RunReport) -> Outcome {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{} run: {} worker processes, {} operations recorded in {:.2} s ({:.0} ops/s){}",
        r.kind,
        r.procs,
        r.ops,
        r.seconds,
        r.throughput,
        if r.stops_injected > 0 {
            format!(", {} SIGSTOP/SIGCONT injected", r.stops_injected)
        } else {
            String::new()
        }
    );
    if r.kind == "semaphore" {
        let _ = writeln!(
            text,
            "max holders {} (permits {}), acquires {}, final value {}",
            r.extra["max_holders"], r.extra["permits"], r.extra["acquires"], r.extra["final_value"]
        );
        if let Some(killed) = r.extra.get("killed") {
            let _ = writeln!(
                text,
                "holders SIGKILLed {killed}, permits recovered {} (operations of unknown outcome: {})",
                r.extra["recovered_permits"], r.extra["unknown_outcomes"]
            );
        }
    } else if let (Some(killed), Some(unknown)) =
        (r.extra.get("killed"), r.extra.get("unknown_outcomes"))
    {
        let _ = writeln!(
            text,
            "lost {}, duplicated {}; workers SIGKILLed {killed} (operations of unknown outcome: \
             {unknown}); slots repaired: {} tombstones, {} dropped",
            r.lost, r.duplicated, r.extra["tombstones"], r.extra["dropped"]
        );
    } else {
        let _ = writeln!(text, "lost {}, duplicated {}", r.lost, r.duplicated);
    }
    let verdict = match r.linearizable {
        Some(true) => "linearizable",
        Some(false) => "NOT linearizable",
        None => "unknown (the checker hit its time limit)",
    };
    let _ = writeln!(
        text,
        "history: {verdict} ({} checker, {:.2} s)",
        r.checker, r.check_seconds
    );
    for w in &r.witness {
        let _ = writeln!(text, "  witness op: {w}");
    }
    for e in &r.errors {
        let _ = writeln!(text, "error: {e}");
    }
    let _ = writeln!(text, "{}", if r.ok { "ok" } else { "FAILED" });
    Outcome {
        exit: Exit::from_ok(r.ok),
        json: serde_json::to_value(&r).expect("serialises"),
        text,
    }
}
