//! The worker side of real multi-process runs: what a re-executed `synclab worker ROLE …` does.
//!
//! [`run`] is the entry point, shared by the `synclab` binary's hidden `worker` subcommand and by
//! `harness = false` tests in other packages that re-execute themselves as workers. A worker
//! prints exactly one JSON line (its report) on stdout and exits 0 when its own checks held.

mod frames;
mod mpmc;
mod sem;
mod spsc;

pub use crate::record::Record;
pub(crate) use crate::record::SequenceCheck;
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
    };
    let ok = report.get("ok").and_then(|v| v.as_bool()) == Some(true);
    println!("{report}");
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
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
