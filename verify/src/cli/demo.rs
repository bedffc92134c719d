//! `synclab demo`: the main job on built-in defaults — real processes over shared-memory rings
//! and a semaphore (histories checked for linearizability), a loom model check and one of its
//! mutants, and a simulated TCP handshake under loss with its ladder diagram — with a short
//! summary a newcomer can read.

use super::model::{check as check_model, describe as describe_model};
use super::output::{environment_failure, interrupted, Exit, Outcome};
use crate::models::{self, ModelReport};
use crate::procs::{signals, WorkerExe};
use crate::runs::{
    frames_transfer, mpmc_run, semaphore_run, spsc_transfer, RunParams, RunReport, TransferReport,
};
use serde_json::json;
use std::fmt::Write as _;
use std::time::Duration;
use synclab_core::model::Mutant;

/// Options of `synclab demo`.
#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Records to move through the spsc ring, 1..=100000000.
    #[arg(long, default_value_t = 2_000_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub records: u64,
    /// Frames to move through the frames ring, 1..=10000000.
    #[arg(long, default_value_t = 200_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub frames: u64,
    /// Values to pass through the mpmc queue (recorded and checked for linearizability),
    /// 1..=10000000.
    #[arg(long, default_value_t = 200_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub mpmc: u64,
    /// Seed of the fault injection (SIGSTOP/SIGCONT) in the mpmc and semaphore runs.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print one JSON object instead of the human summary.
    #[arg(long)]
    pub json: bool,
}

const SPSC_CAPACITY: usize = 4096;
const FRAMES_CAPACITY: usize = 64 * 1024;
const TIMEOUT: Duration = Duration::from_secs(120);

/// Runs the demo.
pub fn run(args: DemoArgs) -> Exit {
    if let Err(e) = signals::install() {
        return environment_failure(args.json, format!("cannot install signal handlers: {e}"));
    }
    let exe = match WorkerExe::current_synclab() {
        Ok(e) => e,
        Err(e) => return environment_failure(args.json, format!("cannot find own binary: {e}")),
    };
    // After a SIGINT/SIGTERM, each step's workers are stopped at once; stop before the next.
    let stopped = || signals::received().map(|s| interrupted(args.json, s));
    let step = |s: &str| {
        if !args.json {
            eprintln!("… {s}");
        }
    };
    step("spsc ring: a producer process and a consumer process over named shared memory");
    let spsc = spsc_transfer(&exe, args.records, SPSC_CAPACITY, 256, TIMEOUT);
    if let Some(exit) = stopped() {
        return exit;
    }
    step("frames ring: variable-length messages written and read in place");
    let frames = frames_transfer(&exe, args.frames, FRAMES_CAPACITY, TIMEOUT);
    if let Some(exit) = stopped() {
        return exit;
    }
    step("mpmc queue: 2 producer + 2 consumer processes, SIGSTOPs injected, history checked");
    let recorded = |messages, capacity| RunParams {
        procs: 4,
        messages,
        capacity,
        // These runs last tens of milliseconds: a rate this high (a stop every ~1 ms, each
        // 0.1-2 ms long) makes sure a handful of stops land inside them.
        stop_rate: 1000.0,
        seed: args.seed,
        kills: 0,
        kill_trigger: Default::default(),
        history: None,
        timeout: TIMEOUT,
        check_timeout: Duration::from_secs(60),
    };
    let mpmc = mpmc_run(&exe, &recorded(args.mpmc, 1024));
    if let Some(exit) = stopped() {
        return exit;
    }
    step("semaphore: 4 processes contend on 2 permits, history checked");
    let sem = semaphore_run(&exe, &recorded(20_000, 2));
    if let Some(exit) = stopped() {
        return exit;
    }
    step("loom: every interleaving of the spsc ring (capacity 2, 3 records), then a mutant");
    let spec = models::find("spsc").expect("the spsc model exists");
    let model = check_model(spec, Mutant::None, &options(spec));
    let mutant = check_model(spec, Mutant::SpscRelaxedPublish, &options(spec));
    step("simulator: a TCP handshake and close over a lossy simulated network");
    let sim = synclab_sim::demo::handshake_under_loss(args.seed);
    if let Some(exit) = stopped() {
        return exit;
    }

    let transfers_ok = [&spsc, &frames]
        .iter()
        .all(|t| t.as_ref().is_ok_and(|t| t.ok));
    let runs_ok = [&mpmc, &sem].iter().all(|r| r.as_ref().is_ok_and(|r| r.ok));
    let ok = transfers_ok && runs_ok && model.ok && mutant.found_failure() && sim.ok;
    // A step that could not run at all (a worker that could not be started, a region that could
    // not be created) is the environment failing, not a check: exit 4, after the summary.
    let environment_failed = spsc.is_err() || frames.is_err() || mpmc.is_err() || sem.is_err();
    let sections = vec![
        transfer_section(
            format!("spsc ring, two processes (named POSIX shm, {SPSC_CAPACITY} slots of 16-byte records, batches of 256)"),
            &spsc,
            "records",
        ),
        transfer_section(
            format!(
                "frames ring, two processes ({} KiB, frames of 8..256 bytes written and read in place)",
                FRAMES_CAPACITY / 1024
            ),
            &frames,
            "frames",
        ),
        recorded_section(
            "mpmc queue, 2 producer + 2 consumer processes, SIGSTOP/SIGCONT at random moments".into(),
            &mpmc,
        ),
        recorded_section("counting semaphore, 4 processes contending on 2 permits".into(), &sem),
        model_section(
            "loom model check of the spsc ring code (the very code the processes ran)".into(),
            &model,
        ),
        model_section(
            "the same model with a deliberate bug: `tail` published with Relaxed, not Release".into(),
            &mutant,
        ),
        Section {
            title: format!(
                "simulated TCP handshake and close under 30% loss (scenario {}, seed {}; ladder diagram below)",
                sim.scenario, sim.seed
            ),
            lines: vec![
                format!(
                    "{} segments sent, {} lost, {} ms of virtual time; every oracle held: {}  [{}]",
                    sim.segments,
                    sim.lost,
                    sim.virtual_ms,
                    sim.ok,
                    mark(sim.ok)
                ),
                format!("replay it: synclab sim run --scenario {} --seed {} --trace t.jsonl && synclab sim replay t.jsonl", sim.scenario, sim.seed),
            ],
        },
    ];
    let mut appendix = format!(
        "\nThe simulated run as a ladder diagram (RFC 9293 §3.5 labels; X = lost):\n\n{}",
        sim.diagram
    );
    for f in &sim.failures {
        appendix.push_str(f);
        appendix.push('\n');
    }
    let text = render(&sections, ok, &appendix);
    let as_json_run = |r: &Result<RunReport, String>| match r {
        Ok(r) => serde_json::to_value(r).expect("serialises"),
        Err(e) => json!({"ok": false, "error": e}),
    };
    let as_json = |t: &Result<TransferReport, String>| match t {
        Ok(t) => serde_json::to_value(t).expect("serialises"),
        Err(e) => json!({"ok": false, "error": e}),
    };
    Outcome {
        json: json!({
            "ok": ok,
            "spsc": as_json(&spsc),
            "frames": as_json(&frames),
            "mpmc": as_json_run(&mpmc),
            "semaphore": as_json_run(&sem),
            "model": model,
            "mutant": mutant,
            "simulation": sim.to_json(),
        }),
        text,
        exit: if environment_failed {
            Exit::Environment
        } else {
            Exit::from_ok(ok)
        },
    }
    .emit(args.json)
}

