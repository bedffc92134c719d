//! `synclab demo`: the main job on built-in defaults — real processes over shared-memory rings,
//! a loom model check and one of its mutants — with a short summary a newcomer can read.

use super::model::{check as check_model, describe as describe_model};
use super::output::{Exit, Outcome};
use crate::models::{self, ModelReport};
use crate::procs::WorkerExe;
use crate::runs::{frames_transfer, spsc_transfer, TransferReport};
use serde_json::json;
use std::fmt::Write as _;
use std::time::Duration;
use synclab_core::mem::Mutant;

/// Options of `synclab demo`.
#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Records to move through the spsc ring.
    #[arg(long, default_value_t = 2_000_000)]
    pub records: u64,
    /// Frames to move through the frames ring.
    #[arg(long, default_value_t = 200_000)]
    pub frames: u64,
    /// Print one JSON object instead of the human summary.
    #[arg(long)]
    pub json: bool,
}

const SPSC_CAPACITY: usize = 4096;
const FRAMES_CAPACITY: usize = 64 * 1024;
const TIMEOUT: Duration = Duration::from_secs(120);

/// Runs the demo.
pub fn run(args: DemoArgs) -> Exit {
    let exe = match WorkerExe::current_synclab() {
        Ok(e) => e,
        Err(e) => {
            return super::output::bad_input(args.json, format!("cannot find own binary: {e}"))
        }
    };
    let step = |s: &str| {
        if !args.json {
            eprintln!("… {s}");
        }
    };
    step("spsc ring: a producer process and a consumer process over named shared memory");
    let spsc = spsc_transfer(&exe, args.records, SPSC_CAPACITY, 256, TIMEOUT);
    step("frames ring: variable-length messages written and read in place");
    let frames = frames_transfer(&exe, args.frames, FRAMES_CAPACITY, TIMEOUT);
    step("loom: every interleaving of the spsc ring (capacity 2, 3 records), then a mutant");
    let spec = models::find("spsc").expect("the spsc model exists");
    let model = check_model(spec, Mutant::None, &options(spec));
    let mutant = check_model(spec, Mutant::SpscRelaxedPublish, &options(spec));

    let transfers_ok = [&spsc, &frames]
        .iter()
        .all(|t| t.as_ref().is_ok_and(|t| t.ok));
    let ok = transfers_ok && model.ok && !mutant.ok;
    let text = summary(&spsc, &frames, &model, &mutant, ok);
    let as_json = |t: &Result<TransferReport, String>| match t {
        Ok(t) => serde_json::to_value(t).expect("serialises"),
        Err(e) => json!({"ok": false, "error": e}),
    };
    Outcome {
        json: json!({
            "ok": ok,
            "spsc": as_json(&spsc),
            "frames": as_json(&frames),
            "model": model,
            "mutant": mutant,
        }),
        text,
        exit: Exit::from_ok(ok),
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

fn transfer_lines(out: &mut String, t: &Result<TransferReport, String>, what: &str) {
    match t {
        Err(e) => {
            let _ = writeln!(out, "   could not run: {e}");
        }
        Ok(t) => {
            let size = if t.bytes > 0 {
                format!(" ({:.1} MB)", t.bytes as f64 / 1e6)
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "   {} {what}{size} in {:.3} s = {:.1} M msgs/s",
                group(t.received),
                t.seconds,
                t.msgs_per_sec / 1e6
            );
            let _ = writeln!(
                out,
                "   lost {}, duplicated {}, out of order {}, corrupt {}  [{}]",
                t.lost,
                t.duplicated,
                t.out_of_order,
                t.corrupt,
                mark(t.ok)
            );
            for e in &t.errors {
                let _ = writeln!(out, "   error: {e}");
            }
        }
    }
}

fn summary(
    spsc: &Result<TransferReport, String>,
    frames: &Result<TransferReport, String>,
    model: &ModelReport,
    mutant: &ModelReport,
    ok: bool,
) -> String {
    let mut s = String::from(
        "synclab demo: lock-free rings in shared memory, between real processes, model-checked\n\n",
    );
    let _ = writeln!(
        s,
        "1. spsc ring, two processes (named POSIX shm, {SPSC_CAPACITY} slots of 16-byte records, batches of 256)"
    );
    transfer_lines(&mut s, spsc, "records");
    let _ = writeln!(
        s,
        "2. frames ring, two processes ({} KiB, frames of 8..256 bytes written and read in place)",
        FRAMES_CAPACITY / 1024
    );
    transfer_lines(&mut s, frames, "frames");
    let _ = writeln!(
        s,
        "3. loom model check of the spsc ring code (the same code the processes ran)"
    );
    let _ = write!(s, "   {}", describe_model(model));
    let _ = writeln!(
        s,
        "4. the same model with a deliberate bug: the producer publishes `tail` with Relaxed, not Release"
    );
    let _ = write!(s, "   {}", describe_model(mutant));
    let _ = writeln!(
        s,
        "\n{}",
        if ok {
            "All checks held. Next: `synclab model --list`, `synclab model --all`, `cargo test`."
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
