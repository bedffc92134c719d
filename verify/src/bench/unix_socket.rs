//! The Unix-domain socket peer: what a user gets from the kernel instead of shared memory.
//!
//! Both figures use a `SOCK_STREAM` socket between the bench process and one re-executed worker
//! process, connected through a listening socket at a path in a fresh private (0700) temporary
//! directory (removed afterwards):
//!
//! - throughput: the worker (`synclab worker socket-produce PATH COUNT`) sends the same 16-byte
//!   [`Record`]s the spsc transfer moves, one `write` call per record (that is what "msgs/s"
//!   means for a socket user); the bench process reads exactly 16 bytes per record and checks
//!   each with `SequenceCheck`, timing from the first record to the last, as the spsc
//!   consumer does. A figure is refused if anything was lost, reordered, torn or extra;
//! - round trip: the bench process writes one `u64`, the worker
//!   (`synclab worker echo-socket PATH TRIPS`) reads it and writes it back; each round trip is
//!   timed and checked (the echo must be the value sent).
//!
//! Both sides block in the kernel (no spinning): that is how a socket is used.

use super::private_dir::PrivateDir;
use super::stream::read_stream_checked;
use crate::procs::{reap_all, WorkerExe};
use crate::record::Record;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

/// The throughput figure's exact name (`cli/bench.rs` finds it by this name).
pub const THROUGHPUT: &str = "Unix socket, 2 processes, one 16-byte write per message";
/// The round-trip figure's exact name.
pub const ROUND_TRIP: &str = "Unix socket round trip, 2 processes";

/// How long either side waits for the other (connect, one read, one write) before giving up.
const IO_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the bench process waits for the worker to connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// A listening socket at `DIR/s`, `DIR` a fresh 0700 directory; both removed on drop.
struct Listening {
    // Dropped after the listener: removes the socket file and the directory.
    _dir: PrivateDir,
    path: PathBuf,
    listener: UnixListener,
}

impl Listening {
    fn new(prefix: &str) -> Result<Self, String> {
        let dir = PrivateDir::new(prefix)?;
        let path = dir.path().join("s");
        let listener = UnixListener::bind(&path)
            .map_err(|e| format!("cannot listen at {}: {e}", path.display()))?;
        Ok(Listening {
            _dir: dir,
            path,
            listener,
        })
    }

    fn path_arg(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }

    /// Accepts the worker's connection, or fails if the worker exits first or takes longer
    /// than [`CONNECT_TIMEOUT`].
    fn accept(&self, child: &mut Child) -> Result<UnixStream, String> {
        let deadline = Instant::now() + CONNECT_TIMEOUT;
        loop {
            let mut fds = [nix::poll::PollFd::new(
                self.listener.as_fd(),
                nix::poll::PollFlags::POLLIN,
            )];
            match nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(50u8)) {
                Ok(n) if n > 0 => break,
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(format!("poll on the listening socket: {e}")),
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("the worker exited ({status}) before connecting"));
            }
            if Instant::now() > deadline {
                return Err("the worker did not connect in time".into());
            }
        }
        let (stream, _) = self.listener.accept().map_err(|e| format!("accept: {e}"))?;
        stream
            .set_read_timeout(Some(IO_TIMEOUT))
            .and_then(|()| stream.set_write_timeout(Some(IO_TIMEOUT)))
            .map_err(|e| e.to_string())?;
        Ok(stream)
    }
}

/// Starts the worker `role PATH COUNT`, runs `parent` on the accepted connection, reaps the
/// worker and requires it to have succeeded.
fn with_worker<T>(
    exe: &WorkerExe,
    role: &str,
    count: u64,
    parent: impl FnOnce(UnixStream) -> Result<T, String>,
) -> Result<T, String> {
    let sock = Listening::new("uds")?;
    let mut child = exe
        .spawn(&[role.into(), sock.path_arg(), count.to_string()])
        .map_err(|e| format!("cannot start the {role} worker: {e}"))?;
    let result = sock.accept(&mut child).and_then(parent);
    // On failure the worker may be blocked on the socket: reap it at once (killed if need be).
    let timeout = if result.is_ok() {
        Duration::from_secs(30)
    } else {
        Duration::ZERO
    };
    let exit = reap_all(vec![child], timeout).remove(0);
    let value = result?;
    if !exit.success() {
        return Err(format!(
            "the {role} worker failed: {}: {}",
            exit.describe(),
            exit.stdout.trim()
        ));
    }
    Ok(value)
}

/// Messages per second: `n` records from a producer process, one `write` each, read and
/// checked by this process.
pub fn throughput(exe: &WorkerExe, n: u64) -> Result<f64, String> {
    with_worker(exe, "socket-produce", n, |mut s| {
        read_stream_checked(&mut s, n, "Unix socket")
    })
}

/// Nanoseconds of each of `trips` round trips (one `u64` written, the same `u64` read back).
pub fn round_trips(exe: &WorkerExe, trips: u64) -> Result<Vec<u64>, String> {
    with_worker(exe, "echo-socket", trips, |mut s| {
        let mut samples = Vec::with_capacity(trips as usize);
        let mut buf = [0u8; 8];
        for i in 0..trips {
            let t0 = Instant::now();
            s.write_all(&i.to_ne_bytes())
                .and_then(|()| s.read_exact(&mut buf))
                .map_err(|e| format!("Unix socket round trip {i}: {e}"))?;
            samples.push(t0.elapsed().as_nanos() as u64);
            let got = u64::from_ne_bytes(buf);
            if got != i {
                return Err(format!("Unix socket round trip {i}: the echo was {got}"));
            }
        }
        Ok(samples)
    })
}

fn connect(path: &Path) -> Result<UnixStream, String> {
    let s = UnixStream::connect(path).map_err(|e| format!("connect {}: {e}", path.display()))?;
    s.set_read_timeout(Some(IO_TIMEOUT))
        .and_then(|()| s.set_write_timeout(Some(IO_TIMEOUT)))
        .map_err(|e| e.to_string())?;
    Ok(s)
}

/// Worker side of [`throughput`]: records `0..count`, one `write` call each (`write_all` of 16
/// bytes: one call unless the kernel takes part of a record, which it does not on a blocking
/// Unix stream socket with room for it).
pub fn produce(path: &Path, count: u64) -> Result<(), String> {
    let mut s = connect(path)?;
    for seq in 0..count {
        s.write_all(bytemuck::bytes_of(&Record::new(seq)))
            .map_err(|e| format!("write of record {seq}: {e}"))?;
    }
    Ok(())
}

/// Worker side of [`round_trips`]: read one `u64` and write it back, `trips` times.
pub fn echo(path: &Path, trips: u64) -> Result<(), String> {
    let mut s = connect(path)?;
    let mut buf = [0u8; 8];
    for i in 0..trips {
        s.read_exact(&mut buf)
            .and_then(|()| s.write_all(&buf))
            .map_err(|e| format!("round trip {i}: {e}"))?;
    }
    Ok(())
}
