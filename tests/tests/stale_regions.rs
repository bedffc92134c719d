//! Stale regions, between real processes: this binary re-executes itself as a worker that
//! creates a named ring and waits (never a bare `fork()`).
//!
//! - `killed_creators_region_is_removed`: a worker creates a region and is SIGKILLed; the region
//!   stays behind in `/dev/shm` and `stale::clean` removes it.
//! - `live_creators_region_is_kept`: the same while the worker lives: kept.
//! - `attached_process_keeps_a_region`: the creator is dead but this process still has the region
//!   open: kept; once closed, removed.
//!
//! Each test cleans only names with its own prefix, so regions of other programs are untouched.
//!
//! `harness = false`: `main` is the test runner, and the worker when `STALE_WORKER` is set.

mod runner;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitCode, Stdio};
use synclab_core::shm::stale;
use synclab_core::{ShmName, Spsc};

const WORKER_ENV: &str = "STALE_WORKER";

fn exists(name: &ShmName) -> bool {
    std::path::Path::new(&format!("/dev/shm{name}")).exists()
}

/// Starts a worker that creates `name` and waits (after printing "created").
fn creator(name: &ShmName) -> Result<Child, String> {
    let mut child = Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
        .env(WORKER_ENV, name.as_str())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().ok_or("no stdout")?)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    if line.trim() != "created" {
        return Err(format!("worker said {line:?}"));
    }
    Ok(child)
}

fn kill(child: &mut Child) -> Result<(), String> {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .map_err(|e| e.to_string())?;
    child.wait().map_err(|e| e.to_string())?;
    Ok(())
}

fn prefix(name: &ShmName) -> String {
    name.as_str().trim_start_matches('/').to_string()
}

fn killed_creators_region_is_removed() -> Result<(), String> {
    let name = ShmName::unique("stale-killed");
    let mut child = creator(&name)?;
    kill(&mut child)?;
    if !exists(&name) {
        return Err("the killed creator's region is not there to clean".into());
    }
    let dry = stale::clean(&prefix(&name), true).map_err(|e| e.to_string())?;
    if dry.removed.len() != 1 || !exists(&name) {
        return Err(format!("dry run: {dry:?}"));
    }
    let report = stale::clean(&prefix(&name), false).map_err(|e| e.to_string())?;
    eprintln!(
        "  removed {:?}",
        report
            .removed
            .iter()
            .map(|r| r.name.to_string())
            .collect::<Vec<_>>()
    );
    if report.removed.len() != 1 || exists(&name) {
        return Err(format!("clean left it: {report:?}"));
    }
    Ok(())
}

fn live_creators_region_is_kept() -> Result<(), String> {
    let name = ShmName::unique("stale-live");
    let mut child = creator(&name)?;
    let report = stale::clean(&prefix(&name), false).map_err(|e| e.to_string())?;
    let kept = report.kept.len() == 1 && report.removed.is_empty() && exists(&name);
    kill(&mut child)?;
    if !kept {
        return Err(format!("a live creator's region was not kept: {report:?}"));
    }
    stale::clean(&prefix(&name), false).map_err(|e| e.to_string())?;
    if exists(&name) {
        return Err("not removed once its creator died".into());
    }
    Ok(())
}

fn attached_process_keeps_a_region() -> Result<(), String> {
    let name = ShmName::unique("stale-attached");
    let mut child = creator(&name)?;
    let ring = Spsc::<u64>::builder()
        .open(&name)
        .map_err(|e| e.to_string())?;
    kill(&mut child)?;
    let report = stale::clean(&prefix(&name), false).map_err(|e| e.to_string())?;
    if !(report.removed.is_empty() && exists(&name)) {
        return Err(format!(
            "removed a region this process has mapped: {report:?}"
        ));
    }
    drop(ring);
    let report = stale::clean(&prefix(&name), false).map_err(|e| e.to_string())?;
    if report.removed.len() != 1 || exists(&name) {
        return Err(format!("not removed once detached: {report:?}"));
    }
    Ok(())
}

fn main() -> ExitCode {
    if let Ok(name) = std::env::var(WORKER_ENV) {
        let name = ShmName::new(&name).expect("valid name");
        let _ring = Spsc::<u64>::builder()
            .capacity(8)
            .create(&name)
            .expect("create");
        println!("created");
        loop {
            std::thread::park();
        }
    }
    let tests: [(&str, runner::TestFn); 3] = [
        (
            "killed_creators_region_is_removed",
            killed_creators_region_is_removed,
        ),
        ("live_creators_region_is_kept", live_creators_region_is_kept),
        (
            "attached_process_keeps_a_region",
            attached_process_keeps_a_region,
        ),
    ];
    runner::run(&tests)
}