fn options(spec: &crate::models::ModelSpec) -> crate::models::ModelOptions {
    crate::models::ModelOptions {
        preemptions: spec.default_preemptions,
    }
}

fn mark(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "FAILED"
    }
}

/// One numbered part of the summary.
struct Section {
    title: String,
    lines: Vec<String>,
}

fn transfer_section(title: String, t: &Result<TransferReport, String>, what: &str) -> Section {
    let lines = match t {
        Err(e) => vec![format!("could not run: {e}")],
        Ok(t) => {
            let size = if t.bytes > 0 {
                format!(" ({:.1} MB)", t.bytes as f64 / 1e6)
            } else {
                String::new()
            };
            let mut v = vec![
                format!(
                    "{} {what}{size} in {:.3} s = {:.1} M msgs/s",
                    group(t.received),
                    t.seconds,
                    t.msgs_per_sec / 1e6
                ),
                format!(
                    "lost {}, duplicated {}, out of order {}, corrupt {}  [{}]",
                    t.lost,
                    t.duplicated,
                    t.out_of_order,
                    t.corrupt,
                    mark(t.ok)
                ),
            ];
            v.extend(t.errors.iter().map(|e| format!("error: {e}")));
            v
        }
    };
    Section { title, lines }
}

fn recorded_section(title: String, r: &Result<RunReport, String>) -> Section {
    let lines = match r {
        Err(e) => vec![format!("could not run: {e}")],
        Ok(r) => {
            let verdict = match r.linearizable {
                Some(true) => "linearizable",
                Some(false) => "NOT linearizable",
                None => "unknown (the check gave up)",
            };
            let first = if r.kind == "semaphore" {
                format!(
                    "{} acquires by {} processes; at most {} holders at once; final value {}",
                    r.extra["acquires"], r.procs, r.extra["max_holders"], r.extra["final_value"]
                )
            } else {
                format!(
                    "{} operations in {:.2} s, {} SIGSTOP/SIGCONT injected; lost {}, duplicated {}",
                    group(r.ops),
                    r.seconds,
                    r.stops_injected,
                    r.lost,
                    r.duplicated
                )
            };
            let mut v = vec![
                first,
                format!(
                    "recorded history: {verdict} ({} checker, {:.2} s)  [{}]",
                    r.checker,
                    r.check_seconds,
                    mark(r.ok)
                ),
            ];
            v.extend(r.errors.iter().map(|e| format!("error: {e}")));
            v
        }
    };
    Section { title, lines }
}

fn model_section(title: String, r: &ModelReport) -> Section {
    Section {
        title,
        lines: describe_model(r)
            .lines()
            .map(|l| l.trim().to_string())
            .collect(),
    }
}

fn render(sections: &[Section], ok: bool, appendix: &str) -> String {
    let mut s = String::from(
        "synclab demo: lock-free rings and a semaphore in shared memory, between real processes, verified\n\n",
    );
    for (i, sec) in sections.iter().enumerate() {
        let _ = writeln!(s, "{}. {}", i + 1, sec.title);
        for l in &sec.lines {
            let _ = writeln!(s, "   {l}");
        }
    }
    s.push_str(appendix);
    let _ = writeln!(
        s,
        "\n{}",
        if ok {
            "All checks held. Next: `synclab model --list`, `synclab run mpmc --stop-rate 50`, `cargo test`."
        } else {
            "SOME CHECK FAILED (see above)."
        }
    );
    s
}

/// `1234567` as `1,234,567`.
pub(crate) fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
