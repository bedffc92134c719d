//! Processes and regions never outlive their run: `synclab run` stopped by SIGINT or SIGTERM
//! stops and reaps its workers, unlinks its regions and exits 130/143; a parent SIGKILLed
//! mid-run takes its workers with it (`PR_SET_PDEATHSIG`). Each test re-executes the real binary
//! and waits for its readiness line (`SYNCLAB_READY_LINE`), never a sleep.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Starts a long `synclab run mpmc` and returns it once its workers have started.
fn start_long_run() -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_synclab"))
        .args(["run", "mpmc", "--messages", "5000000", "--json"])
        .env("SYNCLAB_READY_LINE", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start synclab run");
    let stderr = child.stderr.take().expect("stderr piped");
    let mut lines = BufReader::new(stderr).lines();
    loop {
        match lines.next() {
            Some(Ok(line)) if line.contains("worker processes started") => break,
            Some(Ok(_)) => {}
            other => panic!("synclab run ended before its workers started: {other:?}"),
        }
    }
    // Keep draining stderr so the run never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    child
}

/// `/dev/shm` entries made by process `pid` (`synclab-KIND-PID-…`).
fn regions_of(pid: u32) -> Vec<String> {
    let tag = format!("-{pid}-");
    std::fs::read_dir("/dev/shm")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| n.starts_with("synclab-") && n.contains(&tag))
                .collect()
        })
        .unwrap_or_default()
}

/// Live processes whose command line names a region of `pid` (its workers), excluding zombies.
fn workers_of(pid: u32) -> Vec<u32> {
    let tag = format!("-{pid}-");
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|e| e.ok())
    {
        let Ok(p) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default();
        let status = std::fs::read_to_string(format!("/proc/{p}/status")).unwrap_or_default();
        let zombie = status
            .lines()
            .any(|l| l.starts_with("State:") && l.contains('Z'));
        if !zombie && String::from_utf8_lossy(&cmdline).contains(&tag) {
            out.push(p);
        }
    }
    out
}

fn stop_with(signal: i32, expected_code: i32) {
    let child = start_long_run();
    let pid = child.id();
    assert!(!regions_of(pid).is_empty(), "the run's regions exist");
    assert!(!workers_of(pid).is_empty(), "the run's workers exist");
    // SAFETY: kill(2) on our own child, which has not been reaped yet (no pid reuse).
    assert_eq!(unsafe { libc::kill(pid as i32, signal) }, 0);
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(expected_code), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    assert_eq!(v["ok"], false);
    assert!(v["error"].as_str().unwrap().contains("interrupted"), "{v}");
    assert_eq!(regions_of(pid), Vec::<String>::new(), "regions left behind");
    assert_eq!(workers_of(pid), Vec::<u32>::new(), "workers left behind");
}

#[test]
fn sigint_stops_reaps_cleans_up_and_exits_130() {
    stop_with(libc::SIGINT, 130);
}

#[test]
fn sigterm_stops_reaps_cleans_up_and_exits_143() {
    stop_with(libc::SIGTERM, 143);
}

/// SIGKILL cannot be caught: the workers die with their parent (the death signal). Its regions
/// stay (removing those is `synclab clean`'s job).
#[test]
fn sigkill_of_the_parent_kills_its_workers() {
    let mut child = start_long_run();
    let pid = child.id();
    assert!(!workers_of(pid).is_empty(), "the run's workers exist");
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    // The kernel delivers the death signals as the parent exits; the workers' own exit (and
    // reaping by init) takes a moment: wait for it with a deadline.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !workers_of(pid).is_empty() && Instant::now() < deadline {
        std::thread::yield_now();
    }
    assert_eq!(
        workers_of(pid),
        Vec::<u32>::new(),
        "workers outlived their parent"
    );
    // Remove what the killed run left, so the test leaves /dev/shm as it found it.
    for name in regions_of(pid) {
        let _ = std::fs::remove_file(format!("/dev/shm/{name}"));
    }
}

/// `synclab bench` stopped by SIGINT stops after the measurement under way (whose workers are
/// killed and reaped at once), removes its regions and exits 130, like `synclab run`.
#[test]
fn sigint_stops_bench_cleans_up_and_exits_130() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_synclab"))
        .args(["bench", "--smoke", "--rounds", "100"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start synclab bench");
    let pid = child.id();
    let mut lines = BufReader::new(child.stderr.take().expect("stderr piped")).lines();
    loop {
        match lines.next() {
            Some(Ok(line)) if line.contains("measuring") => break,
            Some(Ok(_)) => {}
            other => panic!("synclab bench ended before measuring: {other:?}"),
        }
    }
    // SAFETY: kill(2) on our own child, which has not been reaped yet (no pid reuse).
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGINT) }, 0);
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().expect("wait");
    assert_eq!(
        status.code(),
        Some(130),
        "stderr after the signal: {rest:?}"
    );
    assert!(
        rest.iter().any(|l| l.contains("interrupted by SIGINT")),
        "{rest:?}"
    );
    assert_eq!(regions_of(pid), Vec::<String>::new(), "regions left behind");
    assert_eq!(workers_of(pid), Vec::<u32>::new(), "workers left behind");
}
