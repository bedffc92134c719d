//! Two real OS processes per ring: this test binary re-executes itself as the producer and the
//! consumer (never a bare `fork()` from the multi-threaded harness), which share a named POSIX
//! shm ring. The consumer checks every message: order, loss, duplication, contents.
//!
//! - `spsc`: 1,000,000 16-byte records through a 1024-slot ring, batches of 64.
//! - `frames`: 100,000 frames of 8..256 bytes through a 16 KiB ring, written and read in place.
//!
//! `harness = false`: `main` is the test runner, and the worker when `SYNCLAB_TEST_WORKER` is set.

mod runner;

use std::process::ExitCode;
use std::time::Duration;
use synclab_verify::procs::WorkerExe;
use synclab_verify::runs::{frames_transfer, spsc_transfer, TransferReport};

const WORKER_ENV: &str = "SYNCLAB_TEST_WORKER";
const TIMEOUT: Duration = Duration::from_secs(300);

fn worker_exe() -> WorkerExe {
    WorkerExe {
        path: std::env::current_exe().expect("own path"),
        leading_args: Vec::new(),
        env: vec![(WORKER_ENV.into(), "1".into())],
    }
}

fn check(report: Result<TransferReport, String>, messages: u64) -> Result<(), String> {
    let r = report?;
    let summary = format!(
        "received {} of {}, lost {}, duplicated {}, out of order {}, corrupt {}, errors {:?}",
        r.received, r.messages, r.lost, r.duplicated, r.out_of_order, r.corrupt, r.errors
    );
    if r.ok && r.received == messages && r.lost == 0 && r.duplicated == 0 && r.out_of_order == 0 {
        eprintln!("  {summary}; {:.1} M msgs/s", r.msgs_per_sec / 1e6);
        Ok(())
    } else {
        Err(summary)
    }
}

fn main() -> ExitCode {
    if std::env::var_os(WORKER_ENV).is_some() {
        return synclab_verify::workers::run(std::env::args().skip(1));
    }
    let tests: [(&str, runner::TestFn); 2] = [
        ("spsc_two_processes_one_million_records", || {
            check(
                spsc_transfer(&worker_exe(), 1_000_000, 1024, 64, TIMEOUT),
                1_000_000,
            )
        }),
        ("frames_two_processes_hundred_thousand_frames", || {
            check(
                frames_transfer(&worker_exe(), 100_000, 16 * 1024, TIMEOUT),
                100_000,
            )
        }),
    ];
    runner::run(&tests)
}
