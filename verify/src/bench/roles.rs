//! The bench's own worker roles (`synclab worker ROLE …`), a table owned by `bench` and
//! dispatched from `cli/worker.rs`: the far side of each cross-process peer. Each prints one JSON
//! line (`{"ok": true, …}` or `{"ok": false, "error": …}`) and exits 0 when it succeeded, 1 when
//! not, 2 on bad arguments.

use clap::{CommandFactory, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "synclab worker",
    about = "internal: a worker process of `synclab bench`"
)]
struct BenchCli {
    #[command(subcommand)]
    role: BenchRole,
}

/// What a bench worker does.
#[derive(Subcommand, Debug)]
enum BenchRole {
    /// Echo requests from one spsc ring onto another (REQ RESP TRIPS).
    EchoRings {
        /// Request ring.
        req: String,
        /// Response ring.
        resp: String,
        /// Round trips.
        trips: u64,
    },
    /// Answer cache-line pings (NAME TRIPS).
    EchoLine {
        /// The region.
        name: String,
        /// Round trips.
        trips: u64,
        /// The two-line ping-pong (data and flag on separate lines).
        #[arg(long)]
        two_lines: bool,
    },
    /// Connect to the Unix socket at PATH and write records `0..COUNT`, one `write` each.
    SocketProduce {
        /// The listening socket's path.
        path: PathBuf,
        /// Records to send.
        count: u64,
    },
    /// Connect to the Unix socket at PATH and echo TRIPS `u64` requests.
    EchoSocket {
        /// The listening socket's path.
        path: PathBuf,
        /// Round trips.
        trips: u64,
    },
    /// Open the FIFO at PATH for writing and write records `0..COUNT`, one `write` each.
    PipeProduce {
        /// The FIFO's path.
        path: PathBuf,
        /// Records to send.
        count: u64,
    },
    /// Push COUNT records `ID << 40 | i` into the named mpmc queue.
    BenchMpmcProduce {
        /// The queue's shm name.
        name: String,
        /// The start gate's shm name.
        gate: String,
        /// Producer id (the high bits of its sequence numbers), 0..64.
        #[arg(value_parser = clap::value_parser!(u64).range(0..64))]
        id: u64,
        /// Records to push.
        count: u64,
        /// Records per `push_slice` (1: single `push_until`).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=4096))]
        batch: u64,
    },
    /// Pop records from the named mpmc queue until it is closed and empty, checking each.
    BenchMpmcConsume {
        /// The queue's shm name.
        name: String,
        /// The start gate's shm name.
        gate: String,
        /// Records per `pop_slice` (1: single `pop_until`).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=4096))]
        batch: u64,
    },
    /// Send COUNT frames of SIZE bytes into the named frames ring.
    BenchFramesProduce {
        /// The ring's shm name.
        name: String,
        /// Bytes per frame (at least 16).
        #[arg(value_parser = clap::value_parser!(u64).range(16..))]
        size: u64,
        /// Frames to send.
        count: u64,
        /// Use the default (untrusted) API: `Grant::copy_from_slice` and
        /// `FrameConsumer::recv_into`, instead of the trusted zero-copy views.
        #[arg(long)]
        copying: bool,
    },
    /// Receive COUNT frames of SIZE bytes from the named frames ring, copying each out and
    /// checking it.
    BenchFramesConsume {
        /// The ring's shm name.
        name: String,
        /// Bytes per frame (at least 16).
        #[arg(value_parser = clap::value_parser!(u64).range(16..))]
        size: u64,
        /// Frames to receive.
        count: u64,
        /// Use the default (untrusted) API: `Grant::copy_from_slice` and
        /// `FrameConsumer::recv_into`, instead of the trusted zero-copy views.
        #[arg(long)]
        copying: bool,
    },
    /// iceoryx2: publish COUNT records on SERVICE, iceoryx2 files under ROOT.
    #[cfg(feature = "iceoryx2")]
    Iceoryx2Publish {
        /// The private root directory of iceoryx2's files.
        root: PathBuf,
        /// The service name.
        service: String,
        /// Records to publish.
        count: u64,
        /// The start gate's shm name.
        gate: String,
    },
    /// iceoryx2: echo TRIPS pings from SERVICE-ping on SERVICE-pong, files under ROOT.
    #[cfg(feature = "iceoryx2")]
    Iceoryx2Echo {
        /// The private root directory of iceoryx2's files.
        root: PathBuf,
        /// The service name prefix.
        service: String,
        /// Round trips.
        trips: u64,
    },
}

/// Whether `role` is one of the bench's worker roles.
pub fn is_bench_role(role: &str) -> bool {
    BenchCli::command()
        .get_subcommands()
        .any(|c| c.get_name() == role)
}

/// Runs a bench worker from its arguments (role first). Returns the process exit code.
pub fn run(args: Vec<String>) -> ExitCode {
    let cli = match BenchCli::try_parse_from(std::iter::once("synclab worker".into()).chain(args)) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(2);
        }
    };
    let report = match cli.role {
        BenchRole::EchoRings { req, resp, trips } => {
            super::pingpong::echo_rings(&req, &resp, trips).map(|()| serde_json::json!({}))
        }
        BenchRole::EchoLine {
            name,
            trips,
            two_lines,
        } => super::pingpong::echo_line(&name, trips, two_lines).map(|()| serde_json::json!({})),
        BenchRole::SocketProduce { path, count } => {
            super::unix_socket::produce(&path, count).map(|()| serde_json::json!({}))
        }
        BenchRole::EchoSocket { path, trips } => {
            super::unix_socket::echo(&path, trips).map(|()| serde_json::json!({}))
        }
        BenchRole::PipeProduce { path, count } => {
            super::pipe::produce(&path, count).map(|()| serde_json::json!({}))
        }
        BenchRole::BenchMpmcProduce {
            name,
            gate,
            id,
            count,
            batch,
        } => super::mpmc::produce(&name, &gate, (id, count), batch as usize)
            .map(|()| serde_json::json!({})),
        BenchRole::BenchMpmcConsume { name, gate, batch } => {
            super::mpmc::consume(&name, &gate, batch as usize)
        }
        BenchRole::BenchFramesProduce {
            name,
            size,
            count,
            copying,
        } => super::frames::produce(&name, size as usize, count, copying)
            .map(|()| serde_json::json!({})),
        BenchRole::BenchFramesConsume {
            name,
            size,
            count,
            copying,
        } => super::frames::consume(&name, size as usize, count, copying),
        #[cfg(feature = "iceoryx2")]
        BenchRole::Iceoryx2Publish {
            root,
            service,
            count,
            gate,
        } => {
            super::iceoryx2::publish(&root, &service, count, &gate).map(|()| serde_json::json!({}))
        }
        #[cfg(feature = "iceoryx2")]
        BenchRole::Iceoryx2Echo {
            root,
            service,
            trips,
        } => super::iceoryx2::echo(&root, &service, trips).map(|()| serde_json::json!({})),
    };
    let (json, code) = match report {
        Ok(mut v) => {
            v["ok"] = serde_json::json!(true);
            (v, ExitCode::SUCCESS)
        }
        Err(e) => (
            serde_json::json!({"ok": false, "error": e}),
            ExitCode::from(1),
        ),
    };
    println!("{json}");
    code
}

#[cfg(test)]
mod tests {
    /// clap's own consistency checks of the bench worker command line.
    #[test]
    fn bench_worker_cli_is_consistent() {
        use clap::CommandFactory;
        super::BenchCli::command().debug_assert();
    }
}
