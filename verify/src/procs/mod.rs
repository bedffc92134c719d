//! Real worker processes: start them by re-executing a binary (never `fork()` without `exec`
//! from a multi-threaded process), reap them with a deadline, signal them.
//!
//! A worker is the `synclab` binary run as `synclab worker ROLE …` (or, in another package's
//! `harness = false` test, that test binary with an environment variable saying "be a worker"):
//! see [`WorkerExe`]. Workers print one JSON line on stdout, their report.

mod reap;

pub use reap::{reap_all, WorkerExit};

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// How to start a worker process.
#[derive(Clone, Debug)]
pub struct WorkerExe {
    /// The binary.
    pub path: PathBuf,
    /// Arguments before the worker's own (`["worker"]` for `synclab`).
    pub leading_args: Vec<String>,
    /// Extra environment (e.g. the variable a test harness checks).
    pub env: Vec<(String, String)>,
}

impl WorkerExe {
    /// This very `synclab` binary: `synclab worker …`.
    pub fn current_synclab() -> std::io::Result<Self> {
        Ok(WorkerExe {
            path: std::env::current_exe()?,
            leading_args: vec!["worker".into()],
            env: Vec::new(),
        })
    }

    /// A `synclab` binary at `path`.
    pub fn synclab_at(path: impl Into<PathBuf>) -> Self {
        WorkerExe {
            path: path.into(),
            leading_args: vec!["worker".into()],
            env: Vec::new(),
        }
    }

    /// Starts a worker with `args` (role first), stdout piped for its report.
    pub fn spawn(&self, args: &[String]) -> std::io::Result<Child> {
        Command::new(&self.path)
            .args(&self.leading_args)
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
    }
}
