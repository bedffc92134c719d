//! The pipe peer: a FIFO (a named pipe, the same kernel object as `pipe(2)`) in a fresh private
//! directory between the bench process and one re-executed worker
//! (`synclab worker pipe-produce PATH COUNT`), which writes the 16-byte [`Record`]s one `write`
//! call each, as the Unix-socket peer does. The bench process reads exactly 16 bytes per record
//! and checks each with [`SequenceCheck`], timing from the first record to the last; a figure is
//! refused if anything was lost, reordered, torn or extra. Both sides block in the kernel.

use super::private_dir::PrivateDir;
use super::stream::read_stream_checked;
use crate::procs::{reap_all, WorkerExe};
use crate::record::Record;
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

/// The figure's exact name.
pub const THROUGHPUT: &str = "pipe (FIFO), 2 processes, one 16-byte write per message";

/// How long the bench process waits for the worker's first record.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Waits until the worker has written into `fifo` (opened non-blocking), then makes reads block.
fn wait_for_writer(fifo: &File, child: &mut Child) -> Result<(), String> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let mut fds = [nix::poll::PollFd::new(
            fifo.as_fd(),
            nix::poll::PollFlags::POLLIN,
        )];
        match nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(50u8)) {
            Ok(n) if n > 0 => break,
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(format!("poll on the FIFO: {e}")),
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("the pipe worker exited ({status}) before writing"));
        }
        if Instant::now() > deadline {
            return Err("the pipe worker did not write in time".into());
        }
    }
    nix::fcntl::fcntl(
        fifo.as_raw_fd(),
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::empty()),
    )
    .map(|_| ())
    .map_err(|e| format!("fcntl on the FIFO: {e}"))
}

/// Messages per second: `n` records from a producer process through a FIFO, one `write` each,
/// read and checked by this process.
pub fn throughput(exe: &WorkerExe, n: u64) -> Result<f64, String> {
    let dir = PrivateDir::new("pipe")?;
    let path = dir.path().join("fifo");
    nix::unistd::mkfifo(&path, nix::sys::stat::Mode::S_IRWXU)
        .map_err(|e| format!("mkfifo {}: {e}", path.display()))?;
    // Non-blocking open: succeeds at once with no writer yet, so a worker that never starts
    // cannot hang us here.
    let mut fifo = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&path)
        .map_err(|e| format!("open {}: {e}", path.display()))?;
    let mut child = exe
        .spawn(&[
            "pipe-produce".into(),
            path.to_string_lossy().into_owned(),
            n.to_string(),
        ])
        .map_err(|e| format!("cannot start the pipe worker: {e}"))?;
    let result =
        wait_for_writer(&fifo, &mut child).and_then(|()| read_stream_checked(&mut fifo, n, "pipe"));
    drop(fifo);
    let timeout = if result.is_ok() {
        Duration::from_secs(30)
    } else {
        Duration::ZERO
    };
    let exit = reap_all(vec![child], timeout).remove(0);
    let rate = result?;
    if !exit.success() {
        return Err(format!(
            "the pipe worker failed: {}: {}",
            exit.describe(),
            exit.stdout.trim()
        ));
    }
    Ok(rate)
}

/// Worker side of [`throughput`]: records `0..count` into the FIFO at `path`, one `write` each.
pub fn produce(path: &Path, count: u64) -> Result<(), String> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| format!("open {}: {e}", path.display()))?;
    for seq in 0..count {
        f.write_all(bytemuck::bytes_of(&Record::new(seq)))
            .map_err(|e| format!("write of record {seq}: {e}"))?;
    }
    Ok(())
}
