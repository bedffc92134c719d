//! Real worker processes: start them by re-executing a binary (never `fork()` without `exec`
//! from a multi-threaded process), reap them with a deadline, signal them.
//!
//! A worker is the `synclab` binary run as `synclab worker ROLE …` (or, in another package's
//! `harness = false` test, that test binary with an environment variable saying "be a worker"):
//! see [`WorkerExe`]. Workers print one JSON line on stdout, their report.
//!
//! A worker never outlives its parent: it is started with `PR_SET_PDEATHSIG(SIGKILL)` and, right
//! after that, checks that its parent is still the process that started it (the parent may have
//! died between `fork` and `prctl`, when the death signal could no longer be armed). The death
//! signal fires when the *thread* that spawned the worker ends: spawn workers from a thread that
//! outlives them (every run spawns from its main thread). SIGINT/SIGTERM in the parent:
//! [`signals`].

mod reap;
pub mod signals;

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

    /// Starts a worker with `args` (role first), stdout piped for its report. The worker is
    /// SIGKILLed by the kernel if this process (the spawning thread) dies.
    pub fn spawn(&self, args: &[String]) -> std::io::Result<Child> {
        use std::os::unix::process::CommandExt;
        let parent = nix::unistd::getpid();
        let mut command = Command::new(&self.path);
        command
            .args(&self.leading_args)
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        // SAFETY: runs in the child between fork and exec: prctl(2) and getppid(2) are
        // async-signal-safe, and the closure allocates nothing and takes no lock.
        unsafe { command.pre_exec(move || die_with_parent(parent)) };
        command.spawn()
    }
}

/// In a freshly forked worker: arm `PR_SET_PDEATHSIG(SIGKILL)`, then fail (so no exec happens)
/// if the parent is no longer `parent` (it died before the signal was armed).
fn die_with_parent(parent: nix::unistd::Pid) -> std::io::Result<()> {
    // SAFETY: prctl(PR_SET_PDEATHSIG, sig) reads no memory of ours.
    if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if nix::unistd::getppid() != parent {
        return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
    }
    Ok(())
}
