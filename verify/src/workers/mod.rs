//! The worker side of real multi-process runs: what a re-executed `synclab worker ROLE …` does.
//!
//! [`run`] is the entry point, shared by the `synclab` binary's hidden `worker` subcommand and by
//! `harness = false` tests in other packages that re-execute themselves as workers. A worker
//! prints exactly one JSON line (its report) on stdout and exits 0 when its own checks held.

mod frames;
mod mpmc;
mod record;
mod sem;
mod spsc;

pub use record::Record;
pub(crate) use sem::aux as sem_aux;

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use std::time::Duration;

/// The worker command line (after `synclab worker`).
#[derive(Parser, Debug)]
#[command(
    name = "synclab worker",
    about = "internal: a worker process of a multi-process run"
)]
pub struct WorkerCli {
    #[command(subcommand)]
    role: Role,
}

/// What a worker does.
#[derive(Subcommand, Debug)]
pub enum Role {
    /// Push `count` records into the named spsc ring.
    SpscProduce(Transfer),
    /// Pop `count` records from the named spsc ring, checking order, loss, duplication.
    SpscConsume(Transfer),
    /// Send `count` frames into the named frames ring.
    FramesProduce(Transfer),
    /// Receive `count` frames, checking order, length and contents.
    FramesConsume(Transfer),
    /// Enqueue `count` distinct values into the named mpmc queue, recording each operation.
    MpmcProduce(mpmc::MpmcRole),
    /// Dequeue until the queue is closed and empty, recording each operation.
    MpmcConsume(mpmc::MpmcRole),
    /// `count` rounds of acquire/release on the named semaphore, recording each operation.
    SemContend(sem::SemRole),
    /// Bench: echo requests from one spsc ring onto another (REQ RESP TRIPS).
    EchoRings {
        /// Request ring.
        req: String,
        /// Response ring.
        resp: String,
        /// Round trips.
        trips: u64,
    },
    /// Bench: answer cache-line pings (NAME TRIPS).
    EchoLine {
        /// The region.
        name: String,
        /// Round trips.
        trips: u64,
    },
    /// Bench: connect to the Unix socket at PATH and write records `0..COUNT`, one `write` each.
    SocketProduce {
        /// The listening socket's path.
        path: std::path::PathBuf,
        /// Records to send.
        count: u64,
    },
    /// Bench: connect to the Unix socket at PATH and echo TRIPS `u64` requests.
    EchoSocket {
        /// The listening socket's path.
        path: std::path::PathBuf,
        /// Round trips.
        trips: u64,
    },
}

/// Arguments of a two-process transfer role.
#[derive(clap::Args, Debug, Clone)]
pub struct Transfer {
    /// The region's shm name.
    #[arg(long)]
    pub name: String,
    /// Messages to move.
    #[arg(long)]
    pub count: u64,
    /// Records per batch (spsc), 1..=65536.
    #[arg(long, default_value_t = 256, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=65_536))]
    pub batch: usize,
    /// Give up after this many milliseconds, 1..=86400000.
    #[arg(long, default_value_t = 120_000, value_parser = clap::value_parser!(u64).range(1..=86_400_000))]
    pub deadline_ms: u64,
    /// Record every operation (one push or pop each, no batching) in this history region.
    #[arg(long)]
    pub history: Option<String>,
    /// This worker's history buffer.
    #[arg(long, default_value_t = 0)]
    pub worker: usize,
}

impl Transfer {
    /// The history region, when recording.
    pub(crate) fn history_buffers(
        &self,
    ) -> Result<Option<crate::runs::history_buffers::HistoryBuffers>, String> {
        self.history
            .as_deref()
            .map(|h| {
                let name = synclab_core::shm::ShmName::new(h).map_err(|e| e.to_string())?;
                crate::runs::history_buffers::HistoryBuffers::open(&name).map_err(|e| e.to_string())
            })
            .transpose()
    }
}

impl Transfer {
    fn deadline(&self) -> synclab_core::model::Deadline {
        synclab_core::model::Deadline::after(Duration::from_millis(self.deadline_ms))
    }
}

/// Runs a worker from its arguments (role first). Returns the process exit code.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match WorkerCli::try_parse_from(
        std::iter::once(std::ffi::OsString::from("synclab worker"))
            .chain(args.into_iter().map(Into::into)),
    ) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(2);
        }
    };
    let report = match cli.role {
        Role::SpscProduce(t) => spsc::produce(&t),
        Role::SpscConsume(t) => spsc::consume(&t),
        Role::FramesProduce(t) => frames::produce(&t),
        Role::FramesConsume(t) => frames::consume(&t),
        Role::MpmcProduce(r) => mpmc::produce(&r),
        Role::MpmcConsume(r) => mpmc::consume(&r),
        Role::SemContend(r) => sem::contend(&r),
        Role::EchoRings { req, resp, trips } => {
            bench_result(crate::bench::pingpong::echo_rings(&req, &resp, trips))
        }
        Role::EchoLine { name, trips } => {
            bench_result(crate::bench::pingpong::echo_line(&name, trips))
        }
        Role::SocketProduce { path, count } => {
            bench_result(crate::bench::unix_socket::produce(&path, count))
        }
        Role::EchoSocket { path, trips } => {
            bench_result(crate::bench::unix_socket::echo(&path, trips))
        }
    };
    let ok = report.get("ok").and_then(|v| v.as_bool()) == Some(true);
    println!("{report}");
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn bench_result(r: Result<(), String>) -> serde_json::Value {
    match r {
        Ok(()) => serde_json::json!({"ok": true}),
        Err(e) => serde_json::json!({"ok": false, "error": e}),
    }
}

/// Tally of what a consumer saw against the sequence `0, 1, 2, …` it expects.
#[derive(Default, Debug, Clone, Copy)]
pub(crate) struct SequenceCheck {
    next: u64,
    received: u64,
    out_of_order: u64,
    corrupt: u64,
    max_seen: Option<u64>,
    seen_twice: u64,
}

impl SequenceCheck {
    /// Records one message carrying `seq` (and whether its payload was intact).
    pub(crate) fn see(&mut self, seq: u64, intact: bool) {
        self.received += 1;
        if !intact {
            self.corrupt += 1;
        }
        if seq != self.next {
            self.out_of_order += 1;
        }
        if self.max_seen.is_some_and(|m| seq <= m) {
            self.seen_twice += 1;
        }
        self.max_seen = Some(self.max_seen.map_or(seq, |m| m.max(seq)));
        self.next = seq.wrapping_add(1);
    }

    /// Whether exactly the `expected` messages `0..expected` arrived, in order and intact.
    pub(crate) fn ok(&self, expected: u64) -> bool {
        self.received == expected
            && self.out_of_order == 0
            && self.corrupt == 0
            && self.seen_twice == 0
    }

    /// The report fields: received, lost, duplicated, out_of_order, corrupt, ok.
    pub(crate) fn json(&self, expected: u64) -> serde_json::Value {
        let lost = expected.saturating_sub(self.received - self.seen_twice);
        let ok = self.ok(expected);
        serde_json::json!({
            "received": self.received,
            "lost": lost,
            "duplicated": self.seen_twice,
            "out_of_order": self.out_of_order,
            "corrupt": self.corrupt,
            "ok": ok,
        })
    }
}

#[cfg(test)]
mod tests {
    /// clap's own consistency checks of the worker command line (duplicate flags and the like).
    #[test]
    fn worker_cli_is_consistent() {
        use clap::CommandFactory;
        super::WorkerCli::command().debug_assert();
    }
}
