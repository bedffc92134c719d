//! `synclab clean`: finds the synclab regions in `/dev/shm` whose creator and every attached
//! process are dead, and removes them (`synclab_core::shm::stale`). `synclab run` does the same
//! before it starts.

use super::output::{bad_input, Exit, Outcome};
use serde_json::json;
use std::fmt::Write as _;
use synclab_core::shm::stale::{self, FoundRegion};

/// Options of `synclab clean`.
#[derive(clap::Args, Debug)]
pub struct CleanArgs {
    /// List what would be removed, remove nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

fn describe(r: &FoundRegion) -> serde_json::Value {
    json!({
        "name": r.name.as_str(),
        "kind": r.kind,
        "bytes": r.len,
        "creator_pid": r.creator.pid,
        "creator_alive": r.creator_alive,
        "in_use": r.in_use,
    })
}

/// Runs `synclab clean`.
pub fn run(args: CleanArgs) -> Exit {
    let report = match stale::clean("", args.dry_run) {
        Ok(r) => r,
        Err(e) => return bad_input(args.json, format!("cannot read /dev/shm: {e}")),
    };
    let verb = if args.dry_run {
        "would remove"
    } else {
        "removed"
    };
    let mut text = format!(
        "{verb} {} stale region(s), kept {} live one(s)\n",
        report.removed.len(),
        report.kept.len()
    );
    for r in &report.removed {
        let _ = writeln!(
            text,
            "  {verb} {} ({}, creator pid {} dead)",
            r.name, r.kind, r.creator.pid
        );
    }
    for (name, e) in &report.failed {
        let _ = writeln!(text, "  could not remove {name}: {e}");
    }
    Outcome {
        json: json!({
            "ok": report.failed.is_empty(),
            "dry_run": args.dry_run,
            "removed": report.removed.iter().map(describe).collect::<Vec<_>>(),
            "kept": report.kept.iter().map(describe).collect::<Vec<_>>(),
            "failed": report.failed.iter().map(|(n, e)| json!({"name": n.as_str(), "error": e})).collect::<Vec<_>>(),
        }),
        text,
        exit: Exit::from_ok(report.failed.is_empty()),
    }
    .emit(args.json)
}

/// Removes stale regions quietly (the start of `synclab run`); problems are only warnings.
pub fn before_run() {
    if let Err(e) = stale::clean("", false) {
        eprintln!("synclab: warning: could not clean stale regions: {e}");
    }
}
